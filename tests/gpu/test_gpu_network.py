"""On a real GPU: gradcheck of LeNet-5 on ``--device cuda``, the CUDA-graph-captured step against
the same step launched kernel by kernel, and one epoch of Fashion-MNIST through the CLI (the chunk
trainer, no host↔device copy inside a step, a sane accuracy)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gpu_helpers import GPU

from chainrule.derive.spec import parse_spec
from chainrule.kernels.registry import get_backend
from chainrule.train.gradcheck import TOLERANCE, gradcheck
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer

pytestmark = GPU


def test_lenet5_passes_gradcheck_on_cuda() -> None:
    result = gradcheck(parse_spec("lenet5"), device="cuda", max_coords=5)
    assert result.passed, result.to_json()
    assert result.max_rel_err < TOLERANCE


def _train(spec: str, *, graphs: bool, steps: int = 8, batch: int = 32) -> tuple[dict, object]:
    net = build_network(parse_spec(spec), seed=3, device="cuda")
    rng = np.random.default_rng(0)
    n = steps * batch
    x = rng.standard_normal((n, *net.spec.input_shape)).astype(np.float32)
    labels = rng.integers(0, net.spec.n_outputs, n)
    optimizer = make_optimizer("momentum", net.params, lr=0.05, l2=1e-4)
    request = net.chunk_request(x, labels, labels, optimizer)
    from chainrule.kernels.cuda.trainer import CudaChunkTrainer
    trainer = CudaChunkTrainer(request, use_graphs=graphs)
    result = trainer.train_chunk(rng.permutation(n), batch, 0, steps, np.linspace(1, 0.5, steps))
    assert result.steps == steps
    return {k: v.copy() for k, v in net.params.items()}, trainer


@pytest.mark.parametrize("spec", ["mlp:784-128-10", "lenet5"])
def test_graph_captured_step_equals_launched_step(spec: str) -> None:
    launched, _ = _train(spec, graphs=False)
    captured, trainer = _train(spec, graphs=True)
    counts = trainer.counts  # type: ignore[attr-defined]
    assert counts.graph_steps > 0, counts.notes  # the graph did replay
    for key, value in launched.items():
        np.testing.assert_allclose(captured[key], value, rtol=0, atol=1e-6, err_msg=key)
    assert counts.transfers == 0


def test_one_fashion_mnist_epoch_on_cuda(cli) -> None:
    from chainrule.errors import ChainruleError
    from chainrule.train.data.discovery import find_named
    try:
        find_named("fashion-mnist")
    except ChainruleError as exc:
        pytest.skip(str(exc))
    get_backend("cuda")
    payload = json.loads(cli.run(["train", "mlp:784-128-10", "--data", "fashion-mnist",
                                  "--epochs", "1", "--batch", "64", "--lr", "0.1",
                                  "--device", "cuda", "--format", "json"]).stdout)
    assert payload["step_path"] == "chunk trainer"
    assert payload["transfers_per_step"] == 0
    assert payload["test_acc"] > 0.80
