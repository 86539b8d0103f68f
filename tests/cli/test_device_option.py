"""``--device`` on train, evaluate, predict, gradcheck and kernels show: an unknown device and
``cuda`` without a GPU (numba.cuda reporting none, no simulator) are one line on stderr, exit 2;
``kernels show --device cuda`` prints sources without a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tiny_checkpoint

from chainrule.kernels import registry


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from numba import cuda
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    monkeypatch.delitem(registry._INSTANCES, "cuda", raising=False)


def _commands(tmp_path: Path) -> list[list[str]]:
    checkpoint = tmp_path / "ck.npz"
    write_tiny_checkpoint(checkpoint)
    rows = tmp_path / "rows.csv"
    rows.write_text("0,1\n1,0\n")
    return [["train", "mlp:2-3-2", "--data", "xor", "--epochs", "1"],
            ["evaluate", str(checkpoint), "--data", "xor"],
            ["predict", str(checkpoint), "--input", str(rows)],
            ["gradcheck", "mlp:2-3-2"]]


def test_cuda_without_a_gpu_is_one_line_exit_2(cli, tmp_path: Path, no_gpu: None) -> None:
    for args in _commands(tmp_path):
        line = cli.fails([*args, "--device", "cuda"])
        assert "--device cuda" in line and "GPU" in line, (args, line)


def test_unknown_device_is_one_line_exit_2(cli, tmp_path: Path) -> None:
    for args in _commands(tmp_path):
        line = cli.fails([*args, "--device", "tpu"])
        assert "unknown" in line and "tpu" in line, (args, line)


def test_evaluate_and_predict_on_cpu_by_default_and_by_name(cli, tmp_path: Path) -> None:
    _, evaluate, predict, _ = _commands(tmp_path)
    assert cli.json([*evaluate, "--device", "cpu"]) == cli.json(evaluate)
    assert cli.json([*predict, "--device", "cpu"]) == cli.json(predict)


def test_kernels_show_cuda_needs_no_gpu(cli, no_gpu: None) -> None:
    payload = cli.json(["kernels", "show", "mlp:4-3-2", "--device", "cuda"])
    assert payload["device"] == "cuda"
    assert any("@cuda.jit" in module["source"] for module in payload["modules"])


@pytest.mark.parametrize("model", ["cnn:1x8x8-conv3x3x2-avgpool2-dense2", "lenet5"])
def test_kernels_show_cuda_is_device_kernels_for_every_layer(cli, model: str) -> None:
    """Every module is cuda.jit kernels with launchers: no np.dot, no njit, no copy between host
    and device (the step included); the CPU's update module, by contrast, is njit with
    blas.matmul."""
    modules = {m["name"]: m["source"] for m in
               cli.json(["kernels", "show", model, "--device", "cuda"])["modules"]}
    assert {"conv", "pool", "dense", "update"} <= set(modules)
    assert any(name.startswith("output") for name in modules)
    for name, source in modules.items():
        assert "@cuda.jit" in source, name
        for host_only in ("np.dot", "@njit", "copy_to_host", "to_device("):
            assert host_only not in source, (name, host_only)
    cpu = {m["name"]: m["source"] for m in cli.json(["kernels", "show", model])["modules"]}
    assert "matmul(" in cpu["update"] and "@cuda.jit" not in cpu["update"]
