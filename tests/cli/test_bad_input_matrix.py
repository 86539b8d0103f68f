"""The bad-input matrix (issue 9): every command × every class of bad input.

Each case must end with exit status 2 and exactly one line on stderr, with no traceback; it must
leave no file behind and change nothing that already exists (the workspace and the current folder
are snapshotted before and after, by name, kind, size, mode and modification time). The classes:

malformed · wrong type · out of range · unknown name · missing file · wrong kind of file ·
device or folder as a file · unwritable output · too large · non-finite

Cases run in-process through typer's CliRunner, on tiny inputs; no case trains or compiles
anything, because each one must be refused before the work starts. A case that could hang or eat
memory if it failed (reading a device or a FIFO) runs in a child process instead, with a timeout
and 2 GiB of address space.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import app, write_tiny_checkpoint
from typer.testing import CliRunner

CLASSES = ("malformed", "wrong type", "out of range", "unknown name", "missing file",
           "wrong kind of file", "device or folder", "unwritable output", "too large",
           "non-finite")
CK = "{ws}/ck.npz"
DEVICE = "/dev/zero"
UNWRITABLE = ("/proc/chainrule-matrix.json", "{ws}/missing/out.txt", "{ws}/existing.txt/out.txt")
SPEC = "mlp:2-3-2"
SUBPROCESS = "MATRIX_SUBPROCESS"  # run this case in a child with a timeout and RLIMIT_AS
SUBPROCESS_TIMEOUT_S = 10
SMALL_CAP = 2**21  # CHAINRULE_MAX_INPUT_BYTES for the gzip case: the same cut, 128 times cheaper


def _png_header(width: int, height: int) -> bytes:
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


def _idx(dims: list[int], type_byte: int = 0x08, data: bytes = b"") -> bytes:
    return bytes([0, 0, type_byte, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


def _huge_member() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (1024, 1024, 768)})
    return buffer.getvalue() + bytes(1024)


def _gzip_zeros(head: bytes, n_zeros: int) -> bytes:
    """gzip of ``head`` and ``n_zeros`` zero bytes, compressed in 1 MiB pieces (~260 KB out)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(head)
        chunk = bytes(2**20)
        for _ in range(n_zeros // len(chunk)):
            handle.write(chunk)
        handle.write(bytes(n_zeros % len(chunk)))
    return buffer.getvalue()


def _write_idx_set(folder: Path, n_train: int, *, side: int = 2) -> None:
    from chainrule.train.data import write_idx

    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", 2)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte",
                  rng.integers(0, 256, (n, side, side), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 2).astype(np.uint8))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Every file the cases read, written once; the snapshot checks that none of it changes."""
    ws = tmp_path_factory.mktemp("matrix")
    arrays = write_tiny_checkpoint(ws / "ck.npz", optimizer="adam")
    record = json.loads(str(arrays["meta"]))
    record["optimizer"]["hyperparameters"]["gamma"] = 0.5
    np.savez(ws / "tampered.npz", **{**arrays, "meta": np.array(json.dumps(record))})
    np.savez(ws / "nan-weights.npz",
             **{**arrays, "param/layer0.weight": np.full((3, 2), np.nan, np.float32)})
    del arrays["optim/m/layer0.weight"]
    np.savez(ws / "huge.npz", **arrays)
    import zipfile
    with zipfile.ZipFile(ws / "huge.npz", "a") as archive:
        archive.writestr("optim/m/layer0.weight.npy", _huge_member())
    (ws / "data.csv").write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    (ws / "three.csv").write_text("a,b,c,y\n0,0,0,0\n1,1,1,1\n")
    (ws / "nan.csv").write_text("x1,x2,y\n0,0,0\nnan,1,1\n1,0,1\n1,1,0\n")
    (ws / "inf.csv").write_text("x1,x2,y\n0,0,0\ninf,1,1\n")
    (ws / "big.csv").write_text("x1,x2,y\n0,0,0\n1e38,1,1\n1,0,1\n1,1,0\n")
    (ws / "ragged.csv").write_text("x1,x2,y\n0,0,0\n1,1\n")
    (ws / "words.csv").write_text("x1,x2,y\n0,zero,0\n1,one,1\n")
    (ws / "labels.csv").write_text("x1,x2,y\n0,0,0.5\n1,1,7.25\n")
    (ws / "text.txt").write_text("hello, world\n")
    (ws / "existing.txt").write_text("keep me\n")
    (ws / "empty.npz").write_bytes(b"")
    (ws / "bomb.png").write_bytes(_png_header(20000, 20000) + bytes(4096))
    (ws / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 10)
    (ws / "wrap-idx").write_bytes(_idx([65536] * 4))
    (ws / "nan-idx").write_bytes(_idx([1, 2], 0x0D, struct.pack(">2f", 0.0, float("nan"))))
    (ws / "inf-idx").write_bytes(_idx([1, 2], 0x0D, struct.pack(">2f", 0.0, float("inf"))))
    (ws / "short-idx").write_bytes(_idx([3, 2], 0x08, b"\x01"))
    (ws / "bomb-idx.gz").write_bytes(_gzip_zeros(_idx([2**11, 2**10]), SMALL_CAP + 1))
    _write_idx_set(ws / "idx", 4)
    _write_idx_set(ws / "idx-empty", 0)
    (ws / "idx-wrap").mkdir()
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        (ws / "idx-wrap" / name).write_bytes(_idx([65536] * 3))
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (ws / "idx-wrap" / name).write_bytes(_idx([2], 0x08, b"\x00\x01"))
    (ws / "folder").mkdir()
    os.mkfifo(ws / "fifo")  # reading it would block: it must be refused by its kind
    (ws / "link.txt").symlink_to(ws / "existing.txt")  # --out through a link is refused
    return ws


def case(command: str, klass: str, *args: str, env: dict[str, str] | None = None) -> pytest.param:
    assert klass in CLASSES, klass
    words = command.split()
    text = " ".join(args)
    short = text if len(text) <= 80 else f"{text[:40]}…{text[-36:]}"
    return pytest.param(klass, [*words, *args], env or {}, id=f"{command}|{klass}|{short}")


def _outs(command: str, *prefix: str) -> list[pytest.param]:
    """Unwritable --out for a command (prefix: the rest of a valid command line)."""
    cases = [case(command, "unwritable output", *prefix, "--out", target) for target in UNWRITABLE]
    cases.append(case(command, "device or folder", *prefix, "--out", "{ws}/folder"))
    cases.append(case(command, "unwritable output", *prefix, "--out", "/dev/full"))
    cases.append(case(command, "wrong kind of file", *prefix, "--out", "{ws}/link.txt"))
    return cases


EXPR = "derive expr"
GRAPH = "derive graph"
NEURON = "derive neuron"
NET = "derive net"
CONV = "derive conv"
IMAGE = "[[1,2,3],[4,5,6],[7,8,9]]"
KERNEL = "[[1,0],[0,1]]"

CASES = [
    # derive expr
    case(EXPR, "malformed", "x**", "--wrt", "x"),
    case(EXPR, "malformed", "(x+1", "--wrt", "x"),
    case(EXPR, "malformed", "x", "--wrt", "x", "--at", "x=="),
    case(EXPR, "malformed", "__import__('os')", "--wrt", "x"),
    case(EXPR, "wrong type", "x*y", "--wrt", "x", "--at", "x=abc"),
    case(EXPR, "wrong type", "x", "--wrt", "2"),
    case(EXPR, "wrong type", "x", "--wrt", "x", "--format", "pdf"),
    case(EXPR, "out of range", "exp(exp(exp(x)))", "--wrt", "x", "--at", "x=1000"),
    case(EXPR, "out of range", "x", "--wrt", "x", "--at", "x=1e400"),
    case(EXPR, "unknown name", "frobnicate(x)", "--wrt", "x"),
    case(EXPR, "unknown name", "x*y", "--wrt", "sin"),
    case(EXPR, "too large", "((9**999)**999)**999", "--wrt", "x"),
    case(EXPR, "too large", "(9**99)**99*x", "--wrt", "x"),
    case(EXPR, "too large", "(x+1)**999", "--wrt", "x"),
    case(EXPR, "too large", "+".join(["x"] * 5000), "--wrt", "x"),
    case(EXPR, "non-finite", "x", "--wrt", "x", "--at", "x=nan"),
    case(EXPR, "non-finite", "1e309*x", "--wrt", "x"),
    case(EXPR, "non-finite", "x/0", "--wrt", "x"),
    case(EXPR, "non-finite", "log(0)*x", "--wrt", "x"),
    *_outs(EXPR, "x*x", "--wrt", "x"),
    # derive graph
    case(GRAPH, "malformed", "x*", "--at", "x=1"),
    case(GRAPH, "malformed", "x*y", "--at", "x=1,,y"),
    case(GRAPH, "wrong type", "x*y", "--at", "x=1,y=[[1,2]"),
    case(GRAPH, "wrong type", "x*y", "--at", "x=1,y=2", "--format", "yaml"),
    case(GRAPH, "out of range", "exp(x)", "--at", "x=100000"),
    case(GRAPH, "unknown name", "wibble(x)", "--at", "x=1"),
    case(GRAPH, "too large", "x**100000", "--at", "x=1"),
    case(GRAPH, "non-finite", "x*y", "--at", "x=inf,y=1"),
    case(GRAPH, "non-finite", "x*y", "--at", "x=nan,y=1"),
    *_outs(GRAPH, "x*y", "--at", "x=1,y=2"),
    case(GRAPH, "unwritable output", "x*y", "--at", "x=1,y=2", "--plot",
         "/proc/chainrule-matrix.png"),
    case(GRAPH, "device or folder", "x*y", "--at", "x=1,y=2", "--plot", "{ws}/folder"),
    # derive neuron
    case(NEURON, "malformed", "--at", "x=[1,2],w=[0.5"),
    case(NEURON, "malformed", "--at", "x=[1,2]w=[1,2]"),
    case(NEURON, "wrong type", "--at", "x=[1,2],w=[0.5,a],b=0,t=1"),
    case(NEURON, "wrong type", "--at", "x=[1,2],w=[0.5,1,2],b=0,t=1"),
    case(NEURON, "out of range", "--activation", "leaky_relu:-5"),
    case(NEURON, "out of range", "--activation", "elu:-1"),
    case(NEURON, "unknown name", "--activation", "swish"),
    case(NEURON, "unknown name", "--loss", "hinge"),
    case(NEURON, "unknown name", "--at", "q=[1],w=[1],b=0,t=1"),
    case(NEURON, "too large", "--at", "x=[" + ",".join(["1"] * 100_000) + "],w=1,b=0,t=1"),
    case(NEURON, "non-finite", "--at", "x=[nan],w=[1],b=0,t=1"),
    case(NEURON, "non-finite", "--at", "x=[1],w=[inf],b=0,t=1"),
    *_outs(NEURON),
    # derive net
    case(NET, "malformed", "mlp:2--2"),
    case(NET, "malformed", "mlp:2²-4"),
    case(NET, "wrong type", "mlp:2-x-2"),
    case(NET, "wrong type", SPEC, "--format", "html"),
    case(NET, "out of range", "mlp:0-2"),
    case(NET, "out of range", "cnn:1x3x3-conv5x5x1-dense2"),
    case(NET, "unknown name", "transformer:12"),
    case(NET, "unknown name", SPEC, "--activation", "gelu"),
    case(NET, "unknown name", SPEC, "--penalty", "l3"),
    case(NET, "wrong type", SPEC, "--dropout", "half"),
    case(NET, "out of range", SPEC, "--dropout", "1.5"),
    case(NET, "out of range", SPEC, "--l2", "-0.1"),
    case(NET, "non-finite", SPEC, "--l1", "nan"),
    case(NET, "too large", "mlp:2-100000000-2"),
    case(NET, "too large", "mlp:" + "-".join(["4"] * 3000)),
    case(NET, "non-finite", SPEC, "--activation", "elu:nan"),
    *_outs(NET, SPEC),
    # derive conv
    case(CONV, "malformed", "--image", "[[1,2],[3,4]", "--kernel", KERNEL),
    case(CONV, "wrong type", "--image", "[[1,2],[3,x]]", "--kernel", KERNEL),
    case(CONV, "wrong type", "--image", IMAGE, "--kernel", KERNEL, "--stride", "two"),
    case(CONV, "wrong type", "--image", "[[1,2],[3]]", "--kernel", KERNEL),
    case(CONV, "out of range", "--image", IMAGE, "--kernel", KERNEL, "--stride", "0"),
    case(CONV, "out of range", "--image", "[[1]]", "--kernel", IMAGE),
    case(CONV, "too large", "--image", IMAGE, "--kernel", KERNEL, "--padding", "1000"),
    case(CONV, "too large", "--image", "[" + ",".join(["[1]"] * 100) + "]", "--kernel", "[[1]]"),
    case(CONV, "non-finite", "--image", "[[1,nan],[3,4]]", "--kernel", KERNEL),
    case(CONV, "non-finite", "--image", IMAGE, "--kernel", "[[1,0],[0,inf]]"),
    *_outs(CONV, "--image", IMAGE, "--kernel", KERNEL),
    # perceptron
    case("perceptron", "malformed", "--data", "or", "--w", "0,,0"),
    case("perceptron", "malformed", "--patterns", "[[1,2],[3", "--targets", "[1,0]", "--w", "0,0"),
    case("perceptron", "wrong type", "--data", "or", "--w", "a,b"),
    case("perceptron", "wrong type", "--data", "or", "--w", "0,0", "--epochs", "ten"),
    case("perceptron", "wrong type", "--data", "{ws}/words.csv", "--w", "0,0"),
    case("perceptron", "out of range", "--data", "or", "--w", "0,0", "--epochs", "0"),
    case("perceptron", "out of range", "--patterns", "[[1,2]]", "--targets", "[2]", "--w", "0,0"),
    case("perceptron", "unknown name", "--data", "xnor", "--w", "0,0"),
    case("perceptron", "unknown name", "--data", "or", "--at", "q=1,w=[0,0]"),
    case("perceptron", "malformed", "--data", "or", "--at", "w=[0,0"),
    case("perceptron", "non-finite", "--data", "or", "--at", "w=[0,inf]"),
    case("perceptron", "missing file", "--data", "{ws}/none.csv", "--w", "0,0"),
    case("perceptron", "missing file", "--data", "{ws}/missing/none.csv", "--w", "0,0"),
    case("perceptron", "wrong kind of file", "--data", "{ws}/ck.npz", "--w", "0,0"),
    case("perceptron", "wrong kind of file", "--data", "{ws}/ragged.csv", "--w", "0,0"),
    case("perceptron", "device or folder", "--data", DEVICE, "--w", "0,0"),
    case("perceptron", "device or folder", "--data", "{ws}/folder", "--w", "0,0"),
    case("perceptron", "device or folder", "--data", "{ws}/fifo", "--w", "0,0"),
    case("perceptron", "too large", "--data", "xor", "--w", "0,0", "--epochs", "100000000"),
    case("perceptron", "too large", "--data", "{ws}/big.csv", "--w", "0,0"),
    case("perceptron", "non-finite", "--data", "{ws}/nan.csv", "--w", "0,0"),
    case("perceptron", "non-finite", "--data", "or", "--w", "0,0", "--lr", "nan"),
    case("perceptron", "non-finite", "--data", "or", "--w", "inf,0"),
    *_outs("perceptron", "--data", "or", "--w", "0,0"),
    # summary
    case("summary", "malformed", "mlp:"),
    case("summary", "malformed", "mlp:2²-4"),
    case("summary", "wrong type", "mlp:two-4"),
    case("summary", "wrong type", SPEC, "--format", "csv"),
    case("summary", "out of range", "cnn:1x2x2-conv5x5x1-dense2"),
    case("summary", "out of range", "mlp:2-0-2"),
    case("summary", "unknown name", "resnet50"),
    case("summary", "unknown name", SPEC, "--convention", "torch"),
    case("summary", "too large", "mlp:100000-100000-100000"),
    case("summary", "too large", "x" * 100_000),
    case("summary", "non-finite", "mlp:nan-2"),
    *_outs("summary", SPEC),
    # rules
    case("rules", "unknown name", "chian"),
    case("rules", "wrong type", "--format", "latex"),
    *_outs("rules"),
    # train
    case("train", "malformed", "mlp:2-3-", "--data", "xor", "--epochs", "1"),
    case("train", "wrong type", SPEC, "--data", "xor", "--epochs", "one"),
    case("train", "wrong type", SPEC, "--data", "xor", "--lr", "fast"),
    case("train", "wrong type", SPEC, "--data", "{ws}/words.csv", "--epochs", "1"),
    case("train", "out of range", SPEC, "--data", "xor", "--batch", "0"),
    case("train", "out of range", SPEC, "--data", "xor", "--epochs", "-1"),
    case("train", "out of range", SPEC, "--data", "xor", "--seed", "-1"),
    case("train", "out of range", SPEC, "--data", "xor", "--dropout", "1.5", "--epochs", "1"),
    case("train", "out of range", SPEC, "--data", "xor", "--lr", "-1", "--epochs", "1"),
    case("train", "out of range", "mlp:2-3-5", "--data", "{ws}/labels.csv", "--epochs", "1",
         "--loss", "softmax_ce"),
    case("train", "unknown name", SPEC, "--data", "nosuchset", "--epochs", "1"),
    case("train", "unknown name", SPEC, "--data", "xor", "--optimizer", "rmsprop"),
    case("train", "unknown name", SPEC, "--data", "xor", "--activation", "swish"),
    case("train", "unknown name", SPEC, "--data", "xor", "--device", "tpu"),
    case("train", "unknown name", SPEC, "--data", "xor", "--bogus"),
    case("train", "missing file", SPEC, "--data", "{ws}/none.csv", "--epochs", "1"),
    case("train", "missing file", SPEC, "--data", "{ws}/no-such-folder/", "--epochs", "1"),
    case("train", "missing file", SPEC, "--data", "xor", "--resume", "{ws}/none.npz"),
    case("train", "wrong kind of file", SPEC, "--data", "{ws}/text.txt", "--epochs", "1"),
    case("train", "wrong kind of file", SPEC, "--data", "{ws}/three.csv", "--epochs", "1"),
    case("train", "wrong kind of file", SPEC, "--data", "xor", "--resume", "{ws}/text.txt",
         "--epochs", "2"),
    case("train", "wrong kind of file", SPEC, "--data", "xor", "--resume", "{ws}/tampered.npz",
         "--epochs", "2"),
    case("train", "wrong kind of file", SPEC, "--data", "{ws}/idx-empty", "--epochs", "1"),
    case("train", "device or folder", SPEC, "--data", DEVICE, "--epochs", "1"),
    case("train", "device or folder", SPEC, "--data", "{ws}/folder", "--epochs", "1"),
    case("train", "device or folder", SPEC, "--data", "{ws}/fifo", "--epochs", "1"),
    case("train", "device or folder", SPEC, "--data", "xor", "--resume", "{ws}/fifo",
         "--epochs", "2"),
    case("train", "device or folder", SPEC, "--data", "xor", "--resume", "{ws}/folder",
         "--epochs", "2"),
    case("train", "device or folder", SPEC, "--data", "xor", "--epochs", "1", "--out",
         "{ws}/folder"),
    *[case("train", "unwritable output", SPEC, "--data", "xor", "--epochs", "1", "--out", t)
      for t in UNWRITABLE],
    case("train", "wrong kind of file", SPEC, "--data", "xor", "--epochs", "1", "--out",
         "{ws}/link.txt"),
    case("train", "unwritable output", SPEC, "--data", "xor", "--epochs", "1", "--plot",
         "/proc/chainrule-matrix.png"),
    case("train", "unwritable output", SPEC, "--data", "xor", "--epochs", "1", "--out",
         "{ws}/same.npz", "--plot", "{ws}/same.npz"),
    case("train", "too large", "mlp:2-100000000-2", "--data", "xor", "--epochs", "1"),
    case("train", "too large", "mlp:2-30000-30000-2", "--data", "xor", "--epochs", "1"),
    case("train", "too large", SPEC, "--data", "{ws}/big.csv", "--epochs", "1"),
    case("train", "too large", "mlp:4-2", "--data", "{ws}/idx-wrap", "--epochs", "1"),
    case("train", "too large", "perceptron:2", "--data", "xor", "--epochs", "100000000"),
    case("train", "non-finite", SPEC, "--data", "{ws}/nan.csv", "--epochs", "1"),
    case("train", "non-finite", SPEC, "--data", "{ws}/inf.csv", "--epochs", "1"),
    case("train", "non-finite", SPEC, "--data", "xor", "--lr", "nan", "--epochs", "1"),
    case("train", "non-finite", SPEC, "--data", "xor", "--l2", "inf", "--epochs", "1"),
    case("train", "non-finite", SPEC, "--data", "xor", "--resume", "{ws}/nan-weights.npz",
         "--epochs", "2"),
    # gradcheck
    case("gradcheck", "malformed", "mlp:2-"),
    case("gradcheck", "wrong type", SPEC, "--seed", "x"),
    case("gradcheck", "wrong type", SPEC, "--samples", "many"),
    case("gradcheck", "out of range", SPEC, "--seed", "-1"),
    case("gradcheck", "out of range", SPEC, "--samples", "0"),
    case("gradcheck", "out of range", SPEC, "--coords", "-3"),
    case("gradcheck", "unknown name", SPEC, "--activation", "swish"),
    case("gradcheck", "unknown name", SPEC, "--loss", "hinge"),
    case("gradcheck", "unknown name", SPEC, "--device", "tpu"),
    case("gradcheck", "too large", "mlp:1000-1000-1000"),
    case("gradcheck", "too large", "cnn:1x3x3-conv3x3x1000000-dense2"),
    case("gradcheck", "too large", "cnn:1x3x3-conv3x3x1p1000-dense2"),
    case("gradcheck", "non-finite", SPEC, "--activation", "leaky_relu:nan"),
    *_outs("gradcheck", SPEC),
    # evaluate
    case("evaluate", "malformed", "{ws}/ck.npz", "--data", "xor", "--split", ""),
    case("evaluate", "wrong type", "{ws}/ck.npz", "--data", "{ws}/words.csv"),
    case("evaluate", "out of range", "{ws}/ck.npz", "--data", "{ws}/labels.csv"),
    case("evaluate", "unknown name", "{ws}/ck.npz", "--data", "nosuchset"),
    case("evaluate", "unknown name", "{ws}/ck.npz", "--data", "xor", "--split", "dev"),
    case("evaluate", "missing file", "{ws}/none.npz", "--data", "xor"),
    case("evaluate", "missing file", "{ws}/ck.npz", "--data", "{ws}/none.csv"),
    case("evaluate", "missing file", "{ws}/ck.npz", "--data", "{ws}/no-such-folder/"),
    case("evaluate", "wrong kind of file", "{ws}/text.txt", "--data", "xor"),
    case("evaluate", "wrong kind of file", "{ws}/empty.npz", "--data", "xor"),
    case("evaluate", "wrong kind of file", "{ws}/tampered.npz", "--data", "xor"),
    case("evaluate", "wrong kind of file", "{ws}/ck.npz", "--data", "blobs"),
    case("evaluate", "wrong kind of file", "{ws}/ck.npz", "--data", "{ws}/idx-empty"),
    case("evaluate", "device or folder", DEVICE, "--data", "xor"),
    case("evaluate", "device or folder", "{ws}/folder", "--data", "xor"),
    case("evaluate", "device or folder", "{ws}/ck.npz", "--data", DEVICE),
    case("evaluate", "device or folder", "{ws}/ck.npz", "--data", "{ws}/fifo"),
    case("evaluate", "device or folder", "{ws}/fifo", "--data", "xor"),
    case("evaluate", "too large", "{ws}/huge.npz", "--data", "xor"),
    case("evaluate", "too large", "{ws}/ck.npz", "--data", "{ws}/big.csv"),
    case("evaluate", "non-finite", "{ws}/nan-weights.npz", "--data", "xor"),
    case("evaluate", "non-finite", "{ws}/ck.npz", "--data", "{ws}/nan.csv"),
    *_outs("evaluate", "{ws}/ck.npz", "--data", "xor"),
    # predict
    case("predict", "malformed", CK, "--input", "{ws}/ragged.csv"),
    case("predict", "malformed", CK, "--input", "{ws}/short-idx"),
    case("predict", "malformed", CK, "--input", "{ws}/bad.png"),
    case("predict", "wrong type", CK, "--input", "{ws}/words.csv"),
    case("predict", "wrong type", CK, "--input", "{ws}/data.csv", "--format", "latex"),
    case("predict", "out of range", CK, "--input", "{ws}/three.csv"),
    case("predict", "unknown name", CK, "--input", "{ws}/data.csv", "--format", "xml"),
    case("predict", "missing file", "{ws}/none.npz", "--input", "{ws}/data.csv"),
    case("predict", "missing file", CK, "--input", "{ws}/none.csv"),
    case("predict", "missing file", CK, "--input", "{ws}/none-idx.gz"),
    case("predict", "wrong kind of file", "{ws}/data.csv", "--input", "{ws}/data.csv"),
    case("predict", "wrong kind of file", "{ws}/tampered.npz", "--input", "{ws}/data.csv"),
    case("predict", "wrong kind of file", CK, "--input", "{ws}/text.txt"),
    case("predict", "device or folder", DEVICE, "--input", "{ws}/data.csv"),
    case("predict", "device or folder", CK, "--input", DEVICE),
    case("predict", "device or folder", CK, "--input", "{ws}/folder"),
    case("predict", "device or folder", CK, "--input", "{ws}/fifo"),
    case("predict", "device or folder", "{ws}/fifo", "--input", "{ws}/data.csv"),
    case("predict", "device or folder", "{ws}/folder", "--input", "{ws}/data.csv"),
    case("predict", "too large", CK, "--input", "{ws}/bomb.png"),
    case("predict", "too large", CK, "--input", "{ws}/wrap-idx"),
    case("predict", "too large", CK, "--input", "{ws}/bomb-idx.gz",
         env={"CHAINRULE_MAX_INPUT_BYTES": str(SMALL_CAP)}),
    case("predict", "too large", "{ws}/huge.npz", "--input", "{ws}/data.csv"),
    case("predict", "too large", CK, "--input", "{ws}/big.csv"),
    case("predict", "non-finite", CK, "--input", "{ws}/nan-idx"),
    case("predict", "non-finite", CK, "--input", "{ws}/inf-idx"),
    case("predict", "non-finite", CK, "--input", "{ws}/nan.csv"),
    case("predict", "non-finite", "{ws}/nan-weights.npz", "--input", "{ws}/data.csv"),
    *_outs("predict", CK, "--input", "{ws}/data.csv"),
    # kernels show
    case("kernels show", "malformed", "mlp:2-3-"),
    case("kernels show", "wrong type", SPEC, "--format", "pdf"),
    case("kernels show", "out of range", "mlp:2-0"),
    case("kernels show", "unknown name", SPEC, "--activation", "swish"),
    case("kernels show", "unknown name", SPEC, "--device", "tpu"),
    case("kernels show", "unknown name", SPEC, "--loss", "hinge"),
    case("kernels show", "too large", "mlp:2-100000000-2"),
    case("kernels show", "non-finite", SPEC, "--activation", "elu:inf"),
    *_outs("kernels show", SPEC),
    # gallery build
    case("gallery build", "malformed", "--only", "e0 7", "--out", "{ws}/gallery"),
    case("gallery build", "unknown name", "--only", "e99", "--out", "{ws}/gallery"),
    case("gallery build", "unknown name", "--only", "e07", "--out", "{ws}/gallery", "--fast"),
    case("gallery build", "wrong kind of file", "--only", "e07", "--out", "{ws}/existing.txt"),
    case("gallery build", "device or folder", "--only", "e07", "--out", "/dev/null"),
    case("gallery build", "unwritable output", "--only", "e07", "--out", "/proc/chainrule-gallery"),
    case("gallery build", "unwritable output", "--only", "e07", "--out",
         "{ws}/existing.txt/gallery"),
    case("gallery build", "too large", "--only", "e" * 100_000, "--out", "{ws}/gallery"),
    # show filters / show features
    case("show filters", "missing file", "{ws}/none.npz", "--out", "{ws}/f.png"),
    case("show filters", "wrong kind of file", "{ws}/text.txt", "--out", "{ws}/f.png"),
    case("show filters", "wrong kind of file", CK, "--out", "{ws}/f.png"),
    case("show filters", "wrong kind of file", "{ws}/tampered.npz", "--out", "{ws}/f.png"),
    case("show filters", "device or folder", DEVICE, "--out", "{ws}/f.png"),
    case("show filters", "device or folder", "{ws}/fifo", "--out", "{ws}/f.png"),
    case("show filters", "unwritable output", CK, "--out", "/proc/chainrule-matrix.png"),
    case("show filters", "unwritable output", CK, "--out", "{ws}/missing/f.png"),
    case("show filters", "too large", "{ws}/huge.npz", "--out", "{ws}/f.png"),
    case("show filters", "non-finite", "{ws}/nan-weights.npz", "--out", "{ws}/f.png"),
    case("show features", "missing file", "{ws}/none.npz", "--out", "{ws}/f.png"),
    case("show features", "wrong type", CK, "--out", "{ws}/f.png", "--index", "first"),
    case("show features", "device or folder", CK, "--out", "{ws}/folder"),
    case("show features", "non-finite", "{ws}/nan-weights.npz", "--out", "{ws}/f.png"),
    # exercises
    case("exercises", "malformed", "--topic", ""),
    case("exercises", "wrong type", "--topic", "chain-rule", "--count", "many"),
    case("exercises", "out of range", "--topic", "chain-rule", "--difficulty", "4"),
    case("exercises", "out of range", "--topic", "chain-rule", "--seed", "-1"),
    case("exercises", "unknown name", "--topic", "nosuch"),
    case("exercises", "too large", "--topic", "chain-rule", "--count", "1000000"),
    case("exercises", "unwritable output", "--topic", "chain-rule", "--out", "/proc/chainrule-ex"),
    case("exercises", "wrong kind of file", "--topic", "chain-rule", "--out", "{ws}/existing.txt"),
    # handout
    case("handout", "unknown name", "--examples", "E99", "--no-pdf", "--out", "{ws}/h"),
    case("handout", "malformed", "--exercises", "nosuch", "--no-pdf", "--out", "{ws}/h"),
    case("handout", "missing file", "--plan", "{ws}/none.toml", "--no-pdf", "--out", "{ws}/h"),
    case("handout", "wrong kind of file", "--plan", "{ws}/text.txt", "--no-pdf", "--out",
         "{ws}/h"),
    case("handout", "unwritable output", "--examples", "E1", "--no-pdf", "--out",
         "/proc/chainrule-handout"),
    case("handout", "wrong kind of file", "--examples", "E1", "--no-pdf", "--out",
         "{ws}/existing.txt"),
    case("handout", "device or folder", "--plan", "{ws}/fifo", "--no-pdf", "--out", "{ws}/h",
         env={SUBPROCESS: "1"}),
    case("handout", "device or folder", "--plan", DEVICE, "--no-pdf", "--out", "{ws}/h",
         env={SUBPROCESS: "1"}),
]


def _snapshot(*folders: Path) -> dict[str, tuple[int, int, int]]:
    state: dict[str, tuple[int, int, int]] = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(root) / name
                info = path.lstat()
                state[str(path)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return state


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, argv)
    return result.exit_code, result.stderr, result.output


def _child(argv: list[str]) -> tuple[int | str, str, str]:
    """A real process, for a case that could hang or eat memory: 2 GiB of address space and a
    timeout, so that a failure is a failed case and not a stuck suite."""
    def limit() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    try:
        run = subprocess.run([sys.executable, "-m", "chainrule.cli.main", *argv], check=False,
                             capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S,
                             preexec_fn=limit, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "timeout", "", ""
    return run.returncode, run.stderr, run.stdout + run.stderr


def _cwd_names() -> set[str]:
    return set(os.listdir("."))


@pytest.mark.parametrize(("klass", "args", "env"), CASES)
def test_bad_input_is_one_line_and_exit_2(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                          klass: str, args: list[str], env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = [arg.replace("{ws}", str(workspace)) for arg in args]
    before, names = _snapshot(workspace), _cwd_names()
    code, stderr, output = _child(argv) if SUBPROCESS in env else _in_process(argv)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (code, stderr)
    assert len(lines) == 1, stderr
    assert "Traceback" not in output and "internal error" not in stderr
    assert "out of memory" not in stderr, "refused only when memory ran out, not by a check"
    assert _snapshot(workspace) == before, "a file was left behind or changed"
    assert _cwd_names() == names, "a file was left in the current folder"


def test_every_command_meets_every_class_it_can() -> None:
    """The matrix covers every registered command and all 10 classes, with at least 150 cases."""
    from chainrule.cli.main import COMMAND_MODULES

    by_command = Counter(p.id.split("|")[0] for p in CASES)
    by_class = Counter(p.values[0] for p in CASES)
    assert set(by_command) >= {" ".join(words) for words in COMMAND_MODULES if words != ("show",)}
    assert {"show filters", "show features"} <= set(by_command)
    assert set(by_class) == set(CLASSES)
    assert len(CASES) >= 150
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "two cases with one id"
