"""Lowering: SymPy expressions from :mod:`chainrule.derive` printed to Python/Numba source.

:mod:`~chainrule.kernels.printer` prints scalar bodies (``math.*``), :mod:`~chainrule.kernels.cache`
writes each generated module to a file named by the hash of its source so that Numba's
``cache=True`` works across processes, :mod:`~chainrule.kernels.registry` maps a device name to its
backend (``cpu``; ``cuda`` runs the generated per-element kernels with numba.cuda, imported lazily),
:mod:`~chainrule.kernels.update` holds the optimiser steps and :mod:`~chainrule.kernels.source`
collects the source that ``chainrule kernels show`` prints.
"""
