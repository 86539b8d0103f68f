"""Resource tests (issue 9): each huge input is refused with exit status 2 before it can take the
memory or time it asks for.

One child interpreter runs every case under ``resource.setrlimit(RLIMIT_AS, 2 GiB)``, set before
chainrule is imported, and gives each case a fresh ``signal.alarm(10)``: an input that tried to
allocate what it declares would end in MemoryError (exit 1, "internal error") or be killed by the
alarm, and the case would fail. The inputs are small files that *declare* huge sizes (a PNG
header, an npz member's .npy header, IDX dimensions) or small options that *ask* for huge work
(epochs, a spec, an exponent, padding).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import write_tiny_checkpoint

LIMIT_BYTES = 2 * 2**30
ALARM_S = 10
SPEC = "mlp:2-3-2"

CASES: dict[str, list[str]] = {
    "png 20000x20000": ["predict", "{ws}/ck.npz", "--input", "{ws}/bomb.png"],
    "npz declaring 3 GiB": ["evaluate", "{ws}/huge.npz", "--data", "xor"],
    "npz declaring 3 GiB (predict)": ["predict", "{ws}/huge.npz", "--input", "{ws}/x.csv"],
    "idx dims 65536^4": ["predict", "{ws}/ck.npz", "--input", "{ws}/wrap-idx"],
    "idx set dims 65536^3": ["train", "mlp:4-2", "--data", "{ws}/idx-wrap", "--epochs", "1"],
    "/dev/zero as input": ["predict", "{ws}/ck.npz", "--input", "/dev/zero"],
    "perceptron epochs 1e8": ["perceptron", "--data", "xor", "--w", "0,0", "--epochs",
                              "100000000"],
    "train perceptron epochs 1e8": ["train", "perceptron:2", "--data", "xor", "--epochs",
                                    "100000000"],
    "huge spec (summary)": ["summary", "mlp:100000-100000-100000"],
    "huge spec (train)": ["train", "mlp:2-30000-30000-2", "--data", "xor", "--epochs", "1"],
    "huge spec (gradcheck)": ["gradcheck", "mlp:2000-2000-10"],
    "huge batch × layer": ["train", "mlp:2-90000-2", "--data", "xor", "--batch", "100000",
                           "--epochs", "1"],
    "conv filters 1e6": ["summary", "cnn:1x3x3-conv3x3x1000000-dense2"],
    "conv padding 1000 (spec)": ["gradcheck", "cnn:1x3x3-conv3x3x1p1000-dense2"],
    "conv padding 1000 (derive conv)": ["derive", "conv", "--image", "[[1,2,3],[4,5,6],[7,8,9]]",
                                        "--kernel", "[[1,0],[0,1]]", "--padding", "1000"],
    "expression ((9**999)**999)**999": ["derive", "expr", "((9**999)**999)**999", "--wrt", "x"],
    "expression exponent 10**8": ["derive", "expr", "(x+1)**100000000", "--wrt", "x"],
    "expression (x+1)**999": ["derive", "graph", "(x+1)**999", "--at", "x=1"],
}

CHILD = r"""
import json, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from typer.testing import CliRunner
from chainrule.cli.main import load_commands

class Alarm(BaseException):
    pass

def ring(signum, frame):
    raise Alarm()

signal.signal(signal.SIGALRM, ring)
app = load_commands()
results = {{}}
for name, argv in json.loads(sys.argv[1]).items():
    signal.alarm({alarm})
    try:
        result = CliRunner().invoke(app, argv)
        results[name] = {{"code": result.exit_code, "stderr": result.stderr}}
    except Alarm:
        results[name] = {{"code": "alarm", "stderr": ""}}
    finally:
        signal.alarm(0)
    print(json.dumps({{name: results[name]}}), flush=True)
"""


def _png_header(width: int, height: int) -> bytes:
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


def _idx(dims: list[int]) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def _workspace(ws: Path) -> None:
    import zipfile

    arrays = write_tiny_checkpoint(ws / "ck.npz")
    del arrays["param/layer0.weight"]
    np.savez(ws / "huge.npz", **arrays)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (1024, 1024, 768)})  # 3 GiB
    with zipfile.ZipFile(ws / "huge.npz", "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("param/layer0.weight.npy", header.getvalue() + bytes(3 * 2**20))
    (ws / "bomb.png").write_bytes(_png_header(20000, 20000) + bytes(388_000))
    (ws / "wrap-idx").write_bytes(_idx([65536] * 4))
    (ws / "x.csv").write_text("0,0\n1,1\n")
    (ws / "idx-wrap").mkdir()
    for prefix in ("train", "t10k"):
        (ws / "idx-wrap" / f"{prefix}-images-idx3-ubyte").write_bytes(_idx([65536] * 3))
        (ws / "idx-wrap" / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx([2]) + b"\x00\x01")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    ws = tmp_path_factory.mktemp("resources")
    _workspace(ws)
    cases = {name: [arg.replace("{ws}", str(ws)) for arg in argv] for name, argv in CASES.items()}
    child = CHILD.format(limit=LIMIT_BYTES, alarm=ALARM_S)
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", child, json.dumps(cases)], capture_output=True,
                         text=True, env=env, timeout=ALARM_S * len(cases) + 60, check=False)
    found: dict[str, dict] = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            found.update(json.loads(line))
    found["_child"] = {"code": run.returncode, "stderr": run.stderr[-2000:]}
    return found


@pytest.mark.parametrize("name", list(CASES))
def test_huge_input_is_refused_before_the_limit(results: dict[str, dict], name: str) -> None:
    assert name in results, f"the child died before this case: {results['_child']}"
    outcome = results[name]
    lines = [line for line in outcome["stderr"].splitlines() if line.strip()]
    assert outcome["code"] == 2, outcome
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome
    assert "internal error" not in outcome["stderr"] and "MemoryError" not in outcome["stderr"]
