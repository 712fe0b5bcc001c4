"""Peers of the benchmark: which frameworks are installed, and what each runs per case.

Every entry builds, from one set of NumPy buffers, a zero-argument callable that does the case's
work once, writing into preallocated output wherever the framework allows it (NumPy ufunc
``out=``, torch ``out=``/in-place, numexpr ``out=``, ONNX Runtime io_binding onto the NumPy
buffers), so allocation is not what is timed.  A missing entry means the framework has no
equivalent; the harness reports it as skipped with the reason.

Peers are imported lazily (``import torch`` alone takes ~2 s) and only when asked for.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from ._bench_expr import Unsupported, numexpr_program, numpy_program
from ._registry import SELU_ALPHA, SELU_SCALE

PEER_NAMES = ("numpy", "torch", "onnxruntime", "numexpr", "jax")

# Parameters used for every op that has them (registry defaults, except threshold's, which has
# none: value 0 makes it ONNX's ThresholdedRelu).
BENCH_PARAMS = {"threshold": {"threshold": 0.1, "value": 0.0},
                # one shared slope (weight of shape ()): the elementwise cases are 1-D
                "prelu": {"weight": 0.25, "axis": 1},
                "rrelu": {"lower": 1.0 / 8.0, "upper": 1.0 / 3.0, "training": False}}


class Skip(Exception):
    """This peer cannot run this case; the message says why."""


def op_params(op):
    """{name: value} for an op of the benchmark (gelu_tanh is gelu with approximate='tanh')."""
    from ._registry import OPS

    if op == "gelu_tanh":
        return {}
    spec = OPS[op]
    out = {k: v for k, v in spec.params if k != "approximate"}
    out.update(BENCH_PARAMS.get(op, {}))
    return out


# ---------------------------------------------------------------- detection
def detect(wanted):
    """({name: version}, {name: reason}) for the peers in wanted, importing each one."""
    found, skipped = {}, {}
    for name in wanted:
        try:
            if name == "numpy":
                found["numpy"] = np.__version__
                try:
                    sp = importlib.import_module("scipy")
                    found["scipy"] = sp.__version__
                except ImportError as exc:
                    skipped["scipy"] = f"ImportError: {exc} (formulas using scipy.special skipped)"
            elif name == "onnxruntime":
                ort = importlib.import_module("onnxruntime")
                onnx = importlib.import_module("onnx")
                found["onnxruntime"] = f"{ort.__version__} (onnx {onnx.__version__})"
            elif name == "jax":
                jax = importlib.import_module("jax")
                found["jax"] = f"{jax.__version__} (threads fixed by XLA at start-up)"
            elif name in ("torch", "numexpr"):
                found[name] = importlib.import_module(name).__version__
            else:
                skipped[name] = f"unknown peer (known: {', '.join(PEER_NAMES)})"
        except ImportError as exc:
            skipped[name] = f"ImportError: {exc}"
    return found, skipped


def set_threads(name, n):
    """Put peer `name` at n threads (the thread count of the case)."""
    if name == "torch":
        import torch

        torch.set_num_threads(n)
    elif name == "numexpr":
        import numexpr

        numexpr.set_num_threads(n)
    # numpy ufuncs are single-threaded; onnxruntime takes n per session; jax cannot change.


# ---------------------------------------------------------------- NumPy/SciPy and numexpr
_L, _LA = repr(SELU_SCALE), repr(SELU_SCALE * SELU_ALPHA)
_SQRT_2_PI = repr(math.sqrt(2.0 / math.pi))
_INV_SQRT_2PI = repr(1.0 / math.sqrt(2.0 * math.pi))
_HSIG = "minimum(maximum(x / 6 + 0.5, 0), 1)"

FWD = {
    "sigmoid": "expit(x)",
    "log_sigmoid": "log_expit(x)",
    "tanh": "tanh(x)",
    "relu": "maximum(x, 0)",
    "relu6": "minimum(maximum(x, 0), 6)",
    "leaky_relu": "maximum(x, negative_slope * x)",  # valid for 0 <= slope <= 1
    "prelu": "where(x > 0, x, weight * x)",
    "rrelu": "where(x > 0, x, (lower + upper) / 2 * x)",  # eval mode: the mean slope
    "elu": "where(x > 0, x, alpha * expm1(x))",
    "selu": f"where(x > 0, {_L} * x, {_LA} * expm1(x))",
    "celu": "maximum(x, 0) + minimum(alpha * expm1(x / alpha), 0)",
    "gelu": "x * ndtr(x)",
    "gelu_tanh": f"0.5 * x * (1 + tanh({_SQRT_2_PI} * (x + 0.044715 * x * x * x)))",
    "silu": "x * expit(x)",
    "swish": "x * expit(beta * x)",
    "mish": "x * tanh(logaddexp(0, x))",
    "softplus": "where(beta * x > threshold, x, logaddexp(0, beta * x) / beta)",
    "softsign": "x / (1 + abs(x))",
    "hardsigmoid": _HSIG,
    "hardswish": f"x * {_HSIG}",
    "hardtanh": "clip(x, min_val, max_val)",
    "threshold": "where(x > threshold, x, value)",
    "hardshrink": "where(abs(x) > lambd, x, 0)",
    "softshrink": "x - clip(x, -lambd, lambd)",
    "tanhshrink": "x - tanh(x)",
    "step": "heaviside(x, 0)",
}
GRAD = {
    "prelu": "where(x > 0, dy, weight * dy)",  # dx only: actcore's prelu_grad also reduces dweight
    "rrelu": "where(x > 0, dy, (lower + upper) / 2 * dy)",
    "sigmoid": "s = expit(x); dy * s * (1 - s)",
    "log_sigmoid": "dy * expit(-x)",
    "tanh": "t = tanh(x); dy * (1 - t * t)",
    "relu": "where(x > 0, dy, 0)",
    "relu6": "where((x > 0) & (x < 6), dy, 0)",
    "leaky_relu": "where(x > 0, dy, negative_slope * dy)",
    "elu": "where(x > 0, dy, dy * alpha * exp(x))",
    "selu": f"where(x > 0, {_L} * dy, {_LA} * dy * exp(x))",
    "celu": "where(x > 0, dy, dy * exp(x / alpha))",
    "gelu": f"dy * (ndtr(x) + x * {_INV_SQRT_2PI} * exp(-0.5 * x * x))",
    "gelu_tanh": (f"t = tanh({_SQRT_2_PI} * (x + 0.044715 * x * x * x)); "
                  f"dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * {_SQRT_2_PI} "
                  "* (1 + 0.134145 * x * x))"),
    "silu": "s = expit(x); dy * s * (1 + x * (1 - s))",
    "swish": "s = expit(beta * x); dy * (s + beta * x * s * (1 - s))",
    "mish": "t = tanh(logaddexp(0, x)); dy * (t + x * (1 - t * t) * expit(x))",
    "softplus": "where(beta * x > threshold, dy, dy * expit(beta * x))",
    "softsign": "d = 1 + abs(x); dy / (d * d)",
    "hardsigmoid": "where((x > -3) & (x < 3), dy / 6, 0)",
    "hardswish": "where(x < -3, 0, where(x <= 3, dy * (x / 3 + 0.5), dy))",
    "hardtanh": "where((x > min_val) & (x < max_val), dy, 0)",
    "threshold": "where(x > threshold, dy, 0)",
    "hardshrink": "where(abs(x) > lambd, dy, 0)",
    "softshrink": "where(abs(x) > lambd, dy, 0)",
    "tanhshrink": "t = tanh(x); dy * t * t",
}
GOUT = {
    "sigmoid": "dy * y * (1 - y)",
    "tanh": "dy * (1 - y * y)",
    "relu": "where(y > 0, dy, 0)",
    "relu6": "where((y > 0) & (y < 6), dy, 0)",
    "leaky_relu": "where(y > 0, dy, negative_slope * dy)",
    "elu": "where(y > 0, dy, dy * (y + alpha))",
    "hardtanh": "where((y > min_val) & (y < max_val), dy, 0)",
}
FORMULAS = {"fwd": FWD, "grad": GRAD, "gout": GOUT}


def _formula_peer(program):
    def make(op, kind, bufs, params, threads):
        formula = FORMULAS.get(kind, {}).get(op)
        if formula is None:
            raise Skip("no formula")
        env = dict(params)
        env.update({k: v for k, v in bufs.items() if k != "out"})
        try:
            return program(formula, env, bufs["out"])
        except Unsupported as exc:
            raise Skip(str(exc)) from None
        except ImportError as exc:
            raise Skip(f"ImportError: {exc}") from None

    return make


# ---------------------------------------------------------------- torch
def _torch_elementwise():
    import torch

    nn, A = torch._C._nn, torch.ops.aten
    selu = (SELU_ALPHA, SELU_SCALE, 1.0)
    fwd = {
        "sigmoid": lambda x, o, p: lambda: torch.sigmoid(x, out=o),
        "log_sigmoid": lambda x, o, p: lambda: nn.log_sigmoid(x, out=o),
        "tanh": lambda x, o, p: lambda: torch.tanh(x, out=o),
        "relu": lambda x, o, p: lambda: torch.clamp_min(x, 0.0, out=o),
        "relu6": lambda x, o, p: lambda: nn.hardtanh(x, 0.0, 6.0, out=o),
        "leaky_relu": lambda x, o, p: lambda: nn.leaky_relu(x, p["negative_slope"], out=o),
        "elu": lambda x, o, p: lambda: nn.elu(x, p["alpha"], 1.0, 1.0, out=o),
        "selu": lambda x, o, p: lambda: nn.elu(x, *selu, out=o),
        "celu": lambda x, o, p: lambda: nn.elu(x, p["alpha"], 1.0, 1.0 / p["alpha"], out=o),
        "gelu": lambda x, o, p: lambda: nn.gelu(x, approximate="none", out=o),
        "gelu_tanh": lambda x, o, p: lambda: nn.gelu(x, approximate="tanh", out=o),
        "silu": lambda x, o, p: lambda: nn.silu(x, out=o),
        "mish": lambda x, o, p: lambda: nn.mish(x, out=o),
        "softplus": lambda x, o, p: lambda: nn.softplus(x, p["beta"], p["threshold"], out=o),
        "hardsigmoid": lambda x, o, p: lambda: nn.hardsigmoid(x, out=o),
        "hardswish": lambda x, o, p: lambda: nn.hardswish(x, out=o),
        "hardtanh": lambda x, o, p: lambda: nn.hardtanh(x, p["min_val"], p["max_val"], out=o),
        "threshold": lambda x, o, p: lambda: torch.threshold(x, p["threshold"], p["value"],
                                                             out=o),
        "hardshrink": lambda x, o, p: lambda: torch.hardshrink(x, p["lambd"], out=o),
        "softshrink": lambda x, o, p: lambda: nn.softshrink(x, p["lambd"], out=o),
        # no out= form in torch: the composition a torch user writes with out=/in place
        "softsign": lambda x, o, p: lambda: torch.div(x, torch.abs(x, out=o).add_(1), out=o),
        "tanhshrink": lambda x, o, p: lambda: torch.sub(x, torch.tanh(x, out=o), out=o),
        "step": lambda x, o, p: lambda: torch.gt(x, 0, out=o),
        # no out= in torch for these two: the result is copied into the shared output
        "prelu": lambda x, o, p: (lambda w: lambda: o.copy_(torch.prelu(x, w)))(
            torch.tensor([p["weight"]], dtype=x.dtype)),
        "rrelu": lambda x, o, p: lambda: o.copy_(torch.rrelu(x, p["lower"], p["upper"], False)),
    }

    def log_sigmoid_grad(d, x, o, p):
        _, buf = A.log_sigmoid_forward(x)  # the forward's saved buffer, as autograd keeps it
        return lambda: A.log_sigmoid_backward.grad_input(d, x, buf, grad_input=o)

    grad = {  # dL/dx from (dy, x): the aten backward kernels autograd calls
        "log_sigmoid": log_sigmoid_grad,
        # prelu's backward gives (dx, dweight), as actcore's prelu_grad does
        "prelu": lambda d, x, o, p: (lambda w: lambda: o.copy_(
            A._prelu_kernel_backward(d, x, w)[0]))(torch.tensor([p["weight"]], dtype=x.dtype)),
        # rrelu in eval mode: rrelu_with_noise_backward is leaky_relu_backward at the mean slope
        "rrelu": lambda d, x, o, p: lambda: A.leaky_relu_backward.grad_input(
            d, x, (p["lower"] + p["upper"]) / 2, False, grad_input=o),
        "relu": lambda d, x, o, p: lambda: A.threshold_backward.grad_input(d, x, 0.0,
                                                                            grad_input=o),
        "relu6": lambda d, x, o, p: lambda: A.hardtanh_backward.grad_input(d, x, 0.0, 6.0,
                                                                            grad_input=o),
        "leaky_relu": lambda d, x, o, p: lambda: A.leaky_relu_backward.grad_input(
            d, x, p["negative_slope"], False, grad_input=o),
        "elu": lambda d, x, o, p: lambda: A.elu_backward.grad_input(
            d, p["alpha"], 1.0, 1.0, False, x, grad_input=o),
        "selu": lambda d, x, o, p: lambda: A.elu_backward.grad_input(
            d, *selu, False, x, grad_input=o),
        "celu": lambda d, x, o, p: lambda: A.elu_backward.grad_input(
            d, p["alpha"], 1.0, 1.0 / p["alpha"], False, x, grad_input=o),
        "gelu": lambda d, x, o, p: lambda: A.gelu_backward.grad_input(
            d, x, approximate="none", grad_input=o),
        "gelu_tanh": lambda d, x, o, p: lambda: A.gelu_backward.grad_input(
            d, x, approximate="tanh", grad_input=o),
        "silu": lambda d, x, o, p: lambda: A.silu_backward.grad_input(d, x, grad_input=o),
        "mish": lambda d, x, o, p: lambda: o.copy_(A.mish_backward(d, x)),  # no out= form
        "softplus": lambda d, x, o, p: lambda: A.softplus_backward.grad_input(
            d, x, p["beta"], p["threshold"], grad_input=o),
        "hardsigmoid": lambda d, x, o, p: lambda: A.hardsigmoid_backward.grad_input(
            d, x, grad_input=o),
        "hardswish": lambda d, x, o, p: lambda: A.hardswish_backward.out(d, x, out=o),
        "hardtanh": lambda d, x, o, p: lambda: A.hardtanh_backward.grad_input(
            d, x, p["min_val"], p["max_val"], grad_input=o),
        "threshold": lambda d, x, o, p: lambda: A.threshold_backward.grad_input(
            d, x, p["threshold"], grad_input=o),
        "hardshrink": lambda d, x, o, p: lambda: A.hardshrink_backward.grad_input(
            d, x, p["lambd"], grad_input=o),
        "softshrink": lambda d, x, o, p: lambda: A.softshrink_backward.grad_input(
            d, x, p["lambd"], grad_input=o),
    }
    gout = {  # from the forward output y, as autograd does for these ops
        "sigmoid": lambda d, y, o, p: lambda: A.sigmoid_backward.grad_input(d, y, grad_input=o),
        "tanh": lambda d, y, o, p: lambda: A.tanh_backward.grad_input(d, y, grad_input=o),
        "relu": lambda d, y, o, p: lambda: A.threshold_backward.grad_input(d, y, 0.0,
                                                                            grad_input=o),
        "relu6": lambda d, y, o, p: lambda: A.hardtanh_backward.grad_input(d, y, 0.0, 6.0,
                                                                            grad_input=o),
        "hardtanh": lambda d, y, o, p: lambda: A.hardtanh_backward.grad_input(
            d, y, p["min_val"], p["max_val"], grad_input=o),
        "leaky_relu": lambda d, y, o, p: lambda: A.leaky_relu_backward.grad_input(
            d, y, p["negative_slope"], True, grad_input=o),
        "elu": lambda d, y, o, p: lambda: A.elu_backward.grad_input(
            d, p["alpha"], 1.0, 1.0, True, y, grad_input=o),
    }
    return {"fwd": fwd, "grad": grad, "gout": gout}


_TORCH = {}


def _torch_make(op, kind, bufs, params, threads):
    import torch

    if not _TORCH:
        _TORCH.update(_torch_elementwise())
    t = {k: torch.from_numpy(v) for k, v in bufs.items()}  # shares the NumPy memory
    if op not in COMPOSITE_OPS:
        entry = _TORCH[kind].get(op)
        if entry is None:
            raise Skip("no torch equivalent")
        if kind == "fwd":
            return entry(t["x"], t["out"], params)
        return entry(t["dy"], t["x" if kind == "grad" else "y"], t["out"], params)
    return _torch_composite(op, kind, t, bufs)


def _torch_composite(op, kind, t, bufs):
    import torch

    nn, A = torch._C._nn, torch.ops.aten
    if op in ("softmax", "log_softmax"):
        x = t["x"] if kind == "fwd" else t["y"]
        dt = x.dtype
        if kind == "fwd":
            fn = torch.softmax if op == "softmax" else torch.log_softmax
            return lambda: fn(t["x"], -1, out=t["out"])
        if op == "softmax":
            return lambda: A._softmax_backward_data.out(t["dy"], t["y"], -1, dt,
                                                        grad_input=t["out"])
        return lambda: A._log_softmax_backward_data.out(t["dy"], t["y"], -1, dt, out=t["out"])
    if op == "swiglu":
        x = t["x"]
        half = x.shape[-1] // 2
        a, b = x[..., :half], x[..., half:]
        if kind == "fwd":
            return lambda: nn.silu(a, out=t["out"]).mul_(b)
        o = t["out"]
        oa, ob = o[..., :half], o[..., half:]
        dy = t["dy"]

        def swiglu_grad():
            nn.silu(a, out=ob).mul_(dy)  # db = silu(a) * dy
            A.silu_backward.grad_input(torch.mul(dy, b, out=oa), a, grad_input=oa)

        return swiglu_grad
    if op.startswith("batch_norm"):
        cl = op.endswith("_cl")

        def nchw(v):  # channels-last NumPy (N,H,W,C) as torch's channels_last NCHW view
            return v.permute(0, 3, 1, 2) if cl and v.dim() == 4 else v

        x, w, b, rm, rv = (nchw(t[k]) for k in ("x", "weight", "bias", "rmean", "rvar"))
        if kind == "infer_relu":
            y = nchw(t["out"])
            sm, si = torch.empty(0, dtype=x.dtype), torch.empty(0, dtype=x.dtype)

            def bn_infer():
                A.native_batch_norm.out(x, w, b, rm, rv, False, 0.1, 1e-5,
                                        out=y, save_mean=sm, save_invstd=si)
                torch.relu_(y)

            return bn_infer
        dy = nchw(t["dy"])

        def bn_train():
            y, mean, invstd = A.native_batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5)
            A.native_batch_norm_backward(dy, x, w, rm, rv, mean, invstd, True, 1e-5,
                                         [True, True, True])

        return bn_train
    raise Skip("no torch equivalent")


# ---------------------------------------------------------------- ONNX Runtime
_ONNX_FWD = {  # op -> (ONNX op type, attributes from params)
    "sigmoid": ("Sigmoid", lambda p: {}),
    "tanh": ("Tanh", lambda p: {}),
    "relu": ("Relu", lambda p: {}),
    "leaky_relu": ("LeakyRelu", lambda p: {"alpha": p["negative_slope"]}),
    "elu": ("Elu", lambda p: {"alpha": p["alpha"]}),
    "selu": ("Selu", lambda p: {"alpha": SELU_ALPHA, "gamma": SELU_SCALE}),
    "celu": ("Celu", lambda p: {"alpha": p["alpha"]}),
    "gelu": ("Gelu", lambda p: {"approximate": "none"}),
    "gelu_tanh": ("Gelu", lambda p: {"approximate": "tanh"}),
    "hardsigmoid": ("HardSigmoid", lambda p: {"alpha": 1.0 / 6.0, "beta": 0.5}),
    "hardswish": ("HardSwish", lambda p: {}),
    "softplus": ("Softplus", lambda p: {}),  # beta=1, no threshold: the defaults we run
    "softsign": ("Softsign", lambda p: {}),
    "mish": ("Mish", lambda p: {}),
    "hardshrink": ("Shrink", lambda p: {"lambd": p["lambd"], "bias": 0.0}),
    "softshrink": ("Shrink", lambda p: {"lambd": p["lambd"], "bias": p["lambd"]}),
    "threshold": ("ThresholdedRelu", lambda p: {"alpha": p["threshold"]}),  # value is 0
    "relu6": ("Clip", lambda p: {"_min": 0.0, "_max": 6.0}),
    "hardtanh": ("Clip", lambda p: {"_min": p["min_val"], "_max": p["max_val"]}),
    "softmax": ("Softmax", lambda p: {"axis": -1}),
    "log_softmax": ("LogSoftmax", lambda p: {"axis": -1}),
}
_ORT_SESSIONS = {}


def _onnx_session(key, build):
    if key not in _ORT_SESSIONS:
        _ORT_SESSIONS[key] = build()
    return _ORT_SESSIONS[key]


def clear_sessions():
    _ORT_SESSIONS.clear()


def _onnx_model(nodes, inputs, outputs, initializers=()):
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, "bench", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9  # onnxruntime >= 1.16 reads IR 9 (opset 20)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _onnx_build(op, kind, dtype, ndim, params, threads):
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    elem = {np.dtype(np.float32): TensorProto.FLOAT,
            np.dtype(np.float64): TensorProto.DOUBLE}[np.dtype(dtype)]
    dims = [f"d{i}" for i in range(ndim)]
    x = helper.make_tensor_value_info("x", elem, dims)
    y = helper.make_tensor_value_info("y", elem, dims)
    inits, nodes = [], []
    if op.startswith("batch_norm"):
        names = ["x", "weight", "bias", "rmean", "rvar"]
        ins = [x] + [helper.make_tensor_value_info(n, elem, ["C"]) for n in names[1:]]
        nodes = [helper.make_node("BatchNormalization", names, ["t"], epsilon=1e-5),
                 helper.make_node("Relu", ["t"], ["y"])]
    else:
        op_type, attrs = _ONNX_FWD[op]
        attrs = attrs(params)
        names = ["x"]
        if op_type == "Clip":  # min/max are inputs since opset 11
            for k in ("_min", "_max"):
                inits.append(numpy_helper.from_array(np.array(attrs.pop(k), dtype), k[1:]))
                names.append(k[1:])
        nodes = [helper.make_node(op_type, names, ["y"], **attrs)]
        ins = [x]
    model = _onnx_model(nodes, ins, [y], inits)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    # ORT's pool threads spin while it runs (its default), but are told to stop when run()
    # returns: left spinning, they took the cores from whatever ran next, and the benchmark
    # samples its contenders in interleaved rounds (2026-12-02, 2^24 float32 on 2 threads: gelu
    # sampled after ORT ran 15 ms instead of 7-9, the quartile spread of every contender was
    # 40-60%; with the stop, 4-24%)
    so.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def _onnx_make(op, kind, bufs, params, threads):
    if op == "batch_norm_cl":
        raise Skip("ONNX BatchNormalization takes the channels on axis 1 only")
    if kind not in ("fwd", "infer_relu") or (op not in _ONNX_FWD and op != "batch_norm"):
        raise Skip("no ONNX operator" + (" (no gradients in ONNX Runtime inference)"
                                         if kind not in ("fwd", "infer_relu") else ""))
    # parameters the ONNX operator cannot express (the benchmark runs neither; the accuracy
    # tables, python -m actcore accuracy --peer, try every parameter set)
    if op == "softplus" and (params.get("beta") != 1.0 or params.get("threshold") != 20.0):
        raise Skip("ONNX Softplus has no beta and no threshold (PyTorch's default 20 agrees "
                   "with none to float precision)")
    if op == "threshold" and params.get("value") != 0.0:
        raise Skip("ONNX ThresholdedRelu replaces with 0 only")
    x, out = bufs["x"], bufs["out"]
    key = (op, kind, x.dtype.str, x.ndim, tuple(sorted(params.items())), threads)
    try:
        sess = _onnx_session(key, lambda: _onnx_build(op, kind, x.dtype, x.ndim, params,
                                                     threads))
    except Exception as exc:  # onnxruntime raises its own classes (e.g. NotImplemented)
        raise Skip(f"onnxruntime: {str(exc).splitlines()[0][:160]}") from None
    binding = sess.io_binding()
    names = ["x"] + (["weight", "bias", "rmean", "rvar"] if op == "batch_norm" else [])
    for n in names:
        a = bufs[n]
        binding.bind_input(n, "cpu", 0, a.dtype, list(a.shape), a.ctypes.data)
    binding.bind_output("y", "cpu", 0, out.dtype, list(out.shape), out.ctypes.data)
    return lambda: sess.run_with_iobinding(binding)


# ---------------------------------------------------------------- JAX (forward only)
_JAX_FWD = {
    "sigmoid": "jax.nn.sigmoid", "log_sigmoid": "jax.nn.log_sigmoid", "tanh": "jnp.tanh",
    "relu": "jax.nn.relu", "relu6": "jax.nn.relu6", "elu": "jax.nn.elu", "selu": "jax.nn.selu",
    "celu": "jax.nn.celu", "silu": "jax.nn.silu", "softplus": "jax.nn.softplus",
    "softsign": "jax.nn.soft_sign", "hardsigmoid": "jax.nn.hard_sigmoid",
    "hardswish": "jax.nn.hard_swish", "hardtanh": "jax.nn.hard_tanh",
    "leaky_relu": "jax.nn.leaky_relu", "gelu": "jax.nn.gelu", "gelu_tanh": "jax.nn.gelu",
    "softmax": "jax.nn.softmax", "log_softmax": "jax.nn.log_softmax",
}


def _jax_make(op, kind, bufs, params, threads):
    import jax
    import jax.numpy as jnp

    if kind != "fwd" or op not in _JAX_FWD:
        raise Skip("no jax equivalent (forward ops only)")
    x = bufs["x"]
    if x.dtype == np.float64 and not jax.config.read("jax_enable_x64"):
        raise Skip("jax computes float64 only with jax_enable_x64")
    mod, _, attr = _JAX_FWD[op].rpartition(".")
    fn = getattr({"jax.nn": jax.nn, "jnp": jnp}[mod], attr)
    kw = {"gelu": {"approximate": False}, "gelu_tanh": {"approximate": True},
          "leaky_relu": {"negative_slope": params.get("negative_slope", 0.01)},
          "elu": {"alpha": params.get("alpha", 1.0)},
          "celu": {"alpha": params.get("alpha", 1.0)}}.get(op, {})
    f = jax.jit(lambda v: fn(v, **kw))
    xj = jax.device_put(x)
    f(xj).block_until_ready()
    return lambda: f(xj).block_until_ready()  # no out=: XLA allocates the result


# ---------------------------------------------------------------- numpy composites
def _numpy_composite(op, kind, bufs, params, threads):
    try:
        sp = _scipy()
    except ImportError as exc:
        raise Skip(f"ImportError: {exc}") from None
    out = bufs["out"]
    if op in ("softmax", "log_softmax"):
        red = out.shape[:-1] + (1,)
        m, s = np.empty(red, out.dtype), np.empty(red, out.dtype)
        if kind == "fwd":
            x = bufs["x"]
            if op == "softmax":
                def softmax():
                    np.max(x, axis=-1, keepdims=True, out=m)
                    np.subtract(x, m, out=out)
                    np.exp(out, out=out)
                    np.sum(out, axis=-1, keepdims=True, out=s)
                    np.divide(out, s, out=out)
                return softmax

            def log_softmax():
                np.max(x, axis=-1, keepdims=True, out=m)
                np.subtract(x, m, out=out)
                np.exp(out, out=out)
                np.sum(out, axis=-1, keepdims=True, out=s)
                np.log(s, out=s)
                np.add(s, m, out=s)
                np.subtract(x, s, out=out)
            return log_softmax
        dy, y = bufs["dy"], bufs["y"]
        if op == "softmax":
            def softmax_grad():  # y * (dy - sum(y * dy))
                np.multiply(y, dy, out=out)
                np.sum(out, axis=-1, keepdims=True, out=s)
                np.subtract(dy, s, out=out)
                np.multiply(out, y, out=out)
            return softmax_grad

        def log_softmax_grad():  # dy - exp(y) * sum(dy)
            np.sum(dy, axis=-1, keepdims=True, out=s)
            np.exp(y, out=out)
            np.multiply(out, s, out=out)
            np.subtract(dy, out, out=out)
        return log_softmax_grad
    if op == "swiglu":
        x = bufs["x"]
        half = x.shape[-1] // 2
        a, b = x[..., :half], x[..., half:]
        if kind == "fwd":
            def swiglu():
                sp.expit(a, out=out)
                np.multiply(out, a, out=out)
                np.multiply(out, b, out=out)
            return swiglu
        dy = bufs["dy"]
        da, db = out[..., :half], out[..., half:]
        t = np.empty_like(a)

        def swiglu_grad():  # da = dy*b*s*(1 + a(1-s)), db = dy*a*s
            sp.expit(a, out=t)
            np.multiply(a, t, out=db)  # silu(a)
            np.subtract(a, db, out=da)  # a(1-s)
            np.add(da, 1, out=da)
            np.multiply(da, t, out=da)
            np.multiply(da, b, out=da)
            np.multiply(da, dy, out=da)
            np.multiply(db, dy, out=db)
        return swiglu_grad
    if op.startswith("batch_norm"):
        return _numpy_batch_norm(op.endswith("_cl"), kind, bufs)
    raise Skip("no formula")


def _scipy():
    import scipy.special  # noqa: PLC0415

    return scipy.special


def _numpy_batch_norm(cl, kind, bufs):
    x, w, b, rm, rv, out = (bufs[k] for k in ("x", "weight", "bias", "rmean", "rvar", "out"))
    red = (0, 1, 2) if cl else (0, 2, 3)
    cshape = (x.shape[-1],) if cl else (1, x.shape[1], 1, 1)
    eps = 1e-5
    if kind == "infer_relu":
        def bn_infer():
            scale = w / np.sqrt(rv + eps)
            shift = b - rm * scale
            np.multiply(x, scale.reshape(cshape), out=out)
            np.add(out, shift.reshape(cshape), out=out)
            np.maximum(out, 0, out=out)
        return bn_infer
    dy = bufs["dy"]
    xhat, dx = np.empty_like(x), np.empty_like(x)
    m = x.size // x.shape[-1 if cl else 1]

    def bn_train():
        mean = x.mean(axis=red, keepdims=True)
        np.subtract(x, mean, out=xhat)
        var = np.mean(np.square(xhat, out=dx), axis=red, keepdims=True)
        invstd = 1.0 / np.sqrt(var + eps)
        np.multiply(xhat, invstd, out=xhat)
        np.multiply(xhat, w.reshape(cshape), out=out)
        np.add(out, b.reshape(cshape), out=out)
        rm[...] = 0.9 * rm + 0.1 * mean.reshape(-1)
        rv[...] = 0.9 * rv + 0.1 * var.reshape(-1) * (m / (m - 1))
        # backward: dx = w*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))
        dbias = dy.sum(axis=red, keepdims=True)
        dweight = np.multiply(dy, xhat, out=dx).sum(axis=red, keepdims=True)
        np.multiply(xhat, dweight, out=dx)
        np.subtract(m * dy, dx, out=dx)
        np.subtract(dx, dbias, out=dx)
        np.multiply(dx, w.reshape(cshape) * invstd / m, out=dx)
    return bn_train


COMPOSITE_OPS = ("softmax", "log_softmax", "swiglu", "batch_norm", "batch_norm_cl")


def _numpy_make(op, kind, bufs, params, threads):
    if op not in COMPOSITE_OPS:
        return _formula_peer(numpy_program)(op, kind, bufs, params, threads)
    return _numpy_composite(op, kind, bufs, params, threads)


def _numexpr_make(op, kind, bufs, params, threads):
    if op in COMPOSITE_OPS:
        raise Skip("no numexpr formula (reductions along an axis)")
    return _formula_peer(numexpr_program)(op, kind, bufs, params, threads)


MAKERS = {"numpy": _numpy_make, "torch": _torch_make, "onnxruntime": _onnx_make,
          "numexpr": _numexpr_make, "jax": _jax_make}
