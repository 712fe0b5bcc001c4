"""python -m actcore bench: actcore against its peers and against the memory floor.

Each case is one op and kind (``fwd``; ``grad`` from x; ``gout`` from the forward output; for
batch norm ``infer_relu`` and ``train`` = forward + backward) at one size, dtype and thread
count.  In a case every implementation (actcore, the installed peers, the floor) gets the same
input data and a preallocated output, runs at the same thread count, and is timed the same way:

- warm-up until 1 call / ``warmup`` seconds have passed (page faults, lazy init, caches);
- samples of ``inner`` back-to-back calls (enough for ~1 ms, so the clock's resolution and the
  loop are negligible for 1,000-element calls), repeated until ``min_time`` is filled (at least
  5 samples, 3 when one sample takes over 20 ms or with --quick), reporting the median per
  call with the quartiles, min and max;
- data are random normal (scale 2, so every branch of every op is taken); sizes up to 2^16 are
  meant to be cache-resident and reuse one buffer set; larger sizes rotate between enough buffer
  sets that the data touched between two uses of a set exceeds twice the last-level cache, so
  they are timed out of cache even when one set would fit (2^20 float32 = 4 MiB per array).

The floor is ``actcore._core.memory_floor``: a plain OpenMP copy (x -> y, for forward ops) or
add (a + b -> y, three streams, for gradients) with actcore's threads; composite cases scale
the two-stream floor by the bytes they must move at least (see ``_floor_streams``).  The floor,
actcore and the peers of a case are timed together, in rounds of short turns
(``measure_rounds``), so every ratio compares measurements taken through the same seconds: a
floor measured once per size and reused for minutes skewed whole runs on this shared VM
(2026-12-02 03:20: one fast floor sample put relu at 1.35x its floor), and even measured one
after the other, seconds apart, the floor of one run ranged 2.8-8.0 ms across the 2^24 float32
2-thread cases and peers came out 1.8-2.5x faster than actcore on relu and hardshrink, whose
time is all memory traffic.

Output: a table on the terminal, ``--json``, ``--markdown``, ``--plot``; ``--compare old.json``
prints new/old time ratios.  The JSON schema is documented in ``_bench_report.SCHEMA``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import _bench_peers as peers
from . import _bench_report as report

FULL_SIZES = (1000, 2**14, 2**16, 2**20, 2**24)
QUICK_SIZES = (1000, 2**16, 2**20)  # 2^20 rotates out of cache; 2^22 took 4x longer
HOT_MAX = 2**16  # sizes up to here are timed cache-resident (the spec's in-cache range)
AXIS_ROW = 1024  # row length of softmax/log_softmax/swiglu cases
BN_C, BN_HW = 64, 16  # batch norm cases: (n / (64*16*16), 64, 16, 16) and channels-last


@dataclass
class Case:
    op: str
    kind: str
    size: int
    dtype: str
    threads: int
    family: str
    shape: tuple = ()
    results: dict = field(default_factory=dict)  # impl -> stats
    skipped: dict = field(default_factory=dict)  # impl -> reason
    notes: dict = field(default_factory=dict)  # impl -> note
    floor: dict | None = None

    @property
    def name(self):
        return f"{self.op}.{self.kind}"


# ---------------------------------------------------------------- what to run
def op_kinds():
    """[(op, kind, family)] for every op this build of actcore has."""
    import actcore

    from ._registry import OPS

    out = []
    for name, spec in OPS.items():
        if spec.kind != "elementwise":
            continue
        for op in (name, "gelu_tanh") if name == "gelu" else (name,):
            out.append((op, "fwd", "forward"))
            out.append((op, "grad", "gradient"))
            if spec.grad_from_output:
                out.append((op, "gout", "gradient"))
    for op in ("softmax", "log_softmax", "swiglu"):
        if hasattr(actcore, op):
            out.append((op, "fwd", "axis"))
            if hasattr(actcore, op + "_grad"):
                out.append((op, "grad", "axis"))
    if hasattr(actcore, "batch_norm"):
        for op in ("batch_norm", "batch_norm_cl"):
            out.append((op, "infer_relu", "batch_norm"))
            if hasattr(actcore, "batch_norm_train") and hasattr(actcore, "batch_norm_grad"):
                out.append((op, "train", "batch_norm"))
    return out


def case_shape(op, kind, size):
    """Shape of x for the case, or None when the size does not fit the op."""
    if op.startswith("batch_norm"):
        per = BN_C * BN_HW * BN_HW
        if size % per:
            return None
        n = size // per
        return (n, BN_HW, BN_HW, BN_C) if op.endswith("_cl") else (n, BN_C, BN_HW, BN_HW)
    if op in ("softmax", "log_softmax", "swiglu"):
        row = AXIS_ROW if size % AXIS_ROW == 0 else size
        if op == "swiglu" and row % 2:
            return None
        return (size // row, row)
    return (size,)


def build_cases(args):
    import actcore

    pat = re.compile(args.filter) if args.filter else None
    cases = []
    for op, kind, family in op_kinds():
        if pat and not pat.search(f"{op}.{kind}"):
            continue
        for threads in args.threads:
            for dtype in args.dtype:
                for size in args.sizes:
                    shape = case_shape(op, kind, size)
                    if shape is not None:
                        cases.append(Case(op, kind, size, dtype, threads, family, shape))
    del actcore
    return cases


# ---------------------------------------------------------------- buffers
def cache_bytes():
    """Size of the last-level cache in bytes (32 MiB when it cannot be read)."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in os.listdir(base):
            with open(os.path.join(base, entry, "size")) as f:
                text = f.read().strip()
            mult = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
            best = max(best, int(text.rstrip("KMG")) * mult)
    except (OSError, ValueError):
        pass
    if not best and hasattr(os, "sysconf"):
        try:
            best = max(os.sysconf("SC_LEVEL3_CACHE_SIZE"), os.sysconf("SC_LEVEL2_CACHE_SIZE"))
        except (ValueError, OSError):
            best = 0
    return best or 32 * 1024**2


class Pool:
    """Random inputs and outputs per (size, dtype), shared by every case of that size.

    Arrays are views into one allocation of k*size elements (k buffer sets for rotation);
    inputs are never written by any implementation, so sharing them between ops is safe.
    """

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.arrays = {}
        self.llc = cache_bytes()

    def sets_for(self, size, dtype, streams):
        if size <= HOT_MAX:
            return 1
        set_bytes = size * np.dtype(dtype).itemsize * streams
        return max(1, min(16, math.ceil(2 * self.llc / set_bytes)))

    def array(self, role, size, dtype, k, random):
        key = (role, size, dtype)
        have = self.arrays.get(key)
        if have is None or have.size < k * size:
            if random:
                have = self.rng.standard_normal(k * size, dtype=np.dtype(dtype)) * 2
            else:
                have = np.ones(k * size, dtype)  # touched: no page faults in the timed loop
            self.arrays[key] = have
        return [have[i * size:(i + 1) * size] for i in range(k)]

    def clear(self):
        self.arrays.clear()


def make_buffer_sets(case, pool):
    """[{name: array}] buffer sets for the case (several when rotating out of cache)."""
    import actcore

    n, dt, shape = case.size, case.dtype, case.shape
    if case.family == "batch_norm":
        streams = 4 if case.kind == "train" else 2
    else:
        streams = {"fwd": 2}.get(case.kind, 3)
    k = pool.sets_for(n, dt, streams)
    xs = pool.array("x", n, dt, k, True)
    outs = pool.array("out", n, dt, k, False)
    sets = [{"x": x.reshape(shape), "out": o.reshape(shape)} for x, o in zip(xs, outs, strict=True)]
    half = shape[:-1] + (shape[-1] // 2,)
    if case.op == "swiglu" and case.kind == "fwd":
        for s in sets:
            s["out"] = s["out"].reshape(-1)[: n // 2].reshape(half)
    if case.kind in ("grad", "gout", "train"):
        dys = pool.array("dy", n, dt, k, True)
        for s, d in zip(sets, dys, strict=True):
            # dy has the output's shape (for swiglu: half the input along the axis)
            s["dy"] = d[: n // 2].reshape(half) if case.op == "swiglu" else d.reshape(shape)
    if case.kind == "gout" or (case.op in ("softmax", "log_softmax") and case.kind == "grad"):
        ys = pool.array("y", n, dt, k, False)  # the forward output, per set
        for s, y in zip(sets, ys, strict=True):
            y = y.reshape(shape)
            if case.family == "axis":
                y[...] = getattr(actcore, case.op)(s["x"], axis=-1)
            else:
                getattr(actcore, case.op)(s["x"], *peers.op_params(case.op).values(), out=y)
            s["y"] = y
    if case.family == "batch_norm":
        c = BN_C
        rng = np.random.default_rng(1)
        for s in sets:
            s["weight"] = (1 + 0.1 * rng.standard_normal(c)).astype(dt)
            s["bias"] = (0.1 * rng.standard_normal(c)).astype(dt)
            s["rmean"] = (0.1 * rng.standard_normal(c)).astype(dt)
            s["rvar"] = rng.uniform(0.5, 1.5, c).astype(dt)
    return sets


# ---------------------------------------------------------------- actcore itself
def _with_out(call, out):
    """call(out=out) if the function takes out=, else call() copied into out (noted)."""
    try:
        call(out=out)
        return (lambda: call(out=out)), None
    except TypeError as exc:
        if "out" not in str(exc):
            raise
    out[...] = call()  # once, so the cross-check of outputs sees actcore's result
    return (lambda: call()), "no out=: result allocated per call"


def actcore_make(case, bufs):
    """(callable, note) running the case with actcore on one buffer set."""
    import actcore

    op, kind = case.op, case.kind
    if case.family in ("forward", "gradient"):
        params = list(peers.op_params(op).values())
        base = "gelu" if op == "gelu_tanh" else op
        extra = {"approximate": "tanh"} if op == "gelu_tanh" else {}
        suffix = {"fwd": "", "grad": "_grad", "gout": "_grad_from_output"}[kind]
        fn = getattr(actcore, base + suffix)
        args = ([bufs["x"]] if kind == "fwd" else
                [bufs["dy"], bufs["x" if kind == "grad" else "y"]]) + params
        out = bufs["out"]
        if extra:
            return (lambda: fn(*args, out=out, **extra)), None
        if op == "prelu" and kind == "grad":  # (dx, dweight), no out=
            return _with_out(lambda **kw: fn(*args, **kw)[0], out)
        return (lambda: fn(*args, out=out)), None
    if case.family == "axis":
        if kind == "fwd":
            fn = getattr(actcore, op)
            return _with_out(lambda **kw: fn(bufs["x"], axis=-1, **kw), bufs["out"])
        fn = getattr(actcore, op + "_grad")
        second = bufs["y"] if op in ("softmax", "log_softmax") else bufs["x"]
        return _with_out(lambda **kw: fn(bufs["dy"], second, axis=-1, **kw), bufs["out"])
    # batch norm
    axis = -1 if op.endswith("_cl") else 1
    x, w, b, rm, rv = (bufs[k] for k in ("x", "weight", "bias", "rmean", "rvar"))
    if kind == "infer_relu":
        out = bufs["out"]
        return (lambda: actcore.batch_norm(x, rm, rv, w, b, training=False, activation="relu",
                                           axis=axis, out=out)), None
    dy, out = bufs["dy"], bufs["out"]
    dx = np.empty_like(out)

    def train():
        # the running buffers are updated in place, as in a training step
        _, mean, invstd = actcore.batch_norm_train(x, w, b, axis=axis, running_mean=rm,
                                                   running_var=rv, out=out)
        actcore.batch_norm_grad(dy, x, mean, invstd, w, axis=axis, out=dx)

    return train, "forward + backward, out= for y and dx"


# ---------------------------------------------------------------- timing
@dataclass
class Timing:
    min_time: float = 0.1  # seconds of samples per implementation and case
    warmup: float = 0.02
    sample: float = 1e-3  # target length of one sample (inner calls)
    max_repeats: int = 200
    min_repeats: int = 5  # 3 when one sample takes over `long_sample` seconds
    long_sample: float = 0.02


class _Sampler:
    """One contender's calls: warmed up, then timed a sample (``inner`` calls) at a time."""

    def __init__(self, fns, timing):
        k = len(fns)
        clock = time.perf_counter
        t0 = clock()
        calls = 0
        while True:
            for f in fns:
                f()
            calls += k
            elapsed = clock() - t0
            if elapsed >= timing.warmup:
                break
        per_call = elapsed / calls
        inner = max(1, int(timing.sample / max(per_call, 1e-9)))
        if k > 1:
            inner = max(k, (inner // k) * k)  # whole rotations: every set used equally
        sample_s = inner * per_call
        repeats = math.ceil(timing.min_time / max(sample_s, 1e-9))
        floor_reps = 3 if sample_s > timing.long_sample else timing.min_repeats
        self.repeats = max(floor_reps, min(timing.max_repeats, repeats))
        self.inner, self.k = inner, k
        self.order = [fns[i % k] for i in range(inner)]
        self.samples = []

    def sample(self):
        ns = time.perf_counter_ns
        order = self.order
        t = ns()
        for f in order:
            f()
        self.samples.append((ns() - t) * 1e-9 / self.inner)

    def stats(self):
        samples = self.samples
        q1, med, q3 = np.percentile(samples, [25, 50, 75])
        return {"median_s": float(med), "q1_s": float(q1), "q3_s": float(q3),
                "min_s": float(min(samples)), "max_s": float(max(samples)),
                "repeats": len(samples), "inner": self.inner, "buffer_sets": self.k}


def measure(fns, timing):
    """Stats of one call, fns rotating: {'median_s', 'q1_s', 'q3_s', 'min_s', 'max_s', ...}."""
    s = _Sampler(fns, timing)
    for _ in range(s.repeats):
        s.sample()
    return s.stats()


def measure_rounds(contenders, timing, burst=4):
    """{name: fns} -> ({name: stats}, {name: error}), the samples taken in rounds.

    Each round gives every contender that still needs samples a turn: one sample thrown away
    (the switch: the previous library's thread pool may still be spinning, and this one's may
    be asleep), then up to `burst` kept samples; the order of the turns rotates from round to
    round.  So the floor, actcore and the peers are timed through the same minutes of this
    shared machine: measured one after another, seconds apart, their ratios moved with the
    machine's memory bandwidth (2026-12-02, 2^24 float32 on 2 threads: the copy floor ranged
    2.8-8.0 ms across the cases of one run, and peers came out 1.8-2.5x faster than actcore on
    relu and hardshrink, all memory traffic); sampled one call each in strict alternation, every
    contender ran in the wake of another library's threads (medians 1.5-2x off for ONNX
    Runtime).  A contender whose call raises is dropped and reported; the others go on.
    """
    samplers, errors = {}, {}
    for name, fns in contenders.items():
        try:
            samplers[name] = _Sampler(fns, timing)
        except Exception as exc:  # a peer that cannot run this case
            errors[name] = exc
    names = list(samplers)
    rnd = 0
    while True:
        todo = [n for n in names if len(samplers[n].samples) < samplers[n].repeats]
        if not todo:
            break
        shift = rnd % len(todo)
        for name in todo[shift:] + todo[:shift]:
            s = samplers[name]
            try:
                s.sample()
                s.samples.pop()  # the switch-over sample
                for _ in range(min(burst, s.repeats - len(s.samples))):
                    s.sample()
            except Exception as exc:
                errors[name] = exc
                names.remove(name)
        rnd += 1
    return {n: samplers[n].stats() for n in names}, errors


def round_medians_ms(contenders, repeats, who="bench"):
    """{name: fn} -> {name: median ms of `repeats` calls}, timed together by measure_rounds
    (the bench/ scripts' tables: floors, actcore and peers through the same seconds)."""
    timing = Timing(min_time=0.0, warmup=0.02, sample=1e-3, min_repeats=repeats,
                    long_sample=1e9)
    stats, errors = measure_rounds({k: [f] for k, f in contenders.items()}, timing)
    if errors:
        raise RuntimeError(f"{who}: {errors}")
    return {k: 1e3 * v["median_s"] for k, v in stats.items()}


def _floor_streams(case):
    """(floor kind, scale): the floor loop to time and by how much to scale it.

    Elementwise forward reads x and writes y: the copy floor.  Gradients read dy and x (or y)
    and write dx: the three-stream add floor.  Composites: softmax-type forward 2 streams,
    gradient 3; swiglu forward reads n and writes n/2 elements (1.5n moved: 0.75 of the copy
    floor of n, which moves 2n), its gradient reads n/2 + n and writes n (2.5n: 1.25 copy
    floors); batch norm inference 2 streams (read x, write y), training forward + backward at
    least 8 streams (stats: read x; normalise: x -> y; backward reductions: dy, x; dx: dy, x
    -> dx), i.e. 4 copy floors.
    """
    if case.family in ("forward", "gradient"):
        return ("copy", 1.0) if case.kind == "fwd" else ("add", 1.0)
    if case.op == "swiglu":
        return ("copy", 0.75) if case.kind == "fwd" else ("copy", 1.25)
    if case.family == "axis":
        return ("copy", 1.0) if case.kind == "fwd" else ("add", 1.0)
    return ("copy", 1.0) if case.kind == "infer_relu" else ("copy", 4.0)


def floor_fns(case, pool):
    """(fns, kind, scale): the floor loop of the case on its own buffers (see _floor_streams)."""
    from . import _core

    kind, scale = _floor_streams(case)
    k = pool.sets_for(case.size, case.dtype, 2 if kind == "copy" else 3)
    a = pool.array("x", case.size, case.dtype, k, True)
    y = pool.array("out", case.size, case.dtype, k, False)
    if kind == "copy":
        fns = [(lambda a=a_, y=y_: _core.memory_floor(a, y))
               for a_, y_ in zip(a, y, strict=True)]
    else:
        b = pool.array("dy", case.size, case.dtype, k, True)
        fns = [(lambda a=a_, b=b_, y=y_: _core.memory_floor(a, b, y))
               for a_, b_, y_ in zip(a, b, y, strict=True)]
    return fns, kind, scale


def _scaled_floor(stats, kind, scale):
    for q in ("median_s", "q1_s", "q3_s", "min_s", "max_s"):
        stats[q] *= scale
    stats["kind"], stats["scale"] = kind, scale
    return stats


# ---------------------------------------------------------------- the run
class Progress:
    def __init__(self, total, stream):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.t0 = time.perf_counter()

    def step(self, label):
        self.done += 1
        el = time.perf_counter() - self.t0
        if not self.tty:  # a log file: one line per tenth of the run
            if self.done * 10 // max(self.total, 1) != (self.done - 1) * 10 // max(self.total, 1):
                self.stream.write(f"{self.done}/{self.total} cases after {el:.0f} s\n")
                self.stream.flush()
            return
        width = 30
        fill = int(width * self.done / max(self.total, 1))
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} "
                          f"{el:5.0f}s {label[:40]:<40}")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def check_output(got, expected):
    """A note when a peer's output is not actcore's (a wrong peer formula), else None.

    The tolerance is loose (2e-3 relative): it catches a peer computing something else, not
    accuracy differences, which the accuracy report measures.
    """
    if expected is None or got.shape != expected.shape:
        return None
    with np.errstate(all="ignore"):
        bad = ~np.isclose(got, expected, rtol=2e-3, atol=1e-5, equal_nan=True)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        return (f"output differs from actcore's at {int(bad.sum())} of {bad.size} elements "
                f"(first: {got.reshape(-1)[i]!r} vs {expected.reshape(-1)[i]!r})")
    return None


def _error_note(exc):
    if isinstance(exc, peers.Skip):
        return str(exc)
    return f"error: {type(exc).__name__}: {str(exc)[:200]}"


def run_case(case, impls, pool, timing, peer_cache):
    """Time the case's floor, actcore and peers together (measure_rounds), after checking
    each peer's output against actcore's once."""
    import actcore

    sets = make_buffer_sets(case, pool)
    expected = None
    ffns, fkind, fscale = floor_fns(case, pool)
    contenders = {"floor": ffns}
    with actcore.num_threads(case.threads):
        try:
            made = [actcore_make(case, s) for s in sets]
            made[0][0]()
            contenders["actcore"] = [m[0] for m in made]
            if made[0][1]:
                case.notes["actcore"] = made[0][1]
            if case.kind != "train":  # train's outputs are allocated by the API
                expected = sets[0]["out"].copy()
        except Exception as exc:  # an API still being written must not stop the run
            case.skipped["actcore"] = f"{type(exc).__name__}: {exc}"
        for name in impls:
            # numpy/scipy ufuncs are single-threaded: their time does not depend on the thread
            # count, so one measurement per (op, kind, size, dtype) serves every thread count.
            key = (name, case.op, case.kind, case.size, case.dtype)
            if name == "numpy" and key in peer_cache:
                cached = dict(peer_cache[key])
                cached["reused_from_threads"] = cached.pop("threads")
                case.results[name] = cached
                continue
            try:
                peers.set_threads(name, case.threads)
                params = peers.op_params(case.op) if case.family in ("forward", "gradient") \
                    else {}
                fns = [peers.MAKERS[name](case.op, case.kind, s, params, case.threads)
                       for s in sets]
                fns[0]()
                mismatch = check_output(sets[0]["out"], expected)
                if mismatch:
                    case.notes[name] = mismatch
                contenders[name] = fns
            except Exception as exc:
                case.skipped[name] = _error_note(exc)
        results, errors = measure_rounds(contenders, timing)
    for name, exc in errors.items():
        if name == "floor":
            raise exc
        if name == "actcore":
            case.skipped["actcore"] = f"{type(exc).__name__}: {exc}"
        else:
            case.skipped[name] = _error_note(exc)
    case.floor = _scaled_floor(results.pop("floor"), fkind, fscale)
    for name, stats in results.items():
        case.results[name] = stats
        key = (name, case.op, case.kind, case.size, case.dtype)
        if name == "numpy":
            peer_cache[key] = dict(stats, threads=case.threads)
    return case


def run(args, out=None, err=None):
    import actcore

    out, err = out or sys.stdout, err or sys.stderr
    found, skipped = peers.detect(args.peers)
    impls = [p for p in args.peers if p in found]
    timing = Timing(min_time=args.min_time, warmup=args.warmup,
                    min_repeats=3 if args.quick else 5)
    cases = build_cases(args)
    meta = report.machine_info(found, skipped)
    meta["settings"] = {
        "sizes": list(args.sizes), "dtypes": list(args.dtype), "threads": list(args.threads),
        "peers": list(args.peers), "filter": args.filter, "quick": args.quick,
        "min_time_s": timing.min_time, "warmup_s": timing.warmup,
        "llc_bytes": cache_bytes(), "hot_max": HOT_MAX,
    }
    print(report.header_text(meta), file=out)
    pool = Pool()
    peer_cache = {}
    progress = Progress(len(cases), err)
    t0 = time.perf_counter()
    # group by size and dtype so each pool of big arrays is built once, then freed
    cases.sort(key=lambda c: (c.size, c.dtype, c.threads))
    current = None
    for case in cases:
        if (case.size, case.dtype) != current:
            pool.clear()
            peers.clear_sessions()
            current = (case.size, case.dtype)
        progress.step(f"{case.name} n={case.size} {case.dtype} t={case.threads}")
        run_case(case, impls, pool, timing, peer_cache)
    progress.close()
    pool.clear()
    meta["elapsed_s"] = round(time.perf_counter() - t0, 1)
    del actcore
    return report.build_document(meta, cases)


# ---------------------------------------------------------------- command line
def _int_list(text):
    out = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"2\^(\d+)", part)
        out.append(2 ** int(m.group(1)) if m else int(part))
    if any(v < 1 for v in out):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return out


def _dtype_list(text):
    out = [t.strip() for t in text.split(",")]
    bad = [t for t in out if t not in ("float32", "float64")]
    if bad:
        raise argparse.ArgumentTypeError(f"dtypes must be float32/float64, got {bad}")
    return out


def _peer_list(text):
    out = [t.strip() for t in text.split(",") if t.strip()]
    alias = {"ort": "onnxruntime", "onnx": "onnxruntime", "scipy": "numpy"}
    return list(dict.fromkeys(alias.get(t, t) for t in out))


def parse_args(argv):
    ncpu = os.cpu_count() or 1
    p = argparse.ArgumentParser(
        prog="python -m actcore bench",
        description="Time actcore against NumPy/SciPy, PyTorch, ONNX Runtime, numexpr and JAX "
                    "(those installed) and against a memory floor.")
    p.add_argument("--filter", help="regex on 'op.kind' (kinds: fwd, grad, gout, infer_relu, "
                                    "train), e.g. 'relu|gelu' or '\\.fwd$'")
    p.add_argument("--sizes", type=_int_list, help="element counts, e.g. 1000,16384,2^24")
    p.add_argument("--threads", type=_int_list, help=f"thread counts (default 1,{ncpu})")
    p.add_argument("--dtype", type=_dtype_list, help="float32,float64")
    p.add_argument("--peers", type=_peer_list, default=list(peers.PEER_NAMES),
                   help="comma list of " + ",".join(peers.PEER_NAMES))
    p.add_argument("--quick", action="store_true",
                   help="float32, all threads, sizes 1000,2^16,2^20, short timing (< 1 min)")
    p.add_argument("--min-time", type=float, help="seconds of samples per measurement")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per measurement")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the Markdown report")
    p.add_argument("--plot", metavar="DIR", help="write PNG charts (needs matplotlib)")
    p.add_argument("--compare", metavar="OLD_JSON", help="print new/old time ratios")
    p.add_argument("--no-table", action="store_true", help="skip the full terminal table")
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    if args.threads is None:
        args.threads = [ncpu] if args.quick else sorted({1, ncpu})
    if args.dtype is None:
        args.dtype = ["float32"] if args.quick else ["float32", "float64"]
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.06
    if args.warmup is None:
        args.warmup = 0.003 if args.quick else 0.01
    if args.filter:
        try:
            re.compile(args.filter)
        except re.error as exc:
            p.error(f"--filter: not a valid regular expression: {exc}")
    return args


def main(argv=None):
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    doc = run(args)
    if not args.no_table:
        print(report.table_text(doc))
    print(report.summary_text(doc))
    if args.json:
        report.write_json(doc, args.json)
        print(f"wrote {args.json}")
    if args.markdown:
        report.write_markdown(doc, args.markdown)
        print(f"wrote {args.markdown}")
    if args.plot:
        print(report.write_plots(doc, args.plot))
    if args.compare:
        print(report.compare_text(report.read_json(args.compare), doc))
    return 0
