"""Checkpoints: the metadata record, no pickles, atomic writes, clear errors, and the promise that
a resumed run ends with the same weights, bit for bit, as a run never interrupted."""

import json
import zipfile

import numpy as np
import pytest
from conftest import InterruptAt

import chainrule
from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.session import TrainOptions, resume, start


def options(**changes):
    base = {"epochs": 4, "batch": 16, "lr": 0.05, "activation": "tanh", "seed": 3}
    return TrainOptions(**{**base, **changes})


def weights(session):
    return {k: v.copy() for k, v in session.network.params.items()}


def assert_same(a, b):
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_metadata_record(tmp_path):
    out = tmp_path / "ck.npz"
    session = start("mlp:2-5-3", "blobs", options(epochs=2, optimizer="adam", lr=0.01), out=out)
    session.run()
    checkpoint = load_checkpoint(out)
    meta = checkpoint.meta
    assert meta["model"] == {"spec": "mlp:2-5-3", "activation": "tanh",
                             "output_activation": "softmax", "loss": "softmax_ce",
                             "dropout": 0.0, "dtype": "float32"}
    assert meta["data"]["name"] == "blobs" and meta["data"]["n_classes"] == 3
    assert meta["epoch"] == 2 and meta["position"] == 0 and meta["seed"] == 3
    assert meta["optimizer"]["name"] == "adam"
    assert meta["optimizer"]["hyperparameters"]["lr"] == 0.01
    assert meta["optimizer"]["state"] == {"t": 2 * 15}  # 240 training samples / 16 per batch
    assert meta["rng"]["bit_generator"] == "PCG64"
    assert meta["chainrule_version"] == chainrule.__version__
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert_same(checkpoint.params, session.network.params)
    assert set(checkpoint.optimizer) == {f"{slot}/layer{i}.{kind}" for slot in ("m", "v")
                                         for i in (0, 1) for kind in ("weight", "bias")}


def test_no_pickles_and_nothing_left_behind(tmp_path):
    out = tmp_path / "ck.npz"
    start("mlp:2-5-3", "blobs", options(epochs=1), out=out).run()
    with np.load(out, allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)
    assert json.loads(str(np.load(out)["meta"]))["format"] == "chainrule-checkpoint/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_resume_after_an_epoch_is_bitwise_identical(tmp_path, optimizer):
    straight = start("mlp:2-5-3", "blobs", options(optimizer=optimizer, dropout=0.3))
    straight.run()
    out = tmp_path / "ck.npz"
    start("mlp:2-5-3", "blobs", options(optimizer=optimizer, dropout=0.3), out=out).run(epochs=2)
    resumed = resume(out, "mlp:2-5-3", "blobs", epochs=4, out=out)
    resumed.run()
    assert_same(weights(resumed), weights(straight))
    assert [h.loss for h in resumed.state.history] == [h.loss for h in straight.state.history]


def test_resume_after_ctrl_c_mid_epoch_is_bitwise_identical(tmp_path):
    straight = start("mlp:2-5-3", "blobs", options(optimizer="momentum", dropout=0.2))
    straight.run()
    out = tmp_path / "ck.npz"
    interrupted = start("mlp:2-5-3", "blobs", options(optimizer="momentum", dropout=0.2), out=out)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run(callbacks=InterruptAt(3, 5))
    assert load_checkpoint(out).meta["position"] == 5
    resumed = resume(out, "mlp:2-5-3", "blobs", epochs=4)
    resumed.run()
    assert_same(weights(resumed), weights(straight))


def test_checkpoint_from_another_model(tmp_path):
    out = tmp_path / "ck.npz"
    start("mlp:2-5-3", "blobs", options(epochs=1), out=out).run()
    with pytest.raises(ChainruleError, match="from another model .*'mlp:2-5-3'.*not 'mlp:2-6-3'"):
        resume(out, "mlp:2-6-3", "blobs", epochs=2)
    with pytest.raises(ChainruleError, match="trained on data 'blobs', not 'moons'"):
        resume(out, "mlp:2-5-3", "moons", epochs=2)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_not_a_checkpoint(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ChainruleError, match="is not a chainrule checkpoint"):
        load_checkpoint(path)


def test_an_npz_without_metadata(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(ChainruleError, match="is not a chainrule checkpoint"):
        load_checkpoint(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["a.npy"]


def test_missing_checkpoint(tmp_path):
    with pytest.raises(ChainruleError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz")


def test_unwritable_out_fails_before_training(tmp_path):
    with pytest.raises(ChainruleError, match="folder .* does not exist"):
        start("mlp:2-5-3", "blobs", options(), out=tmp_path / "missing" / "ck.npz")
    with pytest.raises(ChainruleError, match="it is a folder"):
        start("mlp:2-5-3", "blobs", options(), out=tmp_path)
