"""Time two builds of actcore against each other, one process per build in alternating rounds.

    python bench/ab_builds.py --old DIR --new DIR [--rounds N] [--cases SETS] > table.md

DIR is a source tree with the extension built in place (`python setup.py build_ext
--inplace`), for instance a `git worktree` of an earlier commit.  Each round runs this file's
cases once in a fresh process per build (old, then new), so that both see the same drift of a
shared machine; the table gives each build's best time over the rounds and new/old.  The
case sets (--cases, default f64,axis) are the ones this repository's changes were measured on:
  f64   float64 elementwise kernels in cache (2^14 elements, one thread), float64 softmax in cache
  axis  the softmax family's column kernel (a non-last axis) from memory on 1 and 2 threads
  f32   every elementwise op's float32 forward and gradient in cache (2^14, one thread)
  mem   every elementwise op's float32 forward and gradient from memory (2^24, 1 and 2
        threads), two buffer sets taken in turn, with the memory floor (read x, write y)
  inplace every op's float32 forward in place (f(x, out=x)) from memory (2^24, 1 and 2
        threads), each call on fresh values, with the floor of a copy in place
  mem64 the float64 forwards of F64_OPS from memory (2^24, 2 threads), two buffer sets in
        turn, with the memory floor
  rows  float32 softmax and log_softmax of ~2^24-element arrays of rows of 100-1000 from
        memory, 1 and 2 threads, two buffer sets taken in turn
  rowsc the same in cache (2^14-2^16 elements, one thread: the benchmark's in-cache cases)
  tiny  every float32 forward on 1000 elements with its default parameters (us per call, one
        thread), and np.maximum(x, 0, out=y), SPEC's reference for a tiny call
  calls the fixed cost of small calls through the glue (us per call, one thread): ufuncs on 16
        elements, the softmax, GLU and batch-norm fast paths, and the kernel entry points the
        Python layer takes when a fast path declines (maxout, float16, a residual)
--ops a,b limits f32, mem, inplace and tiny to those elementwise ops (gelu_tanh is its own
name there).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

F64_OPS = ["sigmoid", "tanh", "elu", "selu", "celu", "silu", "mish", "softplus", "log_sigmoid",
           "gelu", "tanhshrink"]
F64_GRADS = ["sigmoid", "elu", "softplus", "silu", "mish"]
COLUMNS = [((4096, 4096), 0), ((16, 21, 128, 128), 1)]


def _best(f, reps, inner=1):
    f()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            f()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


ONLY = None  # --ops: the labels to time in the f32, mem, inplace and tiny sets (None: all)


def _f32_ops():
    """(label, op, keywords) of every elementwise op with defaults for all its parameters"""
    from actcore._registry import OPS, REQUIRED

    for op in OPS.values():
        if op.kind != "elementwise" or op.kernel is None or any(
                v is REQUIRED for _, v in op.params):
            continue
        cases = [(op.name, op.name, {})]
        if op.name == "gelu":
            cases.append(("gelu_tanh", "gelu", {"approximate": "tanh"}))
        yield from (c for c in cases if ONLY is None or c[0] in ONLY)


def _f32_cases(actcore, np, rng, out):
    n = 1 << 14
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    dy = rng.standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    for name, op, kw in _f32_ops():
        f = getattr(actcore, op)
        out[f"{name} f32 2^14 t=1 (ns/element)"] = (
            _best(lambda: f(x, out=y, **kw), 7, 200) / n)
        g = getattr(actcore, op + "_grad", None)
        if g is not None:
            out[f"{name}_grad f32 2^14 t=1 (ns/element)"] = (
                _best(lambda: g(dy, x, out=y, **kw), 7, 200) / n)


def _turner(bufs):
    """call -> a function that calls it on the two buffer sets in turn, so neither is cached"""
    def turns(call):
        it = iter(range(1 << 30))
        return lambda: call(*bufs[next(it) % 2])
    return turns


def _mem_cases(actcore, np, rng, out):
    from actcore import _core

    n = 1 << 24
    bufs = [((rng.standard_normal(n) * 2).astype(np.float32),
             rng.standard_normal(n).astype(np.float32), np.empty(n, np.float32))
            for _ in range(2)]

    turns = _turner(bufs)

    for nt in (1, 2):
        actcore.set_num_threads(nt)
        out[f"floor f32 2^24 t={nt} (ms)"] = _best(turns(lambda x, d, y: _core.memory_floor(
            x, y)), 5) * 1e3
        for name, op, kw in _f32_ops():
            f = getattr(actcore, op)
            out[f"{name} f32 2^24 t={nt} (ms)"] = (
                _best(turns(lambda x, d, y: f(x, out=y, **kw)), 5) * 1e3)
            g = getattr(actcore, op + "_grad", None)
            if g is not None:
                out[f"{name}_grad f32 2^24 t={nt} (ms)"] = (
                    _best(turns(lambda x, d, y: g(d, x, out=y, **kw)), 5) * 1e3)


def _inplace_cases(actcore, np, rng, out):
    """every float32 forward in place, f(x, out=x), from memory (2^24, 1 and 2 threads).  Each
    timed call gets fresh values: of two buffers, one is refilled from x0 (untimed) while the
    other, refilled the round before and evicted since by that copy, is timed."""
    from actcore import _core

    n = 1 << 24
    x0 = (rng.standard_normal(n) * 2).astype(np.float32)
    bufs = [x0.copy(), x0.copy()]

    def best_inplace(call, reps=5):
        best = float("inf")
        for k in range(reps + 1):
            np.copyto(bufs[(k + 1) % 2], x0)
            x = bufs[k % 2]
            t0 = time.perf_counter()
            call(x)
            if k:  # the first round's buffer was filled before this case began
                best = min(best, time.perf_counter() - t0)
        return best

    for nt in (1, 2):
        actcore.set_num_threads(nt)
        out[f"floor in place f32 2^24 t={nt} (ms)"] = best_inplace(
            lambda x: _core.memory_floor(x, x)) * 1e3
        for name, op, kw in _f32_ops():
            f = getattr(actcore, op)
            out[f"{name} in place f32 2^24 t={nt} (ms)"] = best_inplace(
                lambda x: f(x, out=x, **kw)) * 1e3


def _mem64_cases(actcore, np, rng, out):
    from actcore import _core

    n = 1 << 24
    bufs = [(rng.standard_normal(n) * 2, np.empty(n)) for _ in range(2)]

    turns = _turner(bufs)

    actcore.set_num_threads(2)
    out["floor f64 2^24 t=2 (ms)"] = _best(turns(_core.memory_floor), 5) * 1e3
    for op in F64_OPS:
        f = getattr(actcore, op)
        out[f"{op} f64 2^24 t=2 (ms)"] = (
            _best(turns(lambda x, y, f=f: f(x, out=y)), 5) * 1e3)


def _rows_cases(actcore, np, rng, out):
    for nt in (1, 2):
        actcore.set_num_threads(nt)
        for shape in ((167772, 100), (65536, 256), (32768, 512), (16384, 1000)):
            bufs = [(rng.standard_normal(shape).astype(np.float32),
                     np.empty(shape, np.float32)) for _ in range(2)]
            for op in ("softmax", "log_softmax"):
                f = getattr(actcore, op)
                it = iter(range(1 << 30))

                def call(f=f, it=it):
                    xb, yb = bufs[next(it) % 2]
                    f(xb, out=yb)

                out[f"{op} f32 {shape[0]}x{shape[1]} t={nt} (ms)"] = _best(call, 7) * 1e3


def _rowsc_cases(actcore, np, rng, out):
    actcore.set_num_threads(1)
    for shape in ((16, 1024), (64, 1024), (128, 512), (256, 256), (512, 128)):
        x = rng.standard_normal(shape).astype(np.float32)
        y = np.empty_like(x)
        for op in ("softmax", "log_softmax"):
            f = getattr(actcore, op)
            out[f"{op} f32 {shape[0]}x{shape[1]} t=1 (ns/element)"] = (
                _best(lambda f=f: f(x, out=y), 7, 100) / x.size)


def _calls_cases(actcore, np, rng, out):
    actcore.set_num_threads(1)
    f32 = np.float32
    x16 = rng.standard_normal(16).astype(f32)
    y16 = np.empty_like(x16)
    x1 = rng.standard_normal((1, 1)).astype(f32)
    xr = rng.standard_normal((1, 1000)).astype(f32)
    yr = actcore.softmax(xr)
    xh = xr.astype(np.float16)  # declined by the fast path: softmax_kernel
    xg = rng.standard_normal((4, 64)).astype(f32)
    xm = rng.standard_normal((4, 64)).astype(f32)
    xn = rng.standard_normal((1, 64, 16, 16)).astype(f32)
    xc = rng.standard_normal((1, 16, 16, 64)).astype(f32)
    dc = rng.standard_normal(xc.shape).astype(f32)
    C = 64
    rm, rv = np.zeros(C, f32), np.ones(C, f32)
    w, b = np.ones(C, f32), np.zeros(C, f32)
    _, mean, invstd = actcore.batch_norm_train(xc, w, b, axis=-1)
    cases = {
        "sigmoid 16": lambda: actcore.sigmoid(x16),
        "sigmoid 16 out=": lambda: actcore.sigmoid(x16, out=y16),
        "leaky_relu 16, 0.2": lambda: actcore.leaky_relu(x16, 0.2),
        "softmax 1x1": lambda: actcore.softmax(x1),
        "softmax 1x1000": lambda: actcore.softmax(xr),
        "softmax_grad 1x1000": lambda: actcore.softmax_grad(xr, yr),
        "softmax 1x1000 float16": lambda: actcore.softmax(xh),
        "glu 4x64": lambda: actcore.glu(xg),
        "maxout 4x64 pool 2": lambda: actcore.maxout(xm, 2),
        "batch_norm 1x64x16x16": lambda: actcore.batch_norm(xn, rm, rv, w, b, axis=1),
        "batch_norm 1x64x16x16 residual": lambda: actcore.batch_norm(xn, rm, rv, w, b, axis=1,
                                                                     residual=xn),
        "batch_norm_train 1x16x16x64": lambda: actcore.batch_norm_train(xc, w, b, axis=-1),
        "batch_norm_grad 1x16x16x64": lambda: actcore.batch_norm_grad(dc, xc, mean, invstd, w,
                                                                      axis=-1),
    }
    for name, f in cases.items():
        out[f"{name} t=1 (us/call)"] = _best(f, 7, 2000)


def _tiny_cases(actcore, np, rng, out):
    actcore.set_num_threads(1)
    x = rng.standard_normal(1000).astype(np.float32)
    y = np.empty_like(x)
    out["np.maximum(x, 0, out=y) 1000 t=1 (us/call)"] = _best(
        lambda: np.maximum(x, 0, out=y), 7, 5000)
    for name, op, kw in _f32_ops():
        f = getattr(actcore, op)
        out[f"{name} 1000 t=1 (us/call)"] = _best(lambda: f(x, out=y, **kw), 7, 5000)


def run_cases(sets):
    """The cases of the named sets in this process: {name: seconds}."""
    import numpy as np

    import actcore

    # the build under test, not another actcore on the path (an editable install's finder)
    if not os.path.abspath(actcore.__file__).startswith(os.getcwd()):
        raise SystemExit(f"imported {actcore.__file__}, expected the build in {os.getcwd()}")
    rng = np.random.default_rng(0)
    out = {}
    actcore.set_num_threads(1)
    if "f32" in sets:
        _f32_cases(actcore, np, rng, out)
    if "mem" in sets:
        _mem_cases(actcore, np, rng, out)
        actcore.set_num_threads(1)
    if "inplace" in sets:
        _inplace_cases(actcore, np, rng, out)
        actcore.set_num_threads(1)
    if "mem64" in sets:
        _mem64_cases(actcore, np, rng, out)
        actcore.set_num_threads(1)
    if "rowsc" in sets:
        _rowsc_cases(actcore, np, rng, out)
    if "calls" in sets:
        _calls_cases(actcore, np, rng, out)
    if "tiny" in sets:
        _tiny_cases(actcore, np, rng, out)
    if "rows" in sets:
        _rows_cases(actcore, np, rng, out)
        actcore.set_num_threads(1)
    n = 1 << 14
    x = rng.standard_normal(n) * 2
    dy = rng.standard_normal(n)
    y = np.empty_like(x)
    for op in F64_OPS if "f64" in sets else ():
        f = getattr(actcore, op)
        out[f"{op} f64 2^14 t=1 (ns/element)"] = _best(lambda f=f: f(x, out=y), 7, 200) / n
    for op in F64_GRADS if "f64" in sets else ():
        g = getattr(actcore, op + "_grad")
        out[f"{op}_grad f64 2^14 t=1 (ns/element)"] = (
            _best(lambda g=g: g(dy, x, out=y), 7, 200) / n)
    xs = rng.standard_normal((16, 4096))
    ys = np.empty_like(xs)
    for op in ("softmax", "log_softmax") if "f64" in sets else ():
        f = getattr(actcore, op)
        out[f"{op} f64 16x4096 t=1 (ns/element)"] = (
            _best(lambda f=f: f(xs, out=ys), 7, 50) / xs.size)
    for nt in (1, 2) if "axis" in sets else ():
        actcore.set_num_threads(nt)
        for shape, axis in COLUMNS:
            xc = rng.standard_normal(shape).astype(np.float32)
            yc = np.empty_like(xc)
            label = "x".join(map(str, shape))
            for op in ("softmax", "log_softmax"):
                f = getattr(actcore, op)
                out[f"{op} f32 {label} axis={axis} t={nt} (ms)"] = (
                    _best(lambda f=f: f(xc, axis=axis, out=yc), 7) * 1e3)
    scale = {"(ns/element)": 1e9, "(us/call)": 1e6}
    return {k: v * scale.get(k[k.rfind("("):], 1) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default="f64,axis",
                    help="comma-separated: f64, axis, f32, mem, inplace, mem64, rows, rowsc, "
                    "calls, tiny")
    ap.add_argument("--ops", default="",
                    help="comma-separated op labels for f32, mem, inplace and tiny")
    a = ap.parse_args()
    res = {"old": [], "new": []}
    for _ in range(a.rounds):
        for which in ("old", "new"):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(getattr(a, which)))
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", a.cases,
                                a.ops],
                               env=env, capture_output=True, text=True, check=True,
                               cwd=os.path.abspath(getattr(a, which)))
            res[which].append(json.loads(p.stdout))
    best = {w: {k: min(r[k] for r in res[w]) for k in res[w][0]} for w in res}
    rev = {w: subprocess.run(["git", "-C", getattr(a, w), "log", "-1", "--format=%h %s"],
                             capture_output=True, text=True).stdout.strip()[:90] for w in res}
    print("# Two builds timed against each other (bench/ab_builds.py)\n")
    print(f"old: `{rev['old']}`  \nnew: `{rev['new']}`\n")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"Best of {a.rounds} rounds, each round one fresh process per build (old, then new). "
          "ns/element in cache, ms from memory, us per call for small calls. "
          f"{cpu}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}.\n")
    print("| case | old | new | new/old |")
    print("|---|---|---|---|")
    for k in best["old"]:
        o, n = best["old"][k], best["new"][k]
        print(f"| {k} | {o:.3g} | {n:.3g} | {n / o:.2f} |")


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        if sys.argv[i + 2:] and sys.argv[i + 2]:
            ONLY = set(sys.argv[i + 2].split(","))
        print(json.dumps(run_cases(sys.argv[i + 1].split(","))))
    else:
        main()
