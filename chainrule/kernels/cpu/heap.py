"""Heap settings for the CPU backend: glibc's malloc keeps a training step's buffers mapped.

A training step allocates the same large buffers every time (a conv layer's patches P, its
outputs and gradients: 14 MB for the two-conv net's second conv at batch 64). glibc's malloc
serves a request above ``M_MMAP_THRESHOLD`` with a fresh ``mmap`` and trims the heap's free top
above ``M_TRIM_THRESHOLD``, so each step's buffers came back as new pages, each one a minor page
fault that zeroes 4 KiB (mallopt(3); the thresholds adapt upwards only as far as 32 MiB, and
trimming stays on). Measured on the 2-core EPYC (two-conv net, batch 64, 40 steps after 5,
`getrusage` minor faults, ``bench/heap_faults.py --other 0,128 64,32 64,64 64,256``; in
bench/RESULTS.md): 268-375 faults per step with the defaults, 31 with the thresholds below; with
a trim threshold of 32 MiB 257, of 64 MiB 44, of 256 MiB 31 (so 128 MiB is enough). Setting
the trim threshold alone is far worse (15 179 per step): any ``mallopt`` call turns the adaptive
mmap threshold off, so both are set together. ``CHAINRULE_KEEP_HEAP=0`` leaves malloc
alone. Only glibc has ``mallopt`` with these numbers; elsewhere nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 64 << 20  # requests up to 64 MiB come from the heap and are reused
TRIM_THRESHOLD = 128 << 20  # up to 128 MiB of freed heap stays mapped for the next step


def keep_heap() -> bool:
    """Set glibc's mmap and trim thresholds (above); False where nothing was set."""
    if os.environ.get("CHAINRULE_KEEP_HEAP") == "0" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD,
                                                                       TRIM_THRESHOLD))
