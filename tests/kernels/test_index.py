"""The kernel cache's index: a warm start derives nothing and imports no SymPy; any change to the
generating code, or a damaged entry, derives again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.kernels import facts, index
from chainrule.kernels.cache import module_name

SOURCE = "from numba import njit\n\n\n@njit(cache=True)\ndef thrice(x):\n    return 3.0 * x\n"


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    monkeypatch.setattr(index, "_LOADED", {})
    return tmp_path


def counting(source: str, calls: list[str]):  # type: ignore[no-untyped-def]
    def derive() -> tuple[str, str]:
        calls.append("derived")
        return "t", source
    return derive


def forget(name: str) -> None:
    sys.modules.pop(name, None)


def test_a_recorded_module_is_imported_without_deriving(private_cache):
    calls: list[str] = []
    source = SOURCE + "# recorded\n"
    first = index.indexed_module("test:recorded", counting(source, calls))
    assert first.__name__ == module_name("t", source) and calls == ["derived"]
    forget(first.__name__)
    index._LOADED.clear()  # as a fresh process: the index is read from its file
    second = index.indexed_module("test:recorded", counting(source, calls))
    assert calls == ["derived"] and second.thrice(2.0) == 6.0
    recorded = json.loads(index.index_path().read_text())
    assert recorded["module:test:recorded"] == first.__name__


def test_a_changed_generator_opens_a_new_index(private_cache, monkeypatch):
    calls: list[str] = []
    source = SOURCE + "# stamp\n"
    forget(index.indexed_module("test:stamp", counting(source, calls)).__name__)
    monkeypatch.setattr(index, "generator_stamp", lambda: "0123456789abcdef")
    index.indexed_module("test:stamp", counting(source, calls))
    assert calls == ["derived", "derived"]
    assert (private_cache / "index-0123456789abcdef.json").is_file()


def test_the_stamp_follows_every_file_under_derive_and_kernels(tmp_path):
    for name in ("derive/activations.py", "derive/layers/dense.py", "kernels/update.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "loop.py").write_text("# not a generator\n")
    stamps = {index.generator_stamp.__wrapped__(tmp_path)}
    for name in ("derive/layers/dense.py", "kernels/update.py", "derive/new.py"):
        (tmp_path / name).write_text("# changed\n")
        stamps.add(index.generator_stamp.__wrapped__(tmp_path))
    assert len(stamps) == 4
    (tmp_path / "train" / "loop.py").write_text("# changed\n")
    assert index.generator_stamp.__wrapped__(tmp_path) in stamps
    assert len(index.generator_stamp()) == 16


@pytest.mark.parametrize("damage", ["module file", "entry", "index file"])
def test_a_damaged_entry_or_file_is_derived_again(private_cache, damage):
    calls: list[str] = []
    source = SOURCE + f"# damage {damage}\n"
    name = index.indexed_module("test:damage", counting(source, calls)).__name__
    forget(name)
    index._LOADED.clear()
    if damage == "module file":
        (private_cache / f"{name}.py").write_text(source + "x = 1\n")
    elif damage == "entry":
        index.record("module:test:damage", "../../elsewhere")
    else:
        index.index_path().write_text("[not an index")
    index._LOADED.clear()
    module = index.indexed_module("test:damage", counting(source, calls))
    assert calls == ["derived", "derived"] and module.thrice(1.0) == 3.0
    assert (private_cache / f"{name}.py").read_text() == source


def test_facts_are_derived_once_then_read_back(private_cache, monkeypatch):
    assert facts.get_activation("leaky_relu").name == "leaky_relu"
    assert facts.get_activation("relu").init_family == "he"
    loss = facts.get_loss("ce")
    assert (loss.name, loss.default_output, loss.trainable) == ("softmax_ce", "softmax", True)
    assert facts.get_loss("mse").unit_factor(4) == 0.25
    # as in a fresh process: the registry not imported, and importing it would fail the test
    monkeypatch.setitem(sys.modules, "chainrule.derive.losses", None)
    index._LOADED.clear()
    assert facts.get_loss("mse").unit_factor(4) == 0.25
    assert facts.get_loss("ce").name == "softmax_ce"
    index.record("loss:ce", ["softmax_ce", 3])  # not a well-formed entry: derived again
    with pytest.raises(ImportError):
        facts.get_loss("ce")


def test_an_imported_registry_answers_itself(private_cache, monkeypatch):
    from dataclasses import replace

    from chainrule.derive import activations

    assert facts.get_activation("tanh").init_family == "xavier"  # recorded in the index
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh",
                        replace(activations.ACTIVATIONS["tanh"], init_family="he"))
    assert facts.get_activation("tanh").init_family == "he"  # the live entry, not the record


def test_an_unknown_name_raises_every_time_and_is_not_recorded(private_cache):
    from chainrule.errors import ChainruleError

    for _ in range(2):
        with pytest.raises(ChainruleError):
            facts.get_activation("no_such_activation")
    assert not any("no_such" in key for key in index.entries())


def test_numba_files_are_parsed_again_only_when_they_change(private_cache, monkeypatch):
    folder = private_cache / "__pycache__"
    folder.mkdir()
    (folder / "chainrule_k_t_0123456789abcdef.f-1.py311.nbi").write_bytes(b"\x80\x04K\x01.\x80\x04K\x02.")
    parsed: list[str] = []
    real = index.drop_unreadable_numba_cache
    monkeypatch.setattr(index, "drop_unreadable_numba_cache",
                        lambda f, n: parsed.append(n) or real(f, n))
    for _ in range(2):
        index.check_numba_cache(private_cache, "chainrule_k_t_0123456789abcdef")
    assert len(parsed) == 1
    os.utime(folder / "chainrule_k_t_0123456789abcdef.f-1.py311.nbi", ns=(1, 1))
    index.check_numba_cache(private_cache, "chainrule_k_t_0123456789abcdef")
    assert len(parsed) == 2


CHECK = """
import sys
from chainrule.cli.main import main
sys.argv = ["chainrule", "train", "mlp:2-3-3", "--data", "blobs", "--epochs", "1", "--batch", "8",
            "--limit", "16", "--quiet", "--format", "json"]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
print("SYMPY", "sympy" in sys.modules, file=sys.stderr)
from chainrule.kernels.index import generator_stamp
print("STAMP", generator_stamp(), file=sys.stderr)
"""


def test_a_warm_training_run_does_not_import_sympy() -> None:
    """Fresh processes on the user's kernel cache: the first may derive (and record), the next
    with the same generator stamp trains from the index alone. (A stamp that changed between
    them, as when the sources are being edited, opens a new index: that pair is run again.)"""
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_CACHE"}
    env["NUMBA_NUM_THREADS"] = "1"
    stamps: list[str] = []
    for _ in range(4):
        run = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                             check=False, env=env, timeout=900)
        assert run.returncode == 0, run.stderr
        stamps.append(run.stderr.split("STAMP ")[1].split()[0])
        if len(stamps) > 1 and stamps[-1] == stamps[-2]:
            assert "SYMPY False" in run.stderr, run.stderr
            return
    pytest.fail(f"the generator stamp kept changing: {stamps}")


def test_the_loaders_read_back_the_module_that_deriving_gives(private_cache):
    from chainrule.kernels.cpu import activation, output
    from chainrule.kernels.update import update_module, update_source

    loaders = {
        "act_tanh": (lambda: activation.activation_module("tanh"),
                     lambda: activation.activation_source("tanh")),
        "out_sigmoid_bce": (lambda: output.output_module("sigmoid", "bce"),
                            lambda: output.output_source("sigmoid", "bce")),
        "softmax_ce": (output.softmax_ce_module, output.softmax_ce_source),
        "dropout": (output.dropout_module, output.dropout_source),
        "update": (update_module.__wrapped__, update_source),
    }
    for prefix, (load, source) in loaders.items():
        derived = module_name(prefix, source())
        assert load().__name__ == derived  # recorded
        forget(derived)
        index._LOADED.clear()
        assert load().__name__ == derived  # read back through the index
    assert sorted(key for key in index.entries() if key.startswith("module:")) == [
        "module:act:tanh", "module:dropout", "module:out:sigmoid:bce", "module:softmax_ce",
        "module:update"]
