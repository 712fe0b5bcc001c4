"""Small calls: per-call time of actcore, PyTorch and ONNX Runtime on inputs that fit in L1/L2,
one thread.

Where a call is this small its time is mostly fixed cost (argument handling, the kernel call,
thread-pool and GIL traffic), which the full benchmark's 1,000-element cases show per op; this
table covers the composite calls those cases do not (batch norm, prelu's gradient) and a few
axis calls for comparison.  All contenders of the table are timed together in rounds
(_bench.round_medians_ms), so they share the machine's state.  Times in microseconds.

Run: PYTHONPATH=. python bench/small_calls.py > bench/results/small_calls.md
"""

import platform

import numpy as np

import actcore
from actcore import _bench

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

REPEAT = 25


def ort_fns(x, w, b, rm, rv, r):
    """ONNX Runtime's calls for the batch-norm inference and softmax rows (io_binding into
    preallocated outputs, the full benchmark's sessions), or Nones without it."""
    from actcore import _bench_peers

    # the sessions bind raw pointers: the buffers must outlive them (the closures keep them)
    bn_bufs = dict(x=x, weight=w, bias=b, rmean=rm, rvar=rv, out=np.empty_like(x))
    sm_bufs = dict(x=r, out=np.empty_like(r))
    try:
        bn = _bench_peers._onnx_make("batch_norm", "infer_relu", bn_bufs, {}, 1)
        sm = _bench_peers._onnx_make("softmax", "fwd", sm_bufs, {}, 1)
    except (ImportError, _bench_peers.Skip):
        return None, None

    def bn_call():
        bn()
        return bn_bufs["out"]

    def sm_call():
        sm()
        return sm_bufs["out"]

    return bn_call, sm_call


def ort_axis(op, r):
    """ONNX Runtime's softmax or log_softmax over the last axis of r, or None without it."""
    from actcore import _bench_peers

    bufs = dict(x=r, out=np.empty_like(r))  # kept alive by the closure (raw pointers)
    try:
        sess = _bench_peers._onnx_make(op, "fwd", bufs, {}, 1)
    except (ImportError, _bench_peers.Skip):
        return None

    def call():
        sess()
        return bufs["out"]

    return call


# rows of classifier logits: short rows take the 16-rows-at-a-time kernel (<= 64 elements),
# rows of 100 the general one, whose fixed cost per row dominates there
ROW_SHAPES = [(1024, 10), (1024, 100)]


def row_cases(rng):
    out = []
    for shape in ROW_SHAPES:
        r = rng.standard_normal(shape, dtype=np.float32)
        y = np.empty_like(r)
        tr, ty = (torch.from_numpy(r), torch.from_numpy(y)) if torch is not None else (None,) * 2
        for op in ("softmax", "log_softmax"):
            f = getattr(actcore, op)
            g = None
            if torch is not None:
                tf = getattr(torch, op)
                g = lambda tf=tf, tr=tr, ty=ty: tf(tr, -1, out=ty)  # noqa: E731
            out.append((f"{op} {shape}, out=", lambda f=f, r=r, y=y: f(r, out=y), g,
                        ort_axis(op, r)))
    return out


def cases(rng):
    """(name, actcore callable, torch callable or None, ONNX Runtime callable or None)"""
    x = rng.standard_normal((1, 64, 16, 16), dtype=np.float32)
    y, dy = np.empty_like(x), rng.standard_normal(x.shape, dtype=np.float32)
    C = x.shape[1]
    w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
    r = rng.standard_normal((1, 1000), dtype=np.float32)
    ry = np.empty_like(r)
    p = rng.standard_normal(1000).astype(np.float32)
    pw = np.full(1, 0.25, np.float32)

    def bn_train():
        yy, m, i = actcore.batch_norm_train(x, w, b)
        return actcore.batch_norm_grad(dy, x, m, i, w)

    def bn_train_relu():  # the ReLU's gradient from its output y
        yy, m, i = actcore.batch_norm_train(x, w, b, activation="relu")
        return actcore.batch_norm_grad(dy, x, m, i, w, activation="relu", y=yy, bias=b)

    xl, dyl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)), np.ascontiguousarray(
        dy.transpose(0, 2, 3, 1))

    def bn_train_cl():
        yy, m, i = actcore.batch_norm_train(xl, w, b, axis=-1)
        return actcore.batch_norm_grad(dyl, xl, m, i, w, axis=-1)

    layer = actcore.BatchNorm(C, activation="relu")
    layer.weight[...], layer.bias[...] = w, b
    layer.eval()

    out = [
        ("batch_norm inference + ReLU (1, 64, 16, 16)",
         lambda: actcore.batch_norm(x, rm, rv, w, b, activation="relu", out=y)),
        ("BatchNorm layer, eval, ReLU (1, 64, 16, 16)", lambda: layer(x)),
        ("batch_norm training forward + backward (1, 64, 16, 16)", bn_train),
        ("batch_norm training + ReLU forward + backward (1, 64, 16, 16)", bn_train_relu),
        ("batch_norm training forward + backward, channels-last (1, 16, 16, 64)", bn_train_cl),
        ("prelu_grad, 1000 elements, one weight", lambda: actcore.prelu_grad(p, p, pw)),
        ("softmax (1, 1000), out=", lambda: actcore.softmax(r, out=ry)),
        ("softmax_grad (1, 1000)", lambda: actcore.softmax_grad(r, ry)),
        ("swiglu (1, 1000) -> (1, 500)", lambda: actcore.swiglu(r)),
    ]
    bn_ort, sm_ort = ort_fns(x, w, b, rm, rv, r)
    orts = [bn_ort, None, None, None, None, None, sm_ort, None, None]
    if torch is None:
        return [(n, f, None, o) for (n, f), o in zip(out, orts, strict=True)]
    tx, tdy = torch.from_numpy(x), torch.from_numpy(dy)
    tw, tb = torch.from_numpy(w), torch.from_numpy(b)
    trm, trv = torch.from_numpy(rm), torch.from_numpy(rv)
    tr, tp, tpw = torch.from_numpy(r), torch.from_numpy(p), torch.from_numpy(pw)
    tsy = torch.softmax(tr, -1)
    tsy_out = torch.empty_like(tr)

    def t_infer():
        with torch.no_grad():
            return torch.relu_(F.batch_norm(tx, trm, trv, tw, tb, training=False))

    tlayer = torch.nn.BatchNorm2d(C)
    with torch.no_grad():
        tlayer.weight.copy_(tw)
        tlayer.bias.copy_(tb)
    tlayer.eval()

    def t_layer():
        with torch.no_grad():
            return torch.relu_(tlayer(tx))

    def t_train():
        xg = tx.detach().requires_grad_()
        wg, bg = tw.detach().requires_grad_(), tb.detach().requires_grad_()
        F.batch_norm(xg, None, None, wg, bg, training=True).backward(tdy)
        return xg.grad

    def t_train_relu():
        xg = tx.detach().requires_grad_()
        wg, bg = tw.detach().requires_grad_(), tb.detach().requires_grad_()
        torch.relu(F.batch_norm(xg, None, None, wg, bg, training=True)).backward(tdy)
        return xg.grad

    txl = tx.contiguous(memory_format=torch.channels_last)
    tdyl = tdy.contiguous(memory_format=torch.channels_last)

    def t_train_cl():
        xg = txl.detach().requires_grad_()
        wg, bg = tw.detach().requires_grad_(), tb.detach().requires_grad_()
        F.batch_norm(xg, None, None, wg, bg, training=True).backward(tdyl)
        return xg.grad

    def t_prelu_grad():
        xg, wg = tp.detach().requires_grad_(), tpw.detach().requires_grad_()
        F.prelu(xg, wg).backward(tp)
        return xg.grad, wg.grad

    peers = [t_infer, t_layer, t_train, t_train_relu, t_train_cl, t_prelu_grad,
             lambda: torch.softmax(tr, -1, out=tsy_out),
             lambda: torch._softmax_backward_data(tr, tsy, -1, torch.float32),
             lambda: F.silu(tr[:, :500]) * tr[:, 500:]]
    return [(n, f, g, o) for (n, f), g, o in zip(out, peers, orts, strict=True)]


def main():
    actcore.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = cases(rng) + row_cases(rng)
    fns = {}
    for k, (_, f, g, o) in enumerate(rows):
        fns[f"a{k}"] = f
        if g is not None:
            fns[f"t{k}"] = g
        if o is not None:
            fns[f"o{k}"] = o
    t = _bench.round_medians_ms(fns, REPEAT, "small_calls")
    print("# Small calls: actcore, PyTorch and ONNX Runtime, one thread\n")
    print(f"Generated by `python bench/small_calls.py` (actcore {actcore.__version__}, "
          f"kernels {_isa()}, "
          f"torch {torch.__version__ if torch else 'not installed'}, "
          f"onnxruntime {_ort_version()}, "
          f"{platform.machine()}); median of {REPEAT} rounds, all contenders timed together, "
          "microseconds per call.\n")
    print("| call | actcore | PyTorch | PyTorch / actcore | ONNX Runtime | ORT / actcore |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, (name, *_) in enumerate(rows):
        a = 1e3 * t[f"a{k}"]
        cols = [f"{a:.2f}"]
        for key in (f"t{k}", f"o{k}"):
            p = 1e3 * t[key] if key in t else None
            cols += ["-", "-"] if p is None else [f"{p:.2f}", f"{p / a:.2f}"]
        print(f"| {name} | " + " | ".join(cols) + " |")
    print("\nONNX Runtime runs the batch-norm (BatchNormalization + Relu), softmax and "
          "log_softmax rows only: "
          "it has no training or gradient calls, and its sessions bind preallocated buffers.")


def _ort_version():
    try:
        import onnxruntime
    except ImportError:
        return "not installed"
    return onnxruntime.__version__


def _isa():
    from actcore import _core

    return _core.isa_info()["current"]


if __name__ == "__main__":
    main()
