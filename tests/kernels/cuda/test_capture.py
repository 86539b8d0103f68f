"""kernels/cuda/capture.py without a GPU, against a stand-in driver: the order of the driver calls
(begin capture on the backend's stream, the step, end, instantiate, launch), the launches counted
per replay, and the fallback (None with a note, the counters as they were) on any driver error
and in the simulator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chainrule.kernels.cuda import capture, counters


class FakeDriver:
    """The few cuda-bindings calls capture.py makes, each returning (CUresult, values...)."""

    CUstreamCaptureMode = SimpleNamespace(CU_STREAM_CAPTURE_MODE_RELAXED="relaxed")

    def __init__(self, fail: str = "") -> None:
        self.calls: list[str] = []
        self.fail = fail

    def CUstream(self, address: int) -> tuple[str, int]:
        return ("stream", address)

    def _result(self, name: str, *values: Any) -> tuple[Any, ...]:
        self.calls.append(name)
        return (1 if name == self.fail else 0, *values)

    def cuStreamBeginCapture(self, stream: Any, mode: str) -> tuple[Any, ...]:
        assert stream == ("stream", 1234) and mode == "relaxed"
        return self._result("begin")

    def cuStreamEndCapture(self, stream: Any) -> tuple[Any, ...]:
        return self._result("end", "graph")

    def cuGraphInstantiate(self, graph: Any, flags: int) -> tuple[Any, ...]:
        assert graph == "graph" and flags == 0
        return self._result("instantiate", "exec")

    def cuGraphLaunch(self, executable: Any, stream: Any) -> tuple[Any, ...]:
        assert executable == "exec"
        return self._result("launch")


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
    fake = FakeDriver()
    monkeypatch.setattr(capture, "_simulated", lambda: False)
    monkeypatch.setattr(capture, "_driver", lambda: fake)
    stream = SimpleNamespace(handle=1234, synchronize=lambda: None)
    monkeypatch.setattr(counters, "stream", lambda: stream)
    return fake


def _step(driver: FakeDriver) -> None:
    driver.calls.append("step")
    counters.COUNTERS.launches += 3  # three kernels recorded


def test_capture_then_replay(driver: FakeDriver) -> None:
    counters.COUNTERS.reset()
    notes: list[str] = []
    graph = capture.capture_step(lambda: _step(driver), notes)
    assert graph is not None and graph.kernels == 3 and notes == []
    assert driver.calls == ["begin", "step", "end", "instantiate"]
    assert counters.COUNTERS.launches == 0  # recorded, not run: the caller replays it
    graph.replay()
    assert counters.COUNTERS.launches == 3 and driver.calls[-1] == "launch"


@pytest.mark.parametrize(("failing", "call"), [("begin", "cuStreamBeginCapture"),
                                               ("end", "cuStreamEndCapture"),
                                               ("instantiate", "cuGraphInstantiate")])
def test_any_driver_error_falls_back_with_a_note(driver: FakeDriver, failing: str,
                                                 call: str) -> None:
    driver.fail = failing
    counters.COUNTERS.reset()
    notes: list[str] = []
    assert capture.capture_step(lambda: _step(driver), notes) is None
    assert counters.COUNTERS.launches == 0  # nothing ran: the trainer launches the step itself
    assert len(notes) == 1 and "capture failed" in notes[0] and call in notes[0]


def test_the_simulator_has_no_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "_simulated", lambda: True)
    notes: list[str] = []
    assert capture.capture_step(lambda: None, notes) is None
    assert notes == ["the simulator has no CUDA graphs: plain launches"]
