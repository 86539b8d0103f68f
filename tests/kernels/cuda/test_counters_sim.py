"""kernels/cuda/counters.py in Numba's CUDA simulator: copies count as transfers, a zero fill as
one launch and no transfer, and the stream is made once."""

from __future__ import annotations

from sim_helpers import run_check


def test_counters_count_launches_and_transfers() -> None:
    lines = run_check("counters")
    assert lines["to_device_transfers"] == 1
    assert lines["zeros_launches"] == 1
    assert lines["zeros_transfers"] == 1  # the zero fill copied nothing
    assert lines["zeros_value"] == 0
    assert lines["round_trip"] == 0
    assert lines["into_out"] == 0
    assert lines["transfers_total"] == 4  # one up, three down
    assert lines["copy_into"] == 0
    assert lines["empty_size"] == 4
    assert lines["reset"] == 0
    assert lines["same_stream"] == 1
