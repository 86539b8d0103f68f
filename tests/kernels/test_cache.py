"""Generated modules: named by the hash of their source, written once, warm in a second process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.kernels.cache import cache_dir, load_source, module_name

SOURCE = "import math\nfrom numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2.0 * x\n"


def test_module_name_is_a_hash_of_the_source() -> None:
    assert module_name("t", SOURCE) == module_name("t", SOURCE)
    assert module_name("t", SOURCE) != module_name("t", SOURCE + "\n")
    assert module_name("t", SOURCE).startswith("chainrule_k_t_")


def test_a_prefix_from_an_activation_name_is_cut_to_an_identifier(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = module_name("act_leaky_relu:0.1", SOURCE)
    digest = module_name("t", SOURCE).rsplit("_", 1)[1]
    assert name == f"chainrule_k_act_leaky_relu_0_1_{digest}"  # the hash part kept
    assert name.isidentifier() and name.isascii()
    assert module_name("act_elu:1/3 é", SOURCE) == f"chainrule_k_act_elu_1_3___{digest}"
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    source = SOURCE + "# test_a_prefix_from_an_activation_name\n"
    module = load_source("act_leaky_relu:0.1", source)
    assert module.twice(1.5) == 3.0
    assert [p.name for p in tmp_path.glob("*.py")] == [f"{module.__name__}.py"]
    assert ":" not in module.__name__


def test_load_writes_once_and_registers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    source = SOURCE + "# test_load_writes_once\n"
    module = load_source("t", source)
    path = tmp_path / f"{module_name('t', source)}.py"
    assert path.read_text() == source
    assert sys.modules[module.__name__] is module
    assert load_source("t", source) is module
    assert module.twice(2.5) == 5.0


def test_cache_dir_defaults_to_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CHAINRULE_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "chainrule" / "kernels"


def test_numba_cache_is_written_beside_the_module(tmp_path: Path) -> None:
    script = ("from chainrule.kernels.cache import load_source\n"
              f"m = load_source('warm', {SOURCE!r})\nprint(m.twice(1.5))\n")
    env = {**os.environ, "CHAINRULE_CACHE": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)  # numba's own override would put the index elsewhere
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True)
        assert done.stdout.strip() == "3.0"
    index_files = list(tmp_path.rglob("*.nbi"))
    assert index_files, "numba wrote no cache index beside the generated module"


@pytest.mark.parametrize("damage", [
    lambda source: source.replace("2.0 * x", "3.0 * x"),  # edited: other code under the same name
    lambda source: source[:len(source) // 2],  # truncated mid-definition: a SyntaxError if run
    lambda source: "\x00\xff garbage \x89PNG",  # not Python at all
])
def test_a_module_that_no_longer_matches_its_hash_is_regenerated(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    source = SOURCE + f"# test_regenerated {id(damage)}\n"
    path = tmp_path / f"{module_name('t', source)}.py"
    path.write_text(damage(source), encoding="utf-8", errors="surrogateescape")
    module = load_source("t", source)
    assert module.twice(2.5) == 5.0
    assert path.read_text() == source


def test_a_folder_at_the_cache_path_is_one_clear_error(tmp_path, monkeypatch):
    from chainrule.errors import ChainruleError
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    source = SOURCE + "# test_folder\n"
    (tmp_path / f"{module_name('t', source)}.py").mkdir()
    with pytest.raises(ChainruleError, match="kernel cache file"):
        load_source("t", source)


def test_a_truncated_numba_cache_file_is_dropped_and_recompiled(tmp_path):
    script = ("from chainrule.kernels.cache import load_source\n"
              f"m = load_source('warm', {SOURCE!r})\nprint(m.twice(1.5))\n")
    env = {**os.environ, "CHAINRULE_CACHE": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, check=True)
    data = sorted(tmp_path.rglob("*.nbc"))
    assert len(data) == 1 and len(sorted(tmp_path.rglob("*.nbi"))) == 1
    data[0].write_bytes(data[0].read_bytes()[:200])  # the index is whole; the code it names is not
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "3.0"), done.stderr[-2000:]
    assert "Error" not in done.stderr


def test_malformed_numba_files_are_found_without_loading_them(tmp_path):
    import pickle

    from chainrule.kernels.cache import drop_unreadable_numba_cache
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    index = cache / "chainrule_k_t_0123.f-5.py311.nbi"
    blob = cache / "chainrule_k_t_0123.f-5.py311.1.nbc"
    other = cache / "chainrule_k_u_4567.f-5.py311.nbi"
    index.write_bytes(pickle.dumps("0.61") + pickle.dumps(((1.0, 2), {"k": blob.name})))
    blob.write_bytes(pickle.dumps((b"code", 1)))
    other.write_bytes(b"\x80\x04garbage")  # another module's: not ours to judge
    assert drop_unreadable_numba_cache(tmp_path, "chainrule_k_t_0123") == []
    for damaged in (pickle.dumps("0.61"), b"\x80\x04\x95garbage", b""):
        index.write_bytes(damaged)  # the second pickle missing, random bytes, empty
        assert drop_unreadable_numba_cache(tmp_path, "chainrule_k_t_0123") == [blob, index]
        assert not index.exists() and not blob.exists() and other.exists()
        blob.write_bytes(pickle.dumps((b"code", 1)))


def test_a_cache_folder_that_others_can_write_is_refused(tmp_path, monkeypatch):
    from chainrule.errors import ChainruleError
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # like /tmp: anyone could plant a pickle for Numba to load
    monkeypatch.setenv("CHAINRULE_CACHE", str(shared))
    with pytest.raises(ChainruleError, match="can be written by other users"):
        cache_dir()
    shared.chmod(0o755)
    assert cache_dir() == shared
    if os.geteuid() != 0:
        return
    os.chown(shared, 65534, 65534)  # another user's folder
    with pytest.raises(ChainruleError, match="can be written by other users"):
        cache_dir()
