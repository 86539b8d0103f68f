"""One training step captured into a CUDA graph and replayed (issue 10: ~1.4 µs per kernel replayed
against ~49 µs per numba launch from Python).

The driver API of cuda-bindings (which numba-cuda depends on): ``cuStreamBeginCapture`` on the
backend's numba stream (relaxed mode), the step's launches (recorded, not run),
``cuStreamEndCapture``, ``cuGraphInstantiate``; then ``cuGraphLaunch`` per step (CUDA
Programming Guide, "CUDA Graphs", stream capture). The step reads only fixed device addresses
(kernels/cuda/trainer.py), so each replay is the next step. In the simulator, without
cuda-bindings, or on any error while capturing, :func:`capture_step` returns None with a note,
and the trainer launches the kernels one by one.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainrule.kernels.cuda import counters


def _driver() -> Any:
    """cuda-bindings' driver module (``cuda.bindings.driver``, or ``cuda.cuda`` before 12.6)."""
    try:
        from cuda.bindings import driver
    except ImportError:
        from cuda import cuda as driver  # type: ignore[no-redef]
    return driver


def _check(result: Any, what: str) -> Any:
    """The driver call's results after its CUresult, or RuntimeError naming the call."""
    error, *values = result if isinstance(result, tuple) else (result,)
    if int(error) != 0:
        raise RuntimeError(f"{what} failed: {error}")
    return values[0] if len(values) == 1 else values


def _stream_handle(driver: Any) -> Any:
    """The backend's numba stream as a driver ``CUstream``: by the CUDA stream protocol where the
    stream has it, else from its handle (a ``CUstream`` of the NVIDIA binding, or a ctypes
    pointer in older numba)."""
    stream = counters.stream()
    protocol = getattr(stream, "__cuda_stream__", None)
    if protocol is not None:
        return driver.CUstream(int(protocol()[1]))
    handle = stream.handle
    if isinstance(handle, ctypes.c_void_p):
        return driver.CUstream(int(handle.value or 0))
    return driver.CUstream(int(handle))


@dataclass
class StepGraph:
    """An instantiated graph of one step, launched on the backend's stream."""

    driver: Any
    graph: Any
    executable: Any
    stream: Any
    kernels: int  # kernel launches recorded in the graph

    def replay(self) -> None:
        _check(self.driver.cuGraphLaunch(self.executable, self.stream), "cuGraphLaunch")
        counters.COUNTERS.launches += self.kernels  # the kernels it runs, for launches_per_step


def capture_step(step: Callable[[], None], notes: list[str]) -> StepGraph | None:
    """``step`` captured (its launches recorded, not run: the caller replays the graph for this
    step and each next one) and instantiated; None with a note in ``notes`` when capture is not
    available (the simulator) or fails."""
    if _simulated():
        _note(notes, "the simulator has no CUDA graphs: plain launches")
        return None
    try:
        driver = _driver()
        stream = _stream_handle(driver)
    except Exception as exc:  # noqa: BLE001 - no cuda-bindings: plain launches
        _note(notes, f"no CUDA graph capture ({type(exc).__name__}: {exc}): plain launches")
        return None
    counters.stream().synchronize()
    launches = counters.COUNTERS.launches
    mode = driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED
    try:
        _check(driver.cuStreamBeginCapture(stream, mode), "cuStreamBeginCapture")
        try:
            step()
        finally:
            graph = _check(driver.cuStreamEndCapture(stream), "cuStreamEndCapture")
        executable = _check(driver.cuGraphInstantiate(graph, 0), "cuGraphInstantiate")
    except Exception as exc:  # noqa: BLE001 - any capture error: fall back, say why
        counters.COUNTERS.launches = launches
        _note(notes, f"CUDA graph capture failed ({type(exc).__name__}: {exc}): plain launches")
        return None
    kernels = counters.COUNTERS.launches - launches
    counters.COUNTERS.launches = launches  # recorded, not run: each replay counts them
    return StepGraph(driver, graph, executable, stream, kernels)  # not run yet: replay it


def _simulated() -> bool:
    from numba import config
    return bool(getattr(config, "ENABLE_CUDASIM", False))


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)
