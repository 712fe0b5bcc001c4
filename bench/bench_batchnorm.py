"""Batch-norm benchmark: 32x64x56x56 float32, actcore vs memory floors and PyTorch.

Prints a Markdown table (best of repeats, ms).  Floors use the same OpenMP threads:
  inference floor  = one read of x + one write of y (actcore._core.memory_floor(x, y))
  training floor   = the minimal passes, run back to back: forward stats read(x) + apply
                     copy(x -> y); backward reduce read(dy, x) + apply add(dy, x -> dx);
                     with a fused ReLU the backward reads y in both passes: read(dy, x, y) +
                     add(dy, x -> dx) + read(y)
Run: PYTHONPATH=. python bench/bench_batchnorm.py
"""

import time

import actcore._core as core
import numpy as np

import actcore

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

SHAPE = (32, 64, 56, 56)
REPEAT = 20


def timeit(fn):
    fn()
    ts = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts) * 1e3  # min: the machine is shared; the least-disturbed run


def main():
    rng = np.random.default_rng(0)
    rows = []
    for layout in ("NCHW", "NHWC"):
        x = rng.standard_normal(SHAPE, dtype=np.float32)
        axis = 1
        if layout == "NHWC":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
            axis = -1
        C = x.shape[axis]
        w = rng.standard_normal(C).astype(np.float32)
        b = rng.standard_normal(C).astype(np.float32)
        rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
        y = np.empty_like(x)
        dy = rng.standard_normal(x.shape, dtype=np.float32)
        dx = np.empty_like(x)
        for nt in (1, 2):
            with actcore.num_threads(nt):
                floor_copy = timeit(lambda: core.memory_floor(x, y))
                timeit(lambda: core.memory_floor(dy, x, dx))  # warms the dx pages
                t_inf = timeit(lambda: actcore.batch_norm(x, rm, rv, w, b, axis=axis,
                                                          activation="relu", out=y))

                def train(act):
                    # y and dx reuse buffers (out=), as a training loop would: a fresh 25 MB
                    # array costs ~1.3 ms of page faults here, which is not batch norm's work
                    yy, m, i = actcore.batch_norm_train(x, w, b, axis=axis, activation=act,
                                                        out=y)
                    return actcore.batch_norm_grad(dy, x, m, i, w, axis=axis, activation=act,
                                                   y=yy, bias=b, out=dx)

                t_tr = timeit(lambda: train(None))
                t_tr_relu = timeit(lambda: train("relu"))
                # the training floors run their passes back to back, as training does: timed one
                # by one, x (25.7 MB) stays in the 32 MB L3 and each pass looks cheaper
                def floor_train():
                    core.bn_read_floor(x)
                    core.memory_floor(x, y)
                    core.bn_read_floor(dy, x)
                    core.memory_floor(dy, x, dx)

                def floor_train_relu():
                    core.bn_read_floor(x)
                    core.memory_floor(x, y)
                    core.bn_read_floor(dy, x, y)
                    core.memory_floor(dy, x, dx)
                    core.bn_read_floor(y)

                floor_tr = timeit(floor_train)
                floor_tr_relu = timeit(floor_train_relu)
                tt = tt_relu = tt_inf = float("nan")
                if torch is not None:
                    torch.set_num_threads(nt)
                    mf = torch.channels_last if layout == "NHWC" else torch.contiguous_format
                    xt = torch.tensor(x if layout == "NCHW" else
                                      np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
                    xt = xt.contiguous(memory_format=mf).requires_grad_(True)
                    dyt = torch.tensor(dy if layout == "NCHW" else
                                       np.ascontiguousarray(dy.transpose(0, 3, 1, 2)))
                    dyt = dyt.contiguous(memory_format=mf)
                    wt = torch.tensor(w, requires_grad=True)
                    bt = torch.tensor(b, requires_grad=True)
                    rmt, rvt = torch.zeros(C), torch.ones(C)

                    def ttrain(relu):
                        out = F.batch_norm(xt, None, None, wt, bt, training=True)
                        if relu:
                            out = torch.relu(out)
                        out.backward(dyt)

                    def tinf():
                        with torch.no_grad():
                            torch.relu_(F.batch_norm(xt, rmt, rvt, wt, bt, training=False))

                    tt = timeit(lambda: ttrain(False))
                    tt_relu = timeit(lambda: ttrain(True))
                    tt_inf = timeit(tinf)
                rows.append((layout, nt, "inference + ReLU", t_inf, floor_copy, tt_inf))
                rows.append((layout, nt, "train fwd+bwd", t_tr, floor_tr, tt))
                rows.append((layout, nt, "train fwd+bwd, ReLU", t_tr_relu, floor_tr_relu,
                             tt_relu))
    print(f"Batch norm, {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]}x{SHAPE[3]} float32, best of "
          f"{REPEAT}, ms (actcore {actcore.__version__}, kernels {core.bn_isa()}"
          f"{', torch ' + torch.__version__ if torch else ''})\n")
    print("| layout | threads | case | actcore | floor | actcore/floor | PyTorch | "
          "PyTorch/actcore |")
    print("|---|---|---|---|---|---|---|---|")
    for layout, nt, case, t, fl, tt in rows:
        print(f"| {layout} | {nt} | {case} | {t:.2f} | {fl:.2f} | {t / fl:.2f} | {tt:.2f} | "
              f"{tt / t:.2f} |")


if __name__ == "__main__":
    main()
