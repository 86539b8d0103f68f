"""The CUDA backend (``--device cuda``): numba.cuda kernels, the data and the weights on the device.

The backend class is :class:`chainrule.kernels.cuda.backend.CudaBackend` (the registry names it,
so this package imports nothing and a CPU run never loads numba.cuda). Its modules: the launch
and copy counters (:mod:`.counters`), the tiled GEMM (:mod:`.gemm`), conv and pool kernels, the
generated kernels printed from the derivations (:mod:`.generated`), the fused reductions + optimiser
step (:mod:`.step`), the lowered layers (:mod:`.layers`, :mod:`.lowering`), the device rules
(:mod:`.updates`), the chunk trainer (:mod:`.trainer`) and CUDA-graph capture (:mod:`.capture`).
"""
