"""The public elementwise activations, generated from the registry.

An op without parameters *is* its ufunc (``actcore.relu is actcore.ufuncs.relu``).  An op with
parameters is a thin function that supplies the defaults, checks scalar parameters, and calls
the ufunc with ``out=`` and every other ufunc keyword passed through untouched.  It never calls
``np.asarray`` on ``x``, so ``__array_ufunc__`` overrides (dask, xarray) still dispatch.
The functions are compiled from a template rather than built around ``*args``: binding
arguments through ``inspect.Signature`` costs several microseconds, more than a whole
1000-element activation.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core, ufuncs
from ._bfloat16 import is_bfloat16
from ._docs import param_text
from ._registry import OPS, REQUIRED

__all__: list[str] = []


def _scalar(value):
    """A Python/NumPy real scalar as float, else None (arrays are checked elementwise)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        return float(value)
    return None


def _check_real(fname, pname, value):
    """Parameters must be real numbers or real arrays (bfloat16 included)."""
    dt = getattr(value, "dtype", None)
    if isinstance(value, complex) or (dt is not None and dt.kind not in "fiub"
                                      and not is_bfloat16(dt)):
        raise TypeError(f"{fname}: {pname} must be a real number or real array, "
                        f"got {type(value).__name__}{'' if dt is None else ' of ' + str(dt)}")


def _all(value, pred):
    s = _scalar(value)
    if s is not None:
        return pred(np.float64(s))
    arr = np.asarray(value)  # a parameter, never x
    with np.errstate(invalid="ignore"):
        return bool(np.all(pred(arr.astype(np.float64))))


# Checks of parameters, per op: (parameter names, predicate on float64 values, expectation).
# They run on the parameters only, and before anything is written to `out`.
_CHECKS = {
    "celu": [(("alpha",), lambda a: a != 0, "a nonzero number")],
    "hardtanh": [(("min_val", "max_val"), lambda lo, hi: lo <= hi,
                  "min_val <= max_val")],
    "hardshrink": [(("lambd",), lambda v: v >= 0, ">= 0")],
    "softshrink": [(("lambd",), lambda v: v >= 0, ">= 0")],
    "softplus": [(("beta",), lambda b: b != 0, "a nonzero number")],
}
_GOUT_CHECKS = {
    "leaky_relu": [(("negative_slope",), lambda s: s >= 0,
                    ">= 0 (the output alone does not determine the gradient otherwise)")],
    "elu": [(("alpha",), lambda a: a >= 0,
             ">= 0 (the output alone does not determine the gradient otherwise)")],
}


def _validate(fname, checks, values):
    for pname, value in values.items():
        _check_real(fname, pname, value)
    for pnames, pred, expected in checks:
        args = [values[p] for p in pnames]
        if len(args) == 1:
            ok = _all(args[0], pred)
        else:
            s = [_scalar(a) for a in args]
            ok = pred(*s) if None not in s else bool(np.all(pred(*map(np.asarray, args))))
        if not ok:
            shown = ", ".join(f"{p}={values[p]!r}" for p in pnames)
            raise ValueError(f"{fname}: expected {' and '.join(pnames)} {expected}, "
                             f"got {shown}")


_TEMPLATE = """
def {fname}({lead}{sig}, *, out=None, **kwargs):
    {fast}{check}{fill}return _uf({lead}{args}, out=out, **kwargs)
"""

# Python-float parameters as cached 0-d arrays of the loop's dtype.  A Python float reaches the
# ufunc as a weak scalar that NumPy converts on every call: elu on one float32 element took
# 0.64 us through the ufunc against 0.35 with a 0-d float32 alpha, and 0.92 us through this
# wrapper (np.maximum(x, 0, out=y): 0.70).  The 0-d array holds the value the weak scalar is
# cast to, so the loop, the result and its dtype are the same.  Only plain ndarrays of float32
# or float64, with no other ufunc keyword, and parameters that are Python floats other than
# NaN (never equal to a key); at most _PC_MAX entries.  +0.0 and -0.0 are one key (equal, same
# hash) but not one slope or value: only +0.0 is stored, and an entry with a zero (its last
# item True) is used only when the call has no -0.0 among its parameters (threshold's
# value is usually 0.0, and its uncached calls cost 2 us at 1000 elements in the benchmark).
_PC_MAX = 512
_pcache: dict = {}


def _pfill(fname, dtype, values):
    """The cache entry for these values (made now if they qualify), else None."""
    ch = dtype.char
    key = (fname, ch, *values)
    if key in _pcache:
        return _pcache[key]
    if ch not in "fd" or len(_pcache) >= _PC_MAX:
        return None
    limit = 3.4028234663852886e38 if ch == "f" else math.inf
    for v in values:
        if type(v) is not float or v != v or abs(v) > limit:
            return None
    if any(v == 0 and math.copysign(1.0, v) < 0 for v in values):
        return None
    e = _pcache[key] = tuple(np.array(v, dtype) for v in values) + (0.0 in values,)
    return e


def _make(fname, uf, lead, op, checks, doc):
    pnames = [p for p, _ in op.params]
    sig = param_text(op).replace("'", '"')
    check = ""
    ns = {"_uf": uf, "_validate": _validate, "_checks": checks, "_nd": np.ndarray,
          "_pc": _pcache, "_pfill": _pfill, "_cs": math.copysign}
    quick = fill = dflt = ""
    if pnames:
        # Fast path: Python floats that pass the checks go straight to the ufunc (the generic
        # _validate costs 1-4 us, more than a 1000-element activation); anything else (arrays,
        # NumPy scalars, ints, bad values) takes the full validation with its error messages.
        fast = [f"type({p}) is float" for p in pnames]
        for i, (names, pred, _) in enumerate(checks):
            ns[f"_pred{i}"] = pred
            fast.append(f"_pred{i}({', '.join(names)})")
        values = "{" + ", ".join(f"{p!r}: {p}" for p in pnames) + "}"
        check = (f"if not ({' and '.join(fast)}):\n"
                 f"        _validate({fname!r}, _checks, {values})\n    ")
        # For plain arrays of one dtype, the parameters as cached 0-d arrays (_pfill), looked up
        # first: an entry exists only for values that passed this function's checks once (the
        # key starts with its name: elu's alpha -1.0 is no gradient-from-output's alpha), so a
        # hit skips them (their predicate's call was ~60 of softplus's ~320 ns over its ufunc).
        # rrelu's eval shortcut builds leaky_relu's key itself: keep the two formats alike
        # (test_rrelu_eval_and_training fails on a mismatch).
        arrays = [a.strip() for a in lead.split(",")]
        conds = ["not kwargs"] + [f"type({a}) is _nd" for a in arrays]
        conds += [f"{arrays[0]}.dtype is {a}.dtype" for a in arrays[1:]]
        conds += [f"type({p}) is float" for p in pnames]
        dt, plist = f"{arrays[-1]}.dtype", ", ".join(pnames)
        pargs = ", ".join(f"_p[{i}]" for i in range(len(pnames)))  # not *_p: no vectorcall
        # no -0.0 among the call's parameters, tested inline (a helper's call cost 0.25 us)
        nozero = " and ".join(f"({q} != 0 or _cs(1.0, {q}) > 0)" for q in pnames)
        quick = (f"if {' and '.join(conds)}:\n"
                 f"        _p = _pc.get(({fname!r}, {dt}.char, {plist}))\n"
                 f"        if _p is not None and (not _p[-1] or ({nozero})):\n"
                 f"            return _uf({lead}, {pargs}, out=out)\n    ")
        fill = (f"if {' and '.join(conds)}:\n"
                f"        _e = _pfill({fname!r}, {dt}, ({plist},))\n    ")
        if all(d is not REQUIRED for _, d in op.params):
            # Parameters left at their defaults (the function's own default objects, _D0 ...,
            # told apart by identity): their entry by dtype alone, no key tuple to build and
            # hash nor zero test (a default is never -0.0).  Filled after the checks passed.
            same = [f"{p} is _D{i}" for i, p in enumerate(pnames)]
            dconds = conds[:len(conds) - len(pnames)] + same
            dflt = (f"if {' and '.join(dconds)}:\n"
                    f"        _p = _pd.get({dt}.char)\n"
                    f"        if _p is not None:\n"
                    f"            return _uf({lead}, {pargs}, out=out)\n    ")
            fill += (f"    if _e is not None and {' and '.join(same)}:\n"
                     f"            _pd[{dt}.char] = _e\n    ")
            ns["_pd"] = {}
    src = _TEMPLATE.format(fname=fname, lead=lead, sig=sig, args=", " + ", ".join(pnames),
                           check=check, fast=dflt + quick, fill=fill)
    exec(src, ns)  # noqa: S102 - the source is built above from the registry, not from input
    fn = ns[fname]
    for i, d in enumerate(fn.__defaults__ or ()):
        ns[f"_D{i}"] = d  # the default objects the identity tests above compare with
    fn.__doc__ = doc
    fn.__module__ = "actcore"
    fn.ufunc = uf
    return fn


def _export(name, obj):
    globals()[name] = obj
    __all__.append(name)


_TAIL = (" Keyword arguments out=, where=, dtype=, casting= go to the underlying ufunc "
         "``actcore.ufuncs.{kernel}``.")

for _op in OPS.values():
    if _op.kind == "axis" or _op.kernel is None or _op.name == "gelu":
        continue  # composed below; axis ops live in axis.py
    _k = _op.kernel
    if not _op.params:
        _export(_op.name, getattr(ufuncs, _k))
        _export(_op.name + "_grad", getattr(ufuncs, _k + "_grad"))
        if _op.grad_from_output:
            _export(_op.name + "_grad_from_output", getattr(ufuncs, _k + "_grad_from_output"))
        continue
    _doc = f"{_op.name}(x{param_text(_op)}) -> y\n\n{_op.formula}." + _TAIL.format(kernel=_k)
    _export(_op.name, _make(_op.name, getattr(ufuncs, _k), "x", _op,
                            _CHECKS.get(_op.name, []), _doc))
    _doc = (f"{_op.name}_grad(dy, x{param_text(_op)}) -> dx\n\ndy * d{_op.name}/dx."
            + _TAIL.format(kernel=_k + "_grad"))
    _export(_op.name + "_grad", _make(_op.name + "_grad", getattr(ufuncs, _k + "_grad"),
                                      "dy, x", _op, _CHECKS.get(_op.name, []), _doc))
    if _op.grad_from_output:
        _doc = (f"{_op.name}_grad_from_output(dy, y{param_text(_op)}) -> dx\n\n"
                f"dy * d{_op.name}/dx computed from the output y."
                + _TAIL.format(kernel=_k + "_grad_from_output"))
        _export(_op.name + "_grad_from_output",
                _make(_op.name + "_grad_from_output", getattr(ufuncs, _k + "_grad_from_output"),
                      "dy, y", _op, _CHECKS.get(_op.name, []) + _GOUT_CHECKS.get(_op.name, []),
                      _doc))


# ---- gelu: one public op, two kernels ----
_GELU = {"none": ufuncs.gelu, "tanh": ufuncs.gelu_tanh}
_GELU_GRAD = {"none": ufuncs.gelu_grad, "tanh": ufuncs.gelu_tanh_grad}


def _gelu_kernel(table, fname, approximate):
    try:
        return table[approximate]
    except (KeyError, TypeError):
        raise ValueError(f"{fname}: approximate must be 'none' or 'tanh', "
                         f"got {approximate!r}") from None


def gelu(x, approximate="none", *, out=None, **kwargs):
    """gelu(x, approximate='none') -> y

    x*Phi(x), Phi the standard normal CDF; approximate='tanh' gives PyTorch's
    0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))).  Keyword arguments go to the ufunc
    (``actcore.ufuncs.gelu`` or ``gelu_tanh``)."""
    return _gelu_kernel(_GELU, "gelu", approximate)(x, out=out, **kwargs)


def gelu_grad(dy, x, approximate="none", *, out=None, **kwargs):
    """gelu_grad(dy, x, approximate='none') -> dx: dy * (Phi(x) + x phi(x)) (or the tanh
    form's derivative)."""
    return _gelu_kernel(_GELU_GRAD, "gelu_grad", approximate)(dy, x, out=out, **kwargs)


_export("gelu", gelu)
_export("gelu_grad", gelu_grad)


# ---- prelu: leaky_relu with a per-channel slope ----
def _channel_weight(fname, x, weight, axis):
    """weight of shape () or (C,) reshaped to broadcast along `axis` of x."""
    _check_real(fname, "weight", weight)
    if isinstance(weight, numbers.Real) and not isinstance(weight, (bool, np.generic)):
        # a Python number stays a weak scalar, so float32 x keeps the float32 loop (as an
        # np.asarray'd float64 0-d weight would not: measured 2.3x slower, float64 result)
        return float(weight), None
    w = np.asarray(weight)
    ndim = np.ndim(x)
    if w.size == 1 and w.ndim <= 1:
        return w.reshape(()), None
    if w.ndim != 1:
        raise ValueError(f"{fname}: weight must have shape () or (C,), got shape {w.shape}")
    if not isinstance(axis, numbers.Integral) or not -ndim <= axis < ndim:
        raise ValueError(f"{fname}: axis must be an integer in [{-ndim}, {ndim}) for an input "
                         f"of {ndim} dimensions, got {axis!r}")
    axis = int(axis) % ndim
    c = np.shape(x)[axis]
    if w.shape[0] != c:
        raise ValueError(f"{fname}: weight must have shape () or ({c},) to match x.shape[{axis}]"
                         f" = {c}, got shape {w.shape}")
    return w.reshape((c,) + (1,) * (ndim - axis - 1)), axis


def prelu(x, weight, axis=1, *, out=None, **kwargs):
    """prelu(x, weight, axis=1) -> y

    x if x > 0 else weight[c]*x, with weight of shape () or (C,) along the channel `axis`
    (PyTorch: dim 1).  The values of ``actcore.ufuncs.leaky_relu`` with the broadcast weight;
    a per-channel weight on a C-contiguous array runs that kernel threaded over the whole
    array."""
    if type(weight) is float:  # one slope: leaky_relu's wrapper and its cached 0-d slope
        return _LEAKY(x, weight, out=out, **kwargs)
    w, ax = _channel_weight("prelu", x, weight, axis)
    if ax is not None and not kwargs and type(x) is np.ndarray and x.dtype in _PRELU_DTYPES:
        # a slope per channel: the C loop threaded over the whole array, where NumPy's
        # broadcast would call the ufunc loop once per plane or row (csrc/loops.c)
        # (w is an array here: _channel_weight gives an axis only for a weight of C elements)
        if (np.result_type(x.dtype, w.dtype) == x.dtype and x.flags.c_contiguous
                and x.flags.aligned
                and (out is None or _prelu_fwd_out_ok(out, x))):
            y = np.empty_like(x) if out is None else out
            # a copy of the C slopes: out= may be the caller's weight array itself
            _core.prelu_channels(x, np.array(w.reshape(-1), x.dtype), ax, y)
            return y
    return ufuncs.leaky_relu(x, w, out=out, **kwargs)


_PRELU_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _prelu_fwd_out_ok(out, x):
    """out= that prelu_channels can write: x's own buffer, or a separate C-contiguous array of
    x's shape and dtype (anything else goes to the ufunc, which handles overlap and casts)."""
    return (type(out) is np.ndarray and out.dtype == x.dtype and out.shape == x.shape
            and out.flags.c_contiguous and out.flags.aligned and out.flags.writeable
            and (out is x or not np.may_share_memory(out, x)))


_PRELU_FAST = (np.float16, np.float32, np.float64)
_PRELU_ONE = (np.dtype(np.float32), np.dtype(np.float64))
_ZERO1 = np.zeros(1)  # prelu_grad's mean argument of the kernel (read only)
_ZERO1.flags.writeable = False
_LEAKY, _LEAKY_GRAD = globals()["leaky_relu"], globals()["leaky_relu_grad"]


def prelu_grad(dy, x, weight, axis=1, *, out=None):
    """prelu_grad(dy, x, weight, axis=1, *, out=None) -> (dx, dweight)

    dweight has weight's shape: the sum of dy*x where x <= 0 over every axis but `axis`,
    accumulated in float64 and rounded once to dx's dtype.  ``out``: where dx goes."""
    if (type(weight) is float and type(x) is np.ndarray
            and type(dy) is np.ndarray and x.dtype in _PRELU_ONE and dy.dtype == x.dtype
            and dy.shape == x.shape and x.size and x.ndim and x.flags.c_contiguous
            and dy.flags.c_contiguous and (out is None or _prelu_out_ok(out, x, dy))):
        return _prelu_grad_one(dy, x, weight, (), out)  # the common call, without the checks
    w, ax = _channel_weight("prelu_grad", x, weight, axis)
    xa = np.asarray(x)
    dya = np.asarray(dy)
    if _prelu_one_pass(xa, dya, w, ax, out):
        from .batchnorm import _negative_part_dot  # batchnorm imports this module

        if ax is None and (out is None or _prelu_out_ok(out, xa, dya)):
            return _prelu_grad_one(dya, xa, w, np.shape(weight), out)
        if ax is None:  # one weight: all of x is one channel (contiguous: views, no copies)
            o = None if out is None else out.reshape(1, xa.size)
            dx, s = _negative_part_dot(xa.reshape(1, xa.size), dya.reshape(1, xa.size), 0,
                                       weight=w, out=o)
            dx = dx.reshape(xa.shape) if out is None else out
            return dx, s.astype(dx.dtype).reshape(np.shape(weight))
        dx, s = _negative_part_dot(xa, dya, ax, weight=np.reshape(w, -1), out=out)
        return dx, s.astype(dx.dtype)
    # dx first (it checks the arguments), unless out is x's own memory: then dweight first
    early = out is None or not np.may_share_memory(out, xa)
    dx = ufuncs.leaky_relu_grad(dy, x, w, out=out) if early else None
    if ((xa.dtype.type in _PRELU_FAST or is_bfloat16(xa.dtype)) and dya.dtype == xa.dtype
            and dya.shape == xa.shape and xa.size > 0 and xa.ndim > 0):
        from .batchnorm import _negative_part_dot

        if ax is None:
            dw = _negative_part_dot(xa.reshape(1, xa.size), dya.reshape(1, xa.size), 0)
        else:
            dw = _negative_part_dot(xa, dya, ax)
    else:  # mixed dtypes, broadcast dy, integers, empty or 0-d x: NumPy (float32 or better)
        contrib = np.where(xa > 0, 0, np.multiply(dy, xa, dtype=np.result_type(dy, x, w,
                                                                                np.float32)))
        dw = contrib.sum() if ax is None else contrib.sum(
            axis=tuple(i for i in range(xa.ndim) if i != ax))
    if dx is None:
        dx = ufuncs.leaky_relu_grad(dy, x, w, out=out)
    dw = np.asarray(dw).astype(dx.dtype)
    return dx, dw.reshape(np.shape(weight)) if ax is None else dw


def _prelu_grad_one(dy, x, w, wshape, out=None):
    """prelu_grad with one weight w into out or a new dx, for C-contiguous float32/float64 x
    and dy of one shape (out: _prelu_out_ok): the kernel call _negative_part_dot's planner
    makes for it (one channel, an inner run of x.size: layout 0), without the planner and the
    checks, whose Python was ~10 of a 2^14 float32 call's 21 us (PyTorch's backward 19); the
    same bits."""
    T = x.dtype
    n = x.size
    dx = np.empty_like(x) if out is None else out
    _, s = _core.bn_kernel("grad_reduce", x=x.reshape(1, 1, n), layout=0,
                           dy=dy.reshape(1, 1, n), out=dx.reshape(1, 1, n),
                           pw=np.array((w,), T), mean=_ZERO1)
    return dx, s.astype(T).reshape(wshape)


def _prelu_out_ok(out, x, dy):
    """Whether out can take _prelu_grad_one's dx as it is: x's dtype, shape and layout, and not
    x's memory (the kernel reads each element of x before it writes dx there, but a shifted
    overlap would read dx for x) nor dy's other than dy itself (in place on dy is per element
    too).  Anything else goes through the general path, which checks and copies."""
    return (type(out) is np.ndarray and out.flags.c_contiguous and _out_takes_dx(out, x)
            and (out is dy or not np.may_share_memory(out, dy)))


def _out_takes_dx(out, x):
    """out is exactly what the ufunc would write for x (its shape and dtype, no cast),
    writeable, and not x's memory."""
    return (isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype == x.dtype
            and out.flags.writeable and not np.may_share_memory(out, x))


def _prelu_one_pass(x, dy, w, ax, out):
    """Whether prelu_grad can take the kernel's single pass (dx and dweight from one read of
    dy and x): float32/float64 x and dy of one shape, the weight a number or of x's dtype (so
    the ufunc's loop would be x's too), out absent or exactly what the ufunc would write
    without a cast and not x's memory, and for a single weight contiguous arrays."""
    if x.dtype.type not in (np.float32, np.float64) or dy.dtype != x.dtype:
        return False
    if dy.shape != x.shape or x.size == 0 or x.ndim == 0:
        return False
    if not isinstance(w, float) and np.asarray(w).dtype != x.dtype:
        return False
    if out is not None and not _out_takes_dx(out, x):
        return False
    if ax is None:
        return x.flags.c_contiguous and dy.flags.c_contiguous and (
            out is None or out.flags.c_contiguous)
    return True


_export("prelu", prelu)
_export("prelu_grad", prelu_grad)


# ---- rrelu: randomized leaky relu ----
def _rrelu_bounds(fname, lower, upper):
    if type(lower) is float and type(upper) is float and -math.inf < lower <= upper < math.inf:
        return lower, upper  # the common call, without _scalar's ABC checks (~0.4 us)
    lo, hi = _scalar(lower), _scalar(upper)
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{fname}: expected finite numbers lower <= upper, got "
                         f"lower={lower!r}, upper={upper!r}")
    return lo, hi


def rrelu(x, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, *, rng=None,
          return_noise=False, out=None, **kwargs):
    """rrelu(x, lower=1/8, upper=1/3, training=False, *, rng=None, return_noise=False)

    Training: each negative element gets its own slope ~ U(lower, upper) drawn from `rng`
    (a ``numpy.random.Generator`` or a seed); otherwise the slope is (lower+upper)/2.  With
    return_noise=True returns (y, noise), noise being the slopes to pass to rrelu_grad."""
    if (not training and not return_noise and not kwargs and type(x) is np.ndarray
            and type(lower) is float and type(upper) is float
            and -math.inf < lower <= upper < math.inf):
        # eval with float bounds, the common call: leaky_relu's cached slope straight to the
        # ufunc, one Python layer fewer (1000 float32: 1.32 -> 0.95 us; np.maximum 1.16).
        # The lookup _make generates, for one nonzero slope (a zero takes the wrapper, which
        # tells -0.0 apart); test_rrelu_eval_and_training pins it to the ufunc's bits.
        slope = (lower + upper) / 2.0
        p = _pcache.get(("leaky_relu", x.dtype.char, slope))  # the key _LEAKY fills
        if p is not None and slope != 0:
            return ufuncs.leaky_relu(x, p[0], out=out)
        return _LEAKY(x, slope, out=out)
    lo, hi = _rrelu_bounds("rrelu", lower, upper)
    if not training:
        y = _LEAKY(x, (lo + hi) / 2.0, out=out, **kwargs)  # (its cached 0-d slope)
        return (y, None) if return_noise else y
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    dt = getattr(x, "dtype", None)
    if dt is None or not is_bfloat16(dt):  # bfloat16 noise keeps the bfloat16 loop
        dt = np.result_type(np.float64 if dt is None else dt, np.float16)
    noise = gen.uniform(lo, hi, size=np.shape(x)).astype(dt)
    y = ufuncs.leaky_relu(x, noise, out=out, **kwargs)
    return (y, noise) if return_noise else y


def rrelu_grad(dy, x, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, *, noise=None,
               out=None, **kwargs):
    """rrelu_grad(dy, x, lower, upper, training=False, *, noise=None) -> dx

    In training the slopes drawn by the forward pass are needed: pass ``noise`` from
    ``rrelu(..., return_noise=True)``."""
    lo, hi = _rrelu_bounds("rrelu_grad", lower, upper)
    if training:
        if noise is None:
            raise ValueError("rrelu_grad: training=True needs noise=, the slopes returned by "
                             "rrelu(..., training=True, return_noise=True)")
        return ufuncs.leaky_relu_grad(dy, x, noise, out=out, **kwargs)
    return _LEAKY_GRAD(dy, x, (lo + hi) / 2.0, out=out, **kwargs)


_export("rrelu", rrelu)
_export("rrelu_grad", rrelu_grad)


def list_activations(kind=None):
    """Names of every activation (elementwise and, once registered, axis ops)."""
    return [name for name, op in OPS.items() if kind is None or op.kind == kind]


def info(name):
    """The properties of an activation (SPEC §2 metadata) as a dict."""
    try:
        op = OPS[name]
    except KeyError:
        raise ValueError(f"info: unknown activation {name!r}; see list_activations()") from None
    return {
        "name": op.name,
        "kind": op.kind,
        "formula": op.formula,
        "parameters": {p: (None if d is REQUIRED else d) for p, d in op.params},
        "required_parameters": [p for p, d in op.params if d is REQUIRED],
        "range": op.range,
        "bounded": op.bounded,
        "monotonic": op.monotonic,
        "zero_centred": op.zero_centred,
        "smoothness": op.smoothness,
        "f(0)": op.f0,
        "f'(0)": op.fprime0,
        "max_abs_grad": op.max_abs_grad,
        "saturates": list(op.saturates),
        "has_grad": True,
        "has_grad_from_output": op.grad_from_output,
        "names": dict(op.names),
    }
