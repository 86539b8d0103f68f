"""Run under NUMBA_ENABLE_CUDASIM=1 by test_network_sim.py: a network on ``--device cuda``.

Prints ``name value`` lines: gradcheck of three tiny networks (the CUDA kernels' gradients against
float64 central differences), four training steps run by the CUDA chunk trainer against four
``train_step`` calls on the CPU (float32, Adam with an L2 penalty, dropout, a short last batch),
the trainer's counts of launches and host↔device copies inside the steps and at the chunks' edges,
a diverging chunk, evaluate and predict on both devices, and ``train --device cuda --format json``
through the CLI.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from chainrule.cli.main import load_commands
from chainrule.derive.spec import parse_spec
from chainrule.kernels.cuda import trainer as trainer_module
from chainrule.kernels.registry import get_backend
from chainrule.train.gradcheck import gradcheck
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer

GRADCHECKS = ["mlp:4-3-2", "cnn:1x6x6-conv3x3x2-maxpool2-dense2",
              "cnn:1x8x8-conv3x3x2-avgpool2-dense2"]  # the last: LeNet-style, average pooling
for spec in GRADCHECKS:
    result = gradcheck(parse_spec(spec), device="cuda", max_coords=4)
    print(f"gradcheck_{spec} {result.max_rel_err:.3e}")
    print(f"gradcheck_checks_{spec} {len(result.checks)}")



class RecordedStep:
    """A stand-in for a captured CUDA graph (the simulator has none): replaying it runs the step
    it recorded, so the trainer's graph path (capture once, replay per step) runs here too."""

    def __init__(self, step: Callable[[], None]) -> None:
        self.step = step

    def replay(self) -> None:
        self.step()


def record_step(step: Callable[[], None], notes: list[str]) -> RecordedStep:
    return RecordedStep(step)  # like capture_step: recorded, not run


# Four steps with dropout: the CPU's train_step on batches of 2, 2, 2 and 1, the CUDA chunk trainer
# over the same order with the same generator (its first step launched, the next two replayed from
# the stand-in graph, the short last one launched)
SPEC, BATCH, STEPS, SAMPLES = "mlp:4-3-2", 2, 4, 7
rng = np.random.default_rng(0)
x = rng.standard_normal((SAMPLES, 4)).astype(np.float32)
labels = rng.integers(0, 2, SAMPLES)
order = rng.permutation(SAMPLES)
trained = {}
for device in ("cpu", "cuda"):
    net = build_network(parse_spec(SPEC), seed=1, device=device, dropout=0.5)
    optimizer = make_optimizer("adam", net.params, lr=0.05, l2=0.01)
    masks = np.random.default_rng(5)  # the run's generator: the dropout masks
    if device == "cpu":
        losses = []
        for step in range(STEPS):
            index = order[step * BATCH:(step + 1) * BATCH]
            losses.append(net.train_step(x[index], labels[index], optimizer, rng=masks)[0])
    else:
        request = net.chunk_request(x, labels, labels, optimizer, rng=masks)
        trainer = get_backend("cuda").chunk_trainer(request)
        assert trainer is not None
        capture_step, trainer_module.capture_step = trainer_module.capture_step, record_step
        chunk = trainer.train_chunk(order, BATCH, 0, STEPS, np.ones(STEPS))
        trainer_module.capture_step = capture_step
        counts = trainer.counts  # type: ignore[attr-defined]
    trained[device] = {k: v.copy() for k, v in net.params.items()}
diff = max(float(np.max(np.abs(trained["cpu"][k] - trained["cuda"][k]))) for k in trained["cpu"])
moved = max(float(np.max(np.abs(trained["cpu"][k] - build_network(parse_spec(SPEC), seed=1)
                                .params[k]))) for k in trained["cpu"])
print(f"steps_params_max_abs_diff {diff:.3e}")
print(f"steps_params_moved {moved:.3e}")  # the steps did change the weights
sizes = [min(BATCH, SAMPLES - step * BATCH) for step in range(STEPS)]
print(f"steps_loss_sum_diff {abs(chunk.loss_sum - sum(v * n for v, n in zip(losses, sizes))):.3e}")
print(f"steps_batch_losses_diff {float(np.max(np.abs(chunk.batch_losses - losses))):.3e}")
print(f"steps_done {chunk.steps}")
print(f"steps_replayed {counts.graph_steps}")
print(f"steps_transfers_inside {counts.transfers}")
print(f"steps_launches_inside {counts.launches}")
print(f"steps_transfers_at_edges {counts.chunk_transfers}")

# A chunk that diverges stops after its first failing step, as the per-step loop would: the
# device reads the sums once, finds a non-finite update, and replays the chunk step by step
x_big = rng.standard_normal((6, 2)).astype(np.float32) * 100
y_big = rng.integers(0, 2, 6)
nonfinite = {}
for device in ("cpu", "cuda"):
    net = build_network(parse_spec("mlp:2-2"), seed=1, device=device)
    optimizer = make_optimizer("sgd", net.params, lr=1e38)
    if device == "cpu":
        nonfinite[device] = net.train_step(x_big[:2], y_big[:2], optimizer)[2]
    else:
        trainer = get_backend("cuda").chunk_trainer(
            net.chunk_request(x_big, y_big, y_big, optimizer))
        assert trainer is not None
        diverged = trainer.train_chunk(np.arange(6), 2, 0, 3, np.ones(3))
        nonfinite[device] = diverged.nonfinite
print(f"diverged_steps {diverged.steps}")
print(f"diverged_nonfinite_cpu {nonfinite['cpu']}")
print(f"diverged_nonfinite_cuda {nonfinite['cuda']}")

# The CLI: evaluate and predict a checkpoint on the device as on the CPU
runner = CliRunner()
app = load_commands()
with tempfile.TemporaryDirectory() as folder:
    checkpoint, rows = str(Path(folder) / "ck.npz"), Path(folder) / "rows.csv"
    trained = runner.invoke(app, ["train", "mlp:2-3-2", "--data", "xor", "--epochs", "3",
                                  "--batch", "4", "--out", checkpoint, "--format", "json"])
    assert trained.exit_code == 0, trained.output
    rows.write_text("0,1\n1,1\n")
    results = {}
    for device in ("cpu", "cuda"):
        evaluated = runner.invoke(app, ["evaluate", checkpoint, "--data", "xor", "--device",
                                        device, "--format", "json"])
        predicted = runner.invoke(app, ["predict", checkpoint, "--input", str(rows), "--device",
                                        device, "--format", "json"])
        assert evaluated.exit_code == 0 and predicted.exit_code == 0, (evaluated.output,
                                                                       predicted.output)
        results[device] = (json.loads(evaluated.stdout), json.loads(predicted.stdout))
cpu_eval, cpu_pred = results["cpu"]
gpu_eval, gpu_pred = results["cuda"]
print(f"cli_evaluate_loss_diff {abs(cpu_eval['loss'] - gpu_eval['loss']):.3e}")
print(f"cli_evaluate_same_confusion {int(cpu_eval['confusion'] == gpu_eval['confusion'])}")
outputs = [(np.array(p["output"]), np.array(q["output"]))
           for p, q in zip(cpu_pred["predictions"], gpu_pred["predictions"], strict=True)]
print(f"cli_predict_max_diff {max(float(np.max(np.abs(p - q))) for p, q in outputs):.3e}")

# The CLI: a short run on the device reports its counts
done = runner.invoke(app, ["train", "mlp:2-2-2", "--data", "xor", "--epochs", "1",
                                       "--batch", "2", "--device", "cuda", "--format", "json"])
assert done.exit_code == 0, done.output
payload = json.loads(done.stdout)
print(f"cli_chunk_trainer {int(payload['step_path'] == 'chunk trainer')}")
print(f"cli_launches_per_step {payload['launches_per_step']}")
print(f"cli_transfers_per_step {payload['transfers_per_step']}")
print(f"cli_steps {payload['steps']}")
