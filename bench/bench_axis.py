"""Benchmark of actcore's axis activations (softmax, log_softmax, swiglu) against memory floors,
PyTorch and ONNX Runtime.  Prints a Markdown table: median of --repeat timed runs after warm-up.

    python bench/bench_axis.py [--threads 2] [--repeat 15] > bench/results/axis.md

Floors (actcore._core.memory_floor, plain OpenMP C loops with the same threads): softmax and
log_softmax read x and write y, so their floor is one read + one write; the 2r1w floor
(y = a + b) is the target's yardstick (SPEC: within 1.5x).  swiglu reads a and b and writes y:
a 2r1w floor of half the elements.  Peers write into preallocated outputs where they can
(torch out=, ONNX Runtime io_binding) so allocation is not timed.
"""

import argparse
import os
import platform
import time

import numpy as np

import actcore
from actcore import _core


def median_ms(fn, repeat, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def torch_fns(threads):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch, F


def ort_session(op, shape, threads):
    try:
        import onnx  # noqa: F401 - the models are built with onnx.helper below
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))
    node = helper.make_node(op, ["x"], ["y"], axis=-1)
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess, ort


def run_ort(sess_ort, xin, yout):
    sess, ort = sess_ort
    b = sess.io_binding()
    b.bind_input("x", "cpu", 0, np.float32, list(xin.shape), xin.ctypes.data)
    b.bind_output("y", "cpu", 0, np.float32, list(yout.shape), yout.ctypes.data)
    return lambda: sess.run_with_iobinding(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    nt = args.threads
    actcore.set_num_threads(nt)
    tf = torch_fns(nt)
    rng = np.random.default_rng(0)
    rows = []

    def row(case, shape, ours, floor2, floor1, peers):
        best_peer = min((v for v in peers.values() if v is not None), default=None)
        rows.append((case, shape, ours, floor1, floor2, peers, best_peer))

    for shape in [(4096, 4096), (64, 262144)]:
        x = rng.standard_normal(shape, dtype=np.float32)
        y = np.empty_like(x)
        b = x.copy()
        f2 = median_ms(lambda: _core.memory_floor(x, b, y), args.repeat)
        f1 = median_ms(lambda: _core.memory_floor(x, y), args.repeat)
        for name, ort_op in [("softmax", "Softmax"), ("log_softmax", "LogSoftmax")]:
            fn = getattr(actcore, name)
            ours = median_ms(lambda: fn(x, out=y), args.repeat)
            peers = {}
            if tf:
                torch = tf[0]
                tx, ty = torch.from_numpy(x), torch.from_numpy(y)
                tfn = getattr(torch, name)
                peers["torch"] = median_ms(lambda: tfn(tx, -1, out=ty), args.repeat)
            sess = ort_session(ort_op, shape, nt)
            if sess:
                peers["onnxruntime"] = median_ms(run_ort(sess, x, y), args.repeat)
            row(name, shape, ours, f2, f1, peers)

    for shape in [(4096, 8192), (64, 524288)]:
        x = rng.standard_normal(shape, dtype=np.float32)
        h = shape[1] // 2
        a, bb = np.ascontiguousarray(x[:, :h]), np.ascontiguousarray(x[:, h:])
        y = np.empty_like(a)
        f2 = median_ms(lambda: _core.memory_floor(a, bb, y), args.repeat)
        f1 = median_ms(lambda: _core.memory_floor(a, y), args.repeat)
        ours = median_ms(lambda: actcore.swiglu(a, bb, out=y), args.repeat)
        ours_split = median_ms(lambda: actcore.swiglu(x, out=y), args.repeat)
        peers = {}
        if tf:
            torch, F = tf
            ta, tb, ty = torch.from_numpy(a), torch.from_numpy(bb), torch.from_numpy(y)
            peers["torch"] = median_ms(lambda: torch.mul(F.silu(ta), tb, out=ty), args.repeat)
        row("swiglu(a, b)", shape[:1] + (h,), ours, f2, f1, peers)
        row("swiglu(x) split", shape, ours_split, f2, f1, dict(peers))

    cfg = actcore.config() if callable(getattr(actcore, "config", None)) else {}
    print("# Axis activations: actcore vs memory floors, PyTorch, ONNX Runtime\n")
    print(f"float32, {nt} threads, median of {args.repeat} runs after 3 warm-up runs, times in "
          f"ms. Machine: {platform.machine()}, {os.cpu_count()} CPUs, ISA "
          f"{_core.isa_info()['current']}. Generated by `python bench/bench_axis.py`.\n")
    print("| op | shape | actcore | 1r1w floor | 2r1w floor | actcore / 2r1w | torch | "
          "onnxruntime | faster than peers |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case, shape, ours, f1, f2, peers, best in rows:
        t = peers.get("torch")
        o = peers.get("onnxruntime")
        fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        print(f"| {case} | {shape[0]}x{shape[1]} | {ours:.2f} | {f1:.2f} | {f2:.2f} | "
              f"{ours / f2:.2f}x | {fmt(t)} | {fmt(o)} | "
              f"{'-' if best is None else ('yes' if ours < best else 'no')} |")
    print("\nswiglu rows: the floors are for y of the output's size (two inputs of that size "
          "read, one written); torch is `torch.mul(F.silu(a), b, out=y)`.")
    print(f"\nLoad average while measuring: {os.getloadavg()[0]:.1f} (the machine is shared; "
          "numbers from a loaded machine understate every column's speed alike)." if
          hasattr(os, "getloadavg") else "")
    _ = cfg


if __name__ == "__main__":
    main()
