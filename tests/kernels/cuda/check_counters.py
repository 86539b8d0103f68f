"""Run by test_counters_sim.py under NUMBA_ENABLE_CUDASIM=1: the launch and transfer counts."""

from __future__ import annotations

import numpy as np

from chainrule.kernels.cuda import counters

c = counters.COUNTERS
c.reset()
host = np.arange(6, dtype=np.float32).reshape(2, 3)
dev = counters.to_device(host)
print(f"to_device_transfers {c.transfers}")
zeros = counters.device_zeros((3, 5), np.float32)
print(f"zeros_launches {c.launches}")
print(f"zeros_transfers {c.transfers}")
print(f"zeros_value {np.abs(counters.to_host(zeros)).max()}")
print(f"round_trip {np.abs(counters.to_host(dev) - host).max()}")
out = np.empty_like(host)
counters.to_host(dev, out)
print(f"into_out {np.abs(out - host).max()}")
print(f"transfers_total {c.transfers}")
counters.copy_to_device(host * 2, dev)
print(f"copy_into {np.abs(counters.to_host(dev) - host * 2).max()}")
empty = counters.device_empty(4, np.float64)
print(f"empty_size {empty.size}")
c.reset()
print(f"reset {c.launches + c.transfers}")
print(f"same_stream {int(counters.stream() is counters.stream())}")
