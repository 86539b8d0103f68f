"""kernels/cuda/sources.py: every layer kind's CUDA source holds cuda.jit kernels, no np.dot and no
host↔device copy; the generated ones carry the bodies printed from derive/; unknown kinds are a
ChainruleError."""

from __future__ import annotations

import pytest

from chainrule.errors import ChainruleError
from chainrule.kernels.cuda.sources import all_kinds, kernel_source, kernel_sources


def test_every_kind_is_cuda_jit_without_np_dot_or_copies() -> None:
    sources = kernel_sources()
    assert set(sources) == set(all_kinds())
    assert {"dense", "conv", "pool", "softmax_ce", "dropout", "step", "activation:relu",
            "output:sigmoid:bce"} <= set(sources)
    for kind, text in sources.items():
        assert "@cuda.jit" in text, kind
        for banned in ("np.dot", "to_device", "copy_to_host", "@njit"):
            assert banned not in text, (kind, banned)


def test_generated_kinds_print_their_derivations() -> None:
    assert "def g_prime(z, a):" in kernel_source("activation:sigmoid")
    assert "def output_delta(z, a, t):" in kernel_source("output:sigmoid:bce")
    assert "def penalised(w, g, l2, l1):" in kernel_source("step")
    assert "cuda.shared.array" in kernel_source("dense")  # the tiled GEMM


@pytest.mark.parametrize("kind", ["lstm", "activation:", "output:relu", "activation:nope"])
def test_unknown_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ChainruleError):
        kernel_source(kind)
