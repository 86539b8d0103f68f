"""``chainrule gradcheck``: JSON keys, the rich table, failures and bad input."""

from __future__ import annotations

from pathlib import Path


def test_json_for_an_mlp(cli) -> None:
    payload = cli.json(["gradcheck", "mlp:4-5-3", "--activation", "sigmoid", "--loss", "bce"])
    assert payload["passed"] is True
    assert payload["max_rel_err"] < 1e-6
    assert [c["param"] for c in payload["checks"]] == [
        "dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"]
    assert all(c["rel_err"] < 1e-6 for c in payload["checks"])


def test_json_for_the_small_cnn(cli) -> None:
    payload = cli.json(["gradcheck", "cnn:1x8x8-conv3x3x2-maxpool2-dense3"])
    assert payload["passed"] is True
    assert len(payload["checks"]) == 4


def test_text_table_and_out_file(cli, tmp_path: Path) -> None:
    result = cli.run(["gradcheck", "mlp:2-3-2", "--loss", "mse"])
    assert "dense_2.weight" in result.stdout
    assert "passed: max rel err" in result.stdout
    target = tmp_path / "check.md"
    cli.run(["gradcheck", "mlp:2-3-2", "--format", "markdown", "--out", str(target)])
    assert target.read_text().startswith("| param | size | checked | rel err |")


def test_bad_input_is_one_line(cli) -> None:
    assert cli.fails(["gradcheck", "mlp:4-x"]).startswith("error: bad layer size 'x'")
    assert cli.fails(["gradcheck", "mlp:4-5", "--device", "tpu"]) == \
        "error: unknown device 'tpu': expected one of cpu, cuda"
    assert "cannot train a network" in cli.fails(["gradcheck", "mlp:4-5", "--loss", "none"])
    assert "--samples must be from 1 to 256" in cli.fails(["gradcheck", "mlp:4-5", "--samples", "0"])


def test_cuda_without_a_gpu_says_how_to_simulate(cli) -> None:
    import os

    if os.environ.get("NUMBA_ENABLE_CUDASIM"):
        return  # the simulator counts as a device; tests/kernels/test_cuda_sim.py covers it
    line = cli.fails(["gradcheck", "mlp:2-2", "--device", "cuda"])
    assert line.startswith("error: --device cuda: no CUDA GPU is available")
    assert "NUMBA_ENABLE_CUDASIM=1" in line
