"""nnspec against PyTorch eager (and onnxruntime, where installed) on the CPU, side by side in one run.

    python bench/cpu.py                 # everything: a few minutes on 2 cores
    python bench/cpu.py --quick         # fewer repeats
    python bench/cpu.py -k resnet18     # only the rows whose name contains this (-k again: or that)
    python bench/cpu.py --numpy-first   # NumPy imported before nnspec (OpenBLAS's own thread timeout)
    python bench/cpu.py --engine onnxruntime   # and onnxruntime on nnspec's own ONNX export (no torch)

nnspec runs each model through its execution plan (``nnspec.compile``); the "forward" column
is the model's own forward, module by module, for comparison. Each runtime runs the same
model with the same weights on the same input. Each one is
timed in its own block: warm-up runs, then the median and spread of several repeats (at least
10, and enough for a block of 0.1 s: a sub-millisecond model's median of 10 moved by 30 % from run to
run), with a pause between blocks; the blocks run in turn twice (ROUNDS), or up to 6 times where they
are short (until each runtime's blocks last 3 s in all), and each runtime's lowest median counts.
Calls are not alternated between libraries, because NumPy's and torch's thread pools then fight and
slow each other down. Both use 2 threads.
Peak RSS is measured for each runtime in a separate process. The table gives ms per
batch and the ratios nnspec/torch and nnspec/onnxruntime. Single convolutions are also
given in GFLOP/s and as a share of the measured NumPy float32 matmul peak. The results
go to bench/results/cpu-<date>.json, with the time to read, validate, build and plan ResNet-50.

The reference rows (ViT-B/16, GPT-2, BERT-base) run nnspec's zoo file against the reference
implementation itself (torchvision 0.28 / transformers 5.25, random weights, nnspec loading the
reference's state_dict), and onnxruntime on the reference exported by torch.onnx.

This is a measuring tool, never a test: it needs torch==2.13.0 (and onnxruntime for its
column, and torchvision/transformers for the reference rows); tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

# which of NumPy and nnspec is imported first (nnspec, first, sets OPENBLAS_THREAD_TIMEOUT for OpenBLAS as
# it loads; NumPy first leaves OpenBLAS's default): a user's script may do either
NUMPY_FIRST = "--numpy-first" in sys.argv
if NUMPY_FIRST:
    import numpy  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the torch twin builder (tests/oracle.py)

import nnspec  # noqa: E402
import numpy as np  # noqa: E402

MLP = {"name": "MLP", "modules": {"fc1": {"Linear": [784, 1024]}, "fc2": {"Linear": [1024, 1024]},
                                  "fc3": {"Linear": [1024, 10]}},
       "forward": "return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))"}

# name: (model file or dict, input shape)
MODELS = {
    "seed conv2d": ("models/seed/conv2d.yaml", (20, 16, 50, 100)),
    "seed conv1d": ("models/seed/conv1d.yaml", (20, 16, 50)),
    "seed maxpool2d": ("models/seed/maxpool2d.yaml", (20, 16, 50, 32)),
    "seed avgpool2d": ("models/seed/avgpool2d.yaml", (20, 16, 50, 32)),
    "seed batchnorm2d": ("models/seed/batchnorm2d.yaml", (20, 100, 35, 45)),
    "seed upsampling_bilinear2d": ("models/seed/upsampling_bilinear2d.yaml", (1, 3, 8, 8)),
    "seed sequential": ("models/seed/sequential.yaml", (1, 1, 32, 32)),
    "seed model_two_convs": ("models/seed/model_two_convs.yaml", (1, 1, 28, 28)),
    "lenet5 b1": ("models/zoo/lenet5.yaml", (1, 1, 32, 32)),
    "lenet5 b8": ("models/zoo/lenet5.yaml", (8, 1, 32, 32)),
    "mlp b1": (MLP, (1, 784)),
    "mlp b8": (MLP, (8, 784)),
    "resnet18 b1": ("models/zoo/resnet18.yaml", (1, 3, 224, 224)),
    "resnet18 b8": ("models/zoo/resnet18.yaml", (8, 3, 224, 224)),
    "resnet50 b1": ("models/zoo/resnet50.yaml", (1, 3, 224, 224)),
    "resnet50 b8": ("models/zoo/resnet50.yaml", (8, 3, 224, 224)),
    "mobilenet_v2 b8": ("models/zoo/mobilenet_v2.yaml", (8, 3, 224, 224)),
}
# today's reference models against their reference implementations themselves (torchvision, Hugging Face
# transformers, random weights), nnspec loading the reference's own state_dict:
# name: (model file, reference, input shape, input dtype)
REFERENCES = {
    "vit_b_16 b8": ("models/zoo/vit_b_16.yaml", "torchvision.vit_b_16", (8, 3, 224, 224), "float32"),
    "gpt2 b8 s128": ("models/zoo/gpt2.yaml", "transformers.gpt2", (8, 128), "int64"),
    "bert_base b8 s128": ("models/zoo/bert_base.yaml", "transformers.bert", (8, 128), "int64"),
}
# single convolutions: (in, out, kernel, stride, padding, input shape)
CONVS = {
    "conv seed 16->33 k(3,5) s2": ({"Conv2d": [16, 33, [3, 5]], "stride": [2, 1], "padding": [4, 2]}, (20, 16, 50, 100)),
    "conv resnet stem 3->64 k7 s2": ({"Conv2d": [3, 64, 7], "stride": 2, "padding": 3, "bias": False}, (8, 3, 224, 224)),
    "conv 3x3 64->64 @56": ({"Conv2d": [64, 64, 3], "padding": 1, "bias": False}, (8, 64, 56, 56)),
    "conv 3x3 128->128 @28": ({"Conv2d": [128, 128, 3], "padding": 1, "bias": False}, (8, 128, 28, 28)),
    "conv 3x3 256->256 @14": ({"Conv2d": [256, 256, 3], "padding": 1, "bias": False}, (8, 256, 14, 14)),
    "conv 3x3 512->512 @7": ({"Conv2d": [512, 512, 3], "padding": 1, "bias": False}, (8, 512, 7, 7)),
    "conv 1x1 256->64 @56": ({"Conv2d": [256, 64, 1], "bias": False}, (8, 256, 56, 56)),
}


def load_nnspec(model):
    if isinstance(model, str):
        return nnspec.load(ROOT / model, seed=0).eval()
    return nnspec.from_dict(model, seed=0).eval()


def torch_twin(model, state):
    import torch
    from oracle import build

    from nnspec.spec import parse, read, validate

    if isinstance(model, str):
        text, name = read(ROOT / model)
        data = parse(text, name)
    else:
        data, name = model, "<dict>"
    spec, _ = validate(data, name)
    twin = build(spec).eval()
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return twin


# each runtime's block of repeats runs this many times, in turn with the others' (nnspec, torch,
# onnxruntime, nnspec, ...), and its lowest median is given: on a shared 2-core machine one block of
# torch's MobileNetV2 took 65 ms and another, minutes later, 178 (its fresh arrays over glibc's mmap
# threshold page-fault, and that cost varies here: with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 it took
# 79-91 ms where it took 124-140 as it comes)
ROUNDS = 2


def timed(fn, repeats: int, warmup: int = 2) -> tuple[float, float]:
    """(median ms, spread ms: max - min) of ``repeats`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), max(times) - min(times)


_SAID = {"onnx": False}


def onnx_session(twin, x):
    """An onnxruntime session of the twin (exported with torch.onnx), or None where either is missing."""
    try:
        import io

        import onnxruntime as ort
        import torch
    except ImportError:
        return None
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice, each model
            warnings.simplefilter("ignore")
            torch.onnx.export(twin, (torch.from_numpy(x),), buf, dynamo=False, opset_version=17)
    except Exception as e:  # noqa: BLE001 - a model the exporter can't take: no column, said in the table
        if "onnx is not installed" in str(e):
            if not _SAID["onnx"]:
                print("  (no onnxruntime column: torch's ONNX exporter needs `pip install onnx`)", file=sys.stderr)
                _SAID["onnx"] = True
            return None
        # the first line names the op; torch appends the whole traced graph (a thousand lines for GPT-2)
        first = (str(e).splitlines() or [""])[0]
        print(f"  (onnx export failed: {type(e).__name__}: {first})", file=sys.stderr)
        return None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(THREADS)
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


def matmul_peak(repeats: int) -> float:
    """GFLOP/s of NumPy's float32 matmul at 2048x2048 (the peak the convolutions are measured against)."""
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    ms, _ = timed(lambda: a @ a, repeats)
    return 2 * 2048**3 / (ms * 1e-3) / 1e9


# --engine onnxruntime: a column of onnxruntime running nnspec's own export of the model (nnspec.export_onnx,
# no torch), beside onnxruntime on torch's export
ENGINES: set[str] = set()


def nnspec_onnx_session(net, x: np.ndarray):
    """An onnxruntime session of nnspec's own ONNX export of ``net`` (None where onnxruntime is missing, or the
    export fails: said once per model)."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("  (no ort(nnspec) column: pip install onnxruntime onnx)", file=sys.stderr)
        return None
    try:
        proto = nnspec.export_onnx(net, [x.shape], input_dtypes=[str(x.dtype)])
    except nnspec.NNSpecError as e:
        print(f"  (no ort(nnspec) for this row: {str(e).splitlines()[0]})", file=sys.stderr)
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(THREADS)
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def time_runtimes(row: dict, plan, net, torch_model, x: np.ndarray, repeats: int, forward_repeats: int) -> dict:
    """``row`` with the times of nnspec's plan, its module-by-module forward, ``torch_model`` in eager mode and
    in onnxruntime (where it exports), each in its own block with a pause between."""
    import torch

    tx = torch.from_numpy(x)

    def torch_call():
        with torch.no_grad():
            torch_model(tx)

    calls = {"nnspec": lambda: plan(x), "torch": torch_call}
    session = onnx_session(torch_model, x)
    if session is not None:
        feed = {session.get_inputs()[0].name: x}
        calls["ort"] = lambda: session.run(None, feed)
    if "onnxruntime" in ENGINES:
        own = nnspec_onnx_session(net, x)
        if own is not None:
            own_feed = {own.get_inputs()[0].name: x}
            got = own.run(None, own_feed)[0]
            want = plan(x)
            want = np.asarray(next(iter(want.values())) if isinstance(want, dict) else want)
            row["ort_nnspec_max_rel_diff"] = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
            calls["ort_nnspec"] = lambda: own.run(None, own_feed)
    row["forward_ms"], row["forward_spread"] = timed(lambda: net(x), forward_repeats, warmup=1)
    repeats, rounds = _enough(calls.values(), repeats)
    row["repeats"], row["rounds"] = repeats, rounds
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):  # the blocks in turn, ``rounds`` times: each runtime's best block counts
        for name, call in calls.items():
            time.sleep(0.3)
            found = timed(call, repeats)
            if name not in best or found[0] < best[name][0]:
                best[name] = found
    for name, (ms, spread) in best.items():
        row[f"{name}_ms"], row[f"{name}_spread"] = ms, spread
    return row


# a block of repeats lasts at least this long: the median of 10 calls of a 0.4 ms model moved by 30 % from one
# run to the next (LeNet-5 at batch 8: 0.87x torch, then 1.33x, the code unchanged); of 250 calls, by a few
BLOCK_SECONDS = 0.1
MAX_REPEATS = 1000
# and where blocks are short, more rounds of them, until each runtime's blocks last about this long in all:
# this machine's slow spells last longer than a block (LeNet-5 b8 again: 0.38 ms, then 0.59, then 0.38 in
# three runs of two rounds; nnspec's MobileNetV2 b8 65 ms in one run and 76 in the next, its forward column
# slow in the same row)
ROUND_SECONDS = 3.0
MAX_ROUNDS = 6


def _enough(calls, repeats: int) -> tuple[int, int]:
    """(repeats, rounds): ``repeats``, or more for fast calls, as many as make the slowest runtime's block
    last BLOCK_SECONDS; ROUNDS rounds, or more where blocks are short (each runtime runs the same number)."""
    slowest = max(timed(call, 3, warmup=1)[0] for call in calls) * 1e-3
    repeats = max(repeats, min(MAX_REPEATS, math.ceil(BLOCK_SECONDS / max(slowest, 1e-6))))
    rounds = max(ROUNDS, min(MAX_ROUNDS, math.ceil(ROUND_SECONDS / (repeats * max(slowest, 1e-6)))))
    return repeats, rounds


def bench_row(name: str, model, shape: tuple, repeats: int, flops: float | None = None) -> dict:
    import torch

    torch.set_num_threads(int(THREADS))
    net = load_nnspec(model)
    state = {k: np.array(v) for k, v in net.state_dict().items()}
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    twin = torch_twin(model, state)
    tx = torch.from_numpy(x)
    with torch.no_grad():
        want = twin(tx).numpy()
    start = time.perf_counter()
    plan = nnspec.compile(net, [shape])
    compile_ms = (time.perf_counter() - start) * 1e3
    got = plan(x)
    err = float(np.abs(np.asarray(got) - want).max())
    row = {"name": name, "input": list(shape), "max_abs_diff": err, "plan_compile_ms": compile_ms}
    time_runtimes(row, plan, net, twin, x, repeats, forward_repeats=max(3, repeats // 2))
    if flops:
        row["gflops"] = flops / (row["nnspec_ms"] * 1e-3) / 1e9
        row["torch_gflops"] = flops / (row["torch_ms"] * 1e-3) / 1e9
    return row


def reference_model(kind: str):
    """The reference implementation, random weights, eval mode (torchvision through the shim the tests use:
    its C extension can't load beside the CPU build of torch, and no model needs it)."""
    import types

    import torch

    # transformers imports torchvision where it is installed: the shim serves both
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    torch.manual_seed(0)
    if kind.startswith("torchvision."):
        from torchvision import models

        model = getattr(models, kind.split(".", 1)[1])(weights=None).eval()
    else:
        import transformers

        model = transformers.GPT2LMHeadModel(transformers.GPT2Config()) if kind == "transformers.gpt2" else \
            transformers.BertModel(transformers.BertConfig())
        model.eval()
    with torch.no_grad():  # entries a fresh init leaves constant (ViT's zero head) redrawn: the output then
        for value in model.state_dict().values():  # depends on the input, and max|diff| means something
            if value.dtype.is_floating_point and value.numel() > 1 and bool((value == value.flatten()[0]).all()):
                value.add_(torch.randn(value.shape) * 0.1)
    return model


def _main_output(y):
    """The array a reference model is compared by: the logits, or BERT's last hidden state."""
    if isinstance(y, dict) or hasattr(y, "keys"):
        for key in ("logits", "last_hidden_state"):
            if key in y:
                return y[key]
    return y[0] if isinstance(y, (tuple, list)) else y


def reference_row(name: str, path: str, kind: str, shape: tuple, dtype: str, repeats: int) -> dict:
    """nnspec (its plan, and its module-by-module forward) against the reference in torch eager and in
    onnxruntime (the reference exported by torch.onnx), the same weights and the same input."""
    import torch

    torch.set_num_threads(int(THREADS))
    ref = reference_model(kind)
    net = nnspec.load(ROOT / path, seed=0).eval()
    net.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32) if dtype == "float32" else \
        rng.integers(0, 1000, shape).astype(np.int64)
    tx = torch.from_numpy(x)
    with torch.no_grad():
        want = _main_output(ref(tx)).numpy()
    plan = nnspec.compile(net)
    got = np.asarray(_main_output(plan(x)))
    row = {"name": name, "input": list(shape), "max_abs_diff": float(np.abs(got - want).max()),
           "max_abs_output": float(np.abs(want).max())}
    return time_runtimes(row, plan, net, _tensor_out(ref, kind), x, repeats, forward_repeats=max(2, repeats // 3))


def _tensor_out(ref, kind: str):
    """The reference as one tensor in, one out (what torch.onnx exports): a Hugging Face model called without
    a cache (an encoder has none; one forward of a decoder needs none), its first output."""
    if not kind.startswith("transformers."):
        return ref
    import torch

    class TensorOut(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids):
            extra = {"use_cache": False} if kind == "transformers.gpt2" else {}
            return self.model(input_ids, return_dict=False, **extra)[0]

    return TensorOut(ref).eval()


def conv_flops(spec: dict, shape: tuple) -> float:
    from nnspec import static

    m = nnspec.from_dict(spec, meta=True)
    found = static.infer(m, [shape])
    return 2.0 * float(found.mult_adds)


RSS_CHILD = """
import os, sys
os.environ.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2", OPENBLAS_THREAD_TIMEOUT="22")
import numpy as np
sys.path.insert(0, {tests!r})
runtime, model, shape = sys.argv[1], sys.argv[2], tuple(int(s) for s in sys.argv[3].split(","))
x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
if runtime == "nnspec":
    import nnspec
    net = nnspec.compile(nnspec.load(model, seed=0).eval())
    for _ in range(3):
        net(x)
elif runtime == "ort":  # the model exported to ONNX by the parent: this process never imports torch
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 2, 1
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, {{session.get_inputs()[0].name: x}})
else:
    import torch
    torch.set_num_threads(2)
    from oracle import build
    from nnspec.spec import parse, read, validate
    text, name = read(model)
    spec, _ = validate(parse(text, name), name)
    twin = build(spec).eval()
    with torch.no_grad():
        for _ in range(3):
            twin(torch.from_numpy(x))
# VmHWM: this process's own high-water mark (ru_maxrss on Linux carries the parent's over fork and exec)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_rss(runtime: str, model: str, shape: tuple) -> float | None:
    """Peak resident memory (MiB) of a fresh process that loads the model and runs it three times
    (for onnxruntime: the model exported here, run there; None where onnxruntime is missing)."""
    code = RSS_CHILD.format(tests=str(ROOT / "tests"))
    path = str(ROOT / model)
    if runtime == "ort":
        net = load_nnspec(model)
        twin = torch_twin(model, {k: np.array(v) for k, v in net.state_dict().items()})
        x = np.zeros(shape, np.float32)
        if onnx_session(twin, x) is None:
            return None
        import io

        import torch

        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(twin, (torch.from_numpy(x),), buf, dynamo=False, opset_version=17)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "model.onnx")
            Path(path).write_bytes(buf.getvalue())
            return _child_rss(code, runtime, path, shape)
    return _child_rss(code, runtime, path, shape)


def _child_rss(code: str, runtime: str, path: str, shape: tuple) -> float:
    out = subprocess.run([sys.executable, "-c", code, runtime, path, ",".join(map(str, shape))],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def compile_time(path: str, shape: tuple, repeats: int) -> dict:
    """ms to read, validate and build the model (weights drawn from the seed), and to plan it."""
    def load():
        return nnspec.load(ROOT / path, seed=0).eval()

    def load_and_plan():
        return nnspec.compile(load(), [shape])

    load_ms, _ = timed(load, repeats, warmup=1)
    total_ms, _ = timed(load_and_plan, repeats, warmup=1)
    meta_ms, _ = timed(lambda: nnspec.load(ROOT / path, meta=True), repeats, warmup=1)
    return {"model": path, "input": list(shape), "load_ms": load_ms, "load_and_plan_ms": total_ms,
            "shape_only_load_ms": meta_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    parser.add_argument("-k", action="append", default=[],
                        help="only rows whose name contains this (repeat -k for several)")
    parser.add_argument("--numpy-first", action="store_true",
                        help="import NumPy before nnspec (OpenBLAS then keeps its default thread timeout)")
    parser.add_argument("--engine", action="append", default=[], choices=["onnxruntime"],
                        help="also time onnxruntime on nnspec's own ONNX export (nnspec export: no torch), as "
                             "the ort(nnspec) column")
    args = parser.parse_args()
    ENGINES.update(args.engine)
    keys = args.k or [""]

    def wanted(name: str) -> bool:
        return any(k in name for k in keys)

    repeats = 3 if args.quick else 10
    import torch

    peak = matmul_peak(repeats)
    print(f"nnspec {nnspec.__version__}, torch {torch.__version__}, numpy {np.__version__}, {THREADS} threads, "
          f"{'NumPy' if NUMPY_FIRST else 'nnspec'} imported first; "
          f"NumPy float32 matmul peak {peak:.0f} GFLOP/s")
    rows = []
    for name, (model, shape) in MODELS.items():
        if wanted(name):
            rows.append(bench_row(name, model, shape, repeats))
            print_row(rows[-1], peak)
    for name, (path, kind, shape, dtype) in REFERENCES.items():
        if wanted(name) and (ROOT / path).exists():
            rows.append(reference_row(name, path, kind, shape, dtype, repeats))
            print_row(rows[-1], peak)
    for name, (spec, shape) in CONVS.items():
        if wanted(name):
            rows.append(bench_row(name, spec, shape, repeats, conv_flops(spec, shape)))
            print_row(rows[-1], peak)
    compiled = {}
    if any(k in "resnet50 compile" for k in keys):
        compiled = compile_time("models/zoo/resnet50.yaml", (8, 3, 224, 224), repeats)
        print(f"\ncompile, resnet50 b8: read + validate + build (seeded weights) {compiled['load_ms']:.0f} ms, "
              f"and plan {compiled['load_and_plan_ms']:.0f} ms in all; shape-only read + validate + build "
              f"{compiled['shape_only_load_ms']:.0f} ms")
    rss = {}
    if "resnet18 b8" in [r["name"] for r in rows]:
        for runtime in ("nnspec", "torch", "ort"):
            found = peak_rss(runtime, "models/zoo/resnet18.yaml", (8, 3, 224, 224))
            if found is not None:
                rss[runtime] = found
        print("\npeak RSS, resnet18 b8 (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "threads": int(THREADS),
              "imported_first": "numpy" if NUMPY_FIRST else "nnspec",
              "numpy": np.__version__, "torch": torch.__version__, "matmul_peak_gflops": peak, "rows": rows,
              "peak_rss_mib_resnet18_b8": rss, "compile": compiled}
    out = ROOT / "bench" / "results" / f"cpu-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)  # git keeps no results: a clean clone has no such folder
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


_HEADER = False


def print_row(r: dict, peak: float) -> None:
    global _HEADER
    own = "onnxruntime" in ENGINES
    if not _HEADER:
        print(f"\n{'model':32} {'nnspec ms':>10} {'forward':>9} {'torch ms':>10} {'ratio':>6} {'ort ms':>8} "
              f"{'vs ort':>7} " + (f"{'ort(nnspec)':>11} {'vs it':>6} " if own else "")
              + f"{'GFLOP/s':>8} {'% peak':>7} {'max|diff|':>10}")
        _HEADER = True
    ort = f"{r['ort_ms']:8.2f} {r['nnspec_ms'] / r['ort_ms']:6.2f}x" if "ort_ms" in r else f"{'--':>8} {'--':>7}"
    if own:
        ort += f" {r['ort_nnspec_ms']:11.2f} {r['nnspec_ms'] / r['ort_nnspec_ms']:5.2f}x" if "ort_nnspec_ms" in r \
            else f" {'--':>11} {'--':>6}"
    gf = f"{r['gflops']:8.1f} {100 * r['gflops'] / peak:6.0f}%" if "gflops" in r else f"{'':8} {'':7}"
    print(f"{r['name']:32} {r['nnspec_ms']:10.2f} {r['forward_ms']:9.2f} {r['torch_ms']:10.2f} "
          f"{r['nnspec_ms'] / r['torch_ms']:5.2f}x "
          f"{ort} {gf} {r['max_abs_diff']:10.1e}", flush=True)


if __name__ == "__main__":
    main()
