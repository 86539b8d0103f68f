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


# --- tampered checkpoints (issue 9, item 3): every one is one line and exit 2 ------------------

@pytest.fixture(scope="module")
def valid_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("valid") / "ck.npz"
    start("mlp:2-3-2", "xor", options(epochs=1, batch=4, optimizer="adam"), out=out).run()
    return out


def _arrays(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _with_meta(change):
    def tamper(arrays):
        meta = json.loads(str(arrays["meta"]))
        change(meta)
        arrays["meta"] = np.array(json.dumps(meta))
        return arrays
    return tamper


def _set_array(key, value):
    def tamper(arrays):
        arrays[key] = value(arrays[key]) if callable(value) else value
        return arrays
    return tamper


def _drop(key):
    def tamper(arrays):
        del arrays[key]
        return arrays
    return tamper


def _hyper(meta):
    meta["optimizer"]["hyperparameters"]["gamma"] = 0.5


def _nan_weight(weight):
    weight = weight.copy()
    weight[0, 0] = np.nan
    return weight


TAMPERINGS = {
    "extra optimiser hyperparameter": (_with_meta(_hyper), "unknown field.*'gamma'"),
    "extra training option": (_with_meta(lambda m: m["options"].update(momentum=1)),
                              "options has unknown field.*'momentum'"),
    "extra top-level key": (_with_meta(lambda m: m.update(evil=1)), "unknown field.*'evil'"),
    "missing rng": (_with_meta(lambda m: m.pop("rng")), "metadata lacks rng"),
    "missing model spec": (_with_meta(lambda m: m["model"].pop("spec")), "model lacks spec"),
    "epoch as text": (_with_meta(lambda m: m.update(epoch="1")), "epoch must be a whole number"),
    "epoch as true": (_with_meta(lambda m: m.update(epoch=True)), "epoch must be a whole number"),
    "negative position": (_with_meta(lambda m: m.update(position=-1)), "position must be ≥ 0"),
    "negative batch": (_with_meta(lambda m: m["options"].update(batch=-4)),
                       "options.batch must be ≥ 1"),
    "zero lr": (_with_meta(lambda m: m["optimizer"]["hyperparameters"].update(lr=0)),
                "lr must be ≥ 0 and > 0"),
    "beta of 1": (_with_meta(lambda m: m["optimizer"]["hyperparameters"].update(beta1=1.0)),
                  "beta1 must be ≥ 0 and < 1"),
    "NaN lr in the JSON": (_with_meta(lambda m: m["optimizer"]["hyperparameters"].update(
        lr=float("nan"))), "lr must be ≥ 0 and > 0, got nan"),
    "infinite beta in the JSON": (_with_meta(lambda m: m["optimizer"]["hyperparameters"].update(
        beta2=float("inf"))), "beta2 must be ≥ 0 and < 1, got inf"),
    "NaN seconds": (_with_meta(lambda m: m["partial"].update(seconds=float("nan"))),
                    "partial.seconds must be ≥ 0"),
    "unknown activation": (_with_meta(lambda m: m["model"].update(activation="swish")),
                           "unknown activation 'swish'"),
    "unknown loss": (_with_meta(lambda m: m["model"].update(loss="hinge")), "model:.*hinge"),
    "unknown optimiser": (_with_meta(lambda m: m["optimizer"].update(name="rmsprop")),
                          "optimizer.name must be one of"),
    "bad spec": (_with_meta(lambda m: m["model"].update(spec="mlp:2--2")), "model.spec"),
    "spec of another size": (_with_meta(lambda m: m["model"].update(spec="mlp:2-4-2")),
                             r"layer0.weight is float32 \(3, 2\), but its model needs"),
    "float16 dtype": (_with_meta(lambda m: m["model"].update(dtype="float16")),
                      "model.dtype must be float32 or float64"),
    "zero std": (_with_meta(lambda m: m["data"].update(input_norm=[0.5, 0.0])),
                 "input_norm std must be > 0"),
    "regression with classes": (_with_meta(lambda m: m["data"].update(task="regression")),
                                "n_classes must be null"),
    "bad rng state": (_with_meta(lambda m: m["rng"].update(state="x")), "rng is not a PCG64"),
    "history entry with an extra key": (
        _with_meta(lambda m: m["history"][0].update(extra=1)), r"history\[0\] has unknown"),
    "accuracy above 1": (_with_meta(lambda m: m["history"][0].update(test_acc=2)),
                         r"history\[0\].test_acc must be ≥ 0 and ≤ 1"),
    "correct above seen": (_with_meta(lambda m: m["partial"].update(correct=5)),
                           "exceeds partial.seen"),
    "metadata a list": (_set_array("meta", np.array("[1, 2]")), "expected format"),
    "wrong format": (_with_meta(lambda m: m.update(format="other/2")), "expected format"),
    "non-JSON metadata": (_set_array("meta", np.array("{not json")), "metadata is not JSON"),
    "deeply nested metadata": (_set_array("meta", np.array("[" * 100_000)), "not JSON"),
    "metadata not text": (_set_array("meta", np.zeros(3)), "expected one JSON string"),
    "wrong weight shape": (_set_array("param/layer0.weight", np.zeros((2, 3), np.float32)),
                           r"layer0.weight is float32 \(2, 3\), but its model needs"),
    "float64 weights": (_set_array("param/layer0.weight", lambda w: w.astype(np.float64)),
                        "float64"),
    "NaN weights": (_set_array("param/layer0.weight", _nan_weight), "NaN or infinite"),
    "infinite optimiser state": (_set_array("optim/m/layer1.bias", np.full(2, np.inf, np.float32)),
                                 "optim/m/layer1.bias holds NaN or infinite"),
    "missing weight": (_drop("param/layer1.bias"), "missing param/layer1.bias"),
    "missing optimiser slot": (_drop("optim/v/layer0.weight"), "missing optim/v/layer0.weight"),
    "extra array": (_set_array("param/layer9.weight", np.zeros(1, np.float32)),
                    "unexpected param/layer9.weight"),
    "order not a permutation": (_set_array("order", np.array([0, 0, 1])), "not a permutation"),
    "order of floats": (_set_array("order", np.array([0.0, 1.0])), "1-D integer permutation"),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_tampered_checkpoint_is_one_error(cli, valid_checkpoint, tmp_path, name):
    tamper, message = TAMPERINGS[name]
    path = tmp_path / "tampered.npz"
    np.savez(path, **tamper(_arrays(valid_checkpoint)))
    with pytest.raises(ChainruleError, match=message):
        load_checkpoint(path)
    line = cli.fails(["evaluate", str(path), "--data", "xor"])
    assert line.startswith("error: ") and str(path) in line


def test_an_infinite_recorded_loss_is_kept(valid_checkpoint, tmp_path):
    """The NaN stop keeps the last good checkpoint; its history may record an infinite loss."""
    path = tmp_path / "diverging.npz"
    change = _with_meta(lambda m: (m["history"][0].update(loss=float("inf")),
                                   m["partial"].update(loss_sum=float("inf"))))
    np.savez(path, **change(_arrays(valid_checkpoint)))
    assert load_checkpoint(path).meta["history"][0]["loss"] == float("inf")


def test_the_untampered_checkpoint_loads(valid_checkpoint, tmp_path):
    path = tmp_path / "same.npz"
    np.savez(path, **_arrays(valid_checkpoint))
    assert set(load_checkpoint(path).params) == {"layer0.weight", "layer0.bias", "layer1.weight",
                                                 "layer1.bias"}


def test_an_object_array_is_refused_without_unpickling(valid_checkpoint, tmp_path):
    path = tmp_path / "pickle.npz"
    arrays = _arrays(valid_checkpoint)
    arrays["param/layer0.weight"] = np.array([object()] * 6, dtype=object).reshape(3, 2)
    np.savez(path, **arrays)  # numpy pickles the object array into the member
    with pytest.raises(ChainruleError, match="dtype object, which is not a plain number"):
        load_checkpoint(path)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b[:-30],
                                    lambda b: bytes(np.random.default_rng(0).integers(
                                        0, 256, len(b), dtype=np.uint8))])
def test_truncated_or_random_bytes(cli, valid_checkpoint, tmp_path, damage):
    path = tmp_path / "damaged.npz"
    path.write_bytes(damage(valid_checkpoint.read_bytes()))
    with pytest.raises(ChainruleError, match="not a chainrule checkpoint"):
        load_checkpoint(path)
    assert cli.fails(["predict", str(path), "--input", str(path)]).startswith("error: ")


def huge_array_member(shape=(1024, 1024, 768)) -> bytes:
    """A .npy member whose header declares ``shape`` float32 (3 GiB) followed by 1 MB of data."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue() + bytes(2**20)


def test_a_declared_3_gib_array_is_refused_from_its_header(valid_checkpoint, tmp_path):
    path = tmp_path / "huge.npz"
    arrays = _arrays(valid_checkpoint)
    del arrays["optim/m/layer0.weight"]
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as archive:  # that slot again, its header declaring 3 GiB
        archive.writestr("optim/m/layer0.weight.npy", huge_array_member())
    assert path.stat().st_size < 3 * 2**20
    with pytest.raises(ChainruleError, match=r"declares shape \(1024, 1024, 768\) "
                                             r"\(3,221,225,472 bytes\) but holds"):
        load_checkpoint(path)


def test_the_checkpoint_size_cap(valid_checkpoint, monkeypatch):
    monkeypatch.setenv("CHAINRULE_MAX_CHECKPOINT_BYTES", "1000")
    with pytest.raises(ChainruleError, match="is over the limit of 1,000 .*"
                                             "CHAINRULE_MAX_CHECKPOINT_BYTES=N"):
        load_checkpoint(valid_checkpoint)


@pytest.mark.skipif(not __import__("os").path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_not_a_checkpoint():
    with pytest.raises(ChainruleError, match="not a regular file"):
        load_checkpoint("/dev/zero")
