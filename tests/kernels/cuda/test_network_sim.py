"""A network on ``--device cuda`` in Numba's CUDA simulator (check_network.py, one subprocess):
gradcheck passes for an MLP, a small CNN with max pooling and a LeNet-style one with average
pooling; four steps of the CUDA chunk trainer (dropout, a short last batch) equal four CPU
``train_step`` calls with the same generator (float32, within 1e-5); the steps copy nothing between host and device (counted by the backend, which does
count the copies at the chunk's edges); ``train --device cuda --format json`` reports the counts."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

from chainrule.train.gradcheck import TOLERANCE

SPECS = ["mlp:4-3-2", "cnn:1x6x6-conv3x3x2-maxpool2-dense2", "cnn:1x8x8-conv3x3x2-avgpool2-dense2"]


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("network")


def test_gradcheck_passes_on_cuda(lines: dict[str, float]) -> None:
    for spec in SPECS:
        assert lines[f"gradcheck_{spec}"] < TOLERANCE, spec
        assert lines[f"gradcheck_checks_{spec}"] == 5, spec  # 2 weights, 2 biases, the loss


def test_four_device_steps_with_dropout_equal_four_cpu_steps(lines: dict[str, float]) -> None:
    assert lines["steps_done"] == 4
    assert lines["steps_replayed"] == 2  # steps 2 and 3 replayed the recorded step, once each
    assert lines["steps_params_moved"] > 1e-3  # the steps changed the weights
    assert lines["steps_params_max_abs_diff"] < 1e-5
    assert lines["steps_loss_sum_diff"] < 1e-5
    assert lines["steps_batch_losses_diff"] < 1e-5


def test_steps_copy_nothing_between_host_and_device(lines: dict[str, float]) -> None:
    assert lines["steps_transfers_inside"] == 0
    # a two-layer MLP step with dropout: 12 launches (the README's count; 11 without dropout)
    assert lines["steps_launches_inside"] == 12 * 4
    assert lines["steps_transfers_at_edges"] > 0  # the counter does count copies


def test_a_diverging_chunk_stops_after_its_first_bad_step(lines: dict[str, float]) -> None:
    assert lines["diverged_steps"] == 1
    assert lines["diverged_nonfinite_cpu"] > 0
    assert lines["diverged_nonfinite_cuda"] == lines["diverged_nonfinite_cpu"]


def test_evaluate_and_predict_on_cuda_match_the_cpu(lines: dict[str, float]) -> None:
    assert lines["cli_evaluate_loss_diff"] < 1e-5
    assert lines["cli_evaluate_same_confusion"] == 1
    assert lines["cli_predict_max_diff"] < 1e-5


def test_train_json_reports_launches_and_transfers_per_step(lines: dict[str, float]) -> None:
    assert lines["cli_steps"] == 2
    assert lines["cli_launches_per_step"] > 0
    # a run this short may step one call at a time (the loop chunks long epochs only); then each
    # step copies its batch and the weights
    assert (lines["cli_transfers_per_step"] == 0) == (lines["cli_chunk_trainer"] == 1)
