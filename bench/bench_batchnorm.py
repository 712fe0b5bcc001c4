"""Batch-norm benchmark: 32x64x56x56 float32, actcore vs memory floors and PyTorch.

Prints a Markdown table (median of repeats, all timed together in rounds, ms).  Floors use
the same OpenMP threads:
  inference floor  = one read of x + one write of y (actcore._core.memory_floor(x, y))
  training floor   = the minimal passes, run back to back: forward stats read(x) + apply
                     copy(x -> y); backward reduce read(dy, x) + apply add(dy, x -> dx);
                     with a fused ReLU the backward reads y in both passes: read(dy, x, y) +
                     add(dy, x -> dx) + read(y)
Run: PYTHONPATH=. python bench/bench_batchnorm.py
"""

import actcore._core as core
import numpy as np

import actcore
from actcore import _bench

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

SHAPE = (32, 64, 56, 56)
REPEAT = 20


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
                core.memory_floor(dy, x, dx)  # faults in the dx pages

                def train(act):
                    # y and dx reuse buffers (out=), as a training loop would: a fresh 25 MB
                    # array costs ~1.3 ms of page faults here, which is not batch norm's work
                    yy, m, i = actcore.batch_norm_train(x, w, b, axis=axis, activation=act,
                                                        out=y)
                    return actcore.batch_norm_grad(dy, x, m, i, w, axis=axis, activation=act,
                                                   y=yy, bias=b, out=dx)

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

                fns = {"floor_copy": lambda: core.memory_floor(x, y),
                       "inf": lambda: actcore.batch_norm(x, rm, rv, w, b, axis=axis,
                                                         activation="relu", out=y),
                       "tr": lambda: train(None), "tr_relu": lambda: train("relu"),
                       "floor_tr": floor_train, "floor_tr_relu": floor_train_relu}
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

                    def ttrain(relu, xt=xt, dyt=dyt, wt=wt, bt=bt):
                        # fresh gradients each step, as after optimizer.zero_grad(set_to_none=
                        # True): accumulating into the old ones would add a pass over x.grad
                        xt.grad = wt.grad = bt.grad = None
                        out = F.batch_norm(xt, None, None, wt, bt, training=True)
                        if relu:
                            out = torch.relu(out)
                        out.backward(dyt)

                    def tinf(xt=xt, wt=wt, bt=bt, rmt=rmt, rvt=rvt):
                        with torch.no_grad():
                            torch.relu_(F.batch_norm(xt, rmt, rvt, wt, bt, training=False))

                    fns.update({"t_tr": lambda: ttrain(False), "t_tr_relu": lambda: ttrain(True),
                                "t_inf": tinf})
                t = _bench.round_medians_ms(fns, REPEAT, "bench_batchnorm")
                nan = float("nan")
                rows.append((layout, nt, "inference + ReLU", t["inf"], t["floor_copy"],
                             t.get("t_inf", nan)))
                rows.append((layout, nt, "train fwd+bwd", t["tr"], t["floor_tr"],
                             t.get("t_tr", nan)))
                rows.append((layout, nt, "train fwd+bwd, ReLU", t["tr_relu"], t["floor_tr_relu"],
                             t.get("t_tr_relu", nan)))
    print(f"Batch norm, {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]}x{SHAPE[3]} float32, median of "
          f"{REPEAT} runs, timed together in rounds (floors, actcore, PyTorch), ms "
          f"(actcore {actcore.__version__}, kernels {core.bn_isa()}"
          f"{', torch ' + torch.__version__ if torch else ''})\n")
    print("| layout | threads | case | actcore | floor | actcore/floor | PyTorch | "
          "PyTorch/actcore |")
    print("|---|---|---|---|---|---|---|---|")
    for layout, nt, case, t, fl, tt in rows:
        print(f"| {layout} | {nt} | {case} | {t:.2f} | {fl:.2f} | {t / fl:.2f} | {tt:.2f} | "
              f"{tt / t:.2f} |")


if __name__ == "__main__":
    main()
