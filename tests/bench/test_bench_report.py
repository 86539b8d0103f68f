"""The bench harness's own logic (bench/report.py, bench/baseline.py, bench/measure.py), without
running any benchmark: sections keep the earlier ones, targets are judged from the ratios, the
step table is parsed, and a git revision unpacks to an importable package."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import baseline
import measure
import report

STEPS = """model    framework    ms/step (median of rounds)  rounds
mlp      baseline                         0.400  [0.400 0.410]
mlp      chainrule                        0.300  [0.300 0.310]
"""


def make_run(**changes: object) -> report.Run:
    figures = {"mlp": {"chainrule": {"seconds_per_epoch": 0.3, "test_acc": 0.87, "peak_rss_mb": 400},
                       "torch": {"seconds_per_epoch": 1.0, "test_acc": 0.868, "peak_rss_mb": 500},
                       "numpy": {"seconds_per_epoch": 0.4, "test_acc": 0.86, "peak_rss_mb": 300}}}
    fields = {"epochs": figures, "epoch_counts": {"mlp": 3}, "startup": {}, "steps": "",
              "baseline": "", "batch": 64, "recipes": {"mlp": ("mlp:784-128-10", "sgd", 0.1)},
              "arguments": ["--models", "mlp"], "began": 0.0, "minutes": 1.0,
              "load": ((0.5, 0.5, 0.5), (0.8, 0.6, 0.6)), "note": "preliminary"}
    return report.Run(**(fields | changes))  # type: ignore[arg-type]


def test_insert_section_keeps_earlier_sections_after_the_new_one(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nintro\n\n## old run\n\nold figures\n")
    report.insert_section(results, "## new run\n\nnew figures\n")
    text = results.read_text()
    assert text.index("intro") < text.index("## new run") < text.index("## old run")
    assert "old figures" in text and text.count("# Benchmark results") == 1


def test_targets_are_judged_from_the_ratios_of_this_run() -> None:
    rows = report.ratio_rows(make_run())
    torch = next(r for r in rows if "PyTorch" in r and "MLP" in r)
    numpy = next(r for r in rows if "NumPy" in r)
    assert "0.30 | ≤ 0.36 | **met**" in torch  # 0.3 / 1.0
    assert "0.75 | ≤ 0.6 | **missed**" in numpy  # 0.3 / 0.4
    assert any("LeNet-5" in r and "not measured" in r for r in rows)


def test_accuracy_gap_is_in_points() -> None:
    table = "\n".join(report.target_table(make_run()))
    assert "+0.20 points | within ±0.5 | **met**" in table


def test_step_table_is_parsed() -> None:
    assert report.step_medians(STEPS) == {("mlp", "baseline"): 0.4, ("mlp", "chainrule"): 0.3}


def test_a_revision_unpacks_to_an_importable_package(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = baseline.checkout("HEAD")
    assert folder.parent == tmp_path / "chainrule-bench"
    assert (folder / "chainrule" / "__init__.py").is_file()
    assert baseline.checkout("HEAD") == folder  # reused, not unpacked again
    assert baseline.resolve(str(folder)) == folder  # a folder is taken as it is
    with pytest.raises(subprocess.CalledProcessError):
        baseline.checkout("no-such-revision-xyz")


def test_measured_run_reports_peak_rss_of_that_child() -> None:
    small = measure.run_measured([sys.executable, "-c", "print('ok')"])
    big = measure.run_measured([sys.executable, "-c",
                                "b = bytearray(200_000_000); b[::4096] = b'x' * len(b[::4096])"])
    assert small.stdout.strip() == "ok"
    assert big.peak_rss_mb > small.peak_rss_mb + 150
    with pytest.raises(RuntimeError, match="exited 3"):
        measure.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_a_failed_worker_shows_as_failed_and_is_not_judged() -> None:
    figures = {"cnn2": {"chainrule": {"error": "IndexError: tuple index out of range"},
                        "torch": {"seconds_per_epoch": 20.0, "test_acc": 0.9, "peak_rss_mb": 900}}}
    run = make_run(epochs=figures, epoch_counts={"cnn2": 2},
                   recipes={"cnn2": ("cnn:1x28x28-conv3x3x32p1-dense10", "adam", 0.001)})
    text = report.section(run)
    assert "| failed | 20 s (90.00%) |" in text
    assert "two-conv net, chainrule: `IndexError: tuple index out of range`" in text
    assert "| two-conv net epoch, chainrule / PyTorch | not measured |" in text
    assert "accuracy" not in text.split("Issue 13's targets")[1]


def test_a_peer_a_model_does_not_run_shows_a_dash_and_the_run_survives_json() -> None:
    figures = {"mlp": make_run().epochs["mlp"],
               "lenet5": {"chainrule": {"seconds_per_epoch": 5.0, "test_acc": 0.85,
                                        "peak_rss_mb": 500}}}
    run = make_run(epochs=figures, epoch_counts={"mlp": 3, "lenet5": 2},
                   recipes={"mlp": ("mlp:784-128-10", "sgd", 0.1), "lenet5": ("lenet5", "sgd", 0.1)})
    again = report.Run(**json.loads(json.dumps(dataclasses.asdict(run))))
    text = report.section(again)
    assert "| LeNet-5, sgd 0.1, 2 | 5 s (85.00%) | — | — |" in text
    assert text == report.section(run)


def test_a_loaded_machine_is_flagged_and_a_quiet_one_is_not() -> None:
    loaded = report.section(make_run(load=((1.5, 1.0, 1.0), (2.0, 2.0, 2.0))))  # 1.5 before
    assert "**Shared machine**" in loaded
    assert "| 0.30 | ≤ 0.36 | met (shared machine: not final) |" in loaded  # speed: not final
    assert "+0.20 points | within ±0.5 | **met**" in loaded  # accuracy does not need a quiet core
    assert "Shared machine" not in report.section(make_run())
    cores = os.cpu_count() or 1  # the bench's own workers keep every core busy
    ends_busy = ((0.5, 0.5, 0.5), (cores + 0.9, 1.0, 1.0))
    assert "Shared machine" not in report.section(make_run(load=ends_busy))
    crowded = ((0.5, 0.5, 0.5), (cores + 1.5, 1.0, 1.0))
    assert "Shared machine" in report.section(make_run(load=crowded))


def test_rounds_keep_the_faster_epoch_and_the_largest_peak_rss() -> None:
    import run as bench_run

    slow = {"seconds_per_epoch": 0.5, "test_acc": 0.87, "peak_rss_mb": 420}
    fast = {"seconds_per_epoch": 0.4, "test_acc": 0.87, "peak_rss_mb": 400}
    both = bench_run.faster(bench_run.faster(None, slow), fast)
    assert both == fast | {"peak_rss_mb": 420, "round_seconds": [0.5, 0.4]}
    assert bench_run.faster(fast, {"error": "failed"}) == fast | {"round_seconds": [0.4, None]}
    assert bench_run.faster({"error": "failed"}, slow) == slow | {"round_seconds": [None, 0.5]}


def test_the_ratios_are_also_given_round_by_round() -> None:
    run = make_run()
    run.epochs["mlp"]["chainrule"]["round_seconds"] = [0.3, 0.33, None]
    run.epochs["mlp"]["torch"]["round_seconds"] = [1.0, 1.1, 0.9]
    text = "\n".join(report.target_table(run))
    assert "MLP / PyTorch 0.30, 0.30, failed" in text
    assert "round by round" not in "\n".join(report.target_table(make_run()))


def test_the_section_says_how_rounds_were_picked() -> None:
    assert "fastest of the rounds (MLP 3)" in report.section(make_run(rounds={"mlp": 3}))
    assert "fastest of the rounds" not in report.section(make_run(rounds={"mlp": 1}))


def test_floor_is_the_products_epoch_over_numpys() -> None:
    run = make_run()
    assert report.floor_lines(run) == []  # not measured: no line
    run.epochs["mlp"]["products"] = {"seconds_per_epoch": 0.22, "test_acc": None, "peak_rss_mb": 1}
    line = report.floor_lines(run)[0]
    assert "0.22 s" in line and "**0.55 × NumPy's whole epoch**" in line  # 0.22 / 0.4
    table = "\n".join(report.epoch_table(run))
    assert "| 0.22 s |" in table and "(87.00%)" in table  # no accuracy for the floor
