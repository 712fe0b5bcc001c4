"""Axis activations: softmax, log_softmax, logsumexp, the GLU family and maxout (SPEC §3).

These reduce or split along an axis, so they are functions rather than ufuncs.  The C kernels
(csrc/axis.c) see C-contiguous float32/float64 arrays viewed as (outer, L, inner); this module
checks the arguments, converts (float16/bfloat16 are computed in float32 and rounded once at the
end; integer and bool inputs become floats as in ``np.tanh``), and honours ``out=``: nothing is
written to ``out`` when an argument is rejected.

Conventions and special values (every function):

* Numerically stable: the softmax family shifts by the row maximum M and sums e^(x - M) in
  double (float32 too), so float32 log_softmax and logsumexp are rounded once from a double
  result and softmax is within 2 ULP of a float64 reference for every output above 1e-30.
* Results are the same bits for any thread count and any memory layout of the same values.
* softmax ``where=``: masked-out entries do not count and get 0.  A row that is fully masked,
  all -inf or empty gives 0 (softmax) and -inf (log_softmax, logsumexp), without warnings.
* NaN anywhere in a row makes that whole row NaN (only that row).  +inf in a row (and no NaN):
  logsumexp is +inf, its limit (as scipy and PyTorch give); softmax and log_softmax are NaN for
  the whole row, as the max-shifted formula gives (e^(inf - inf)) and as PyTorch and scipy give
  too, since the limit depends on how many entries are infinite.
* GLU family: x is split along ``axis`` into halves a (first) and b (second); with a second
  operand ``b`` nothing is split.  glu = a*sigmoid(b), swiglu = silu(a)*b, geglu = gelu(a)*b,
  reglu = relu(a)*b, each computed in one pass from a and b (0*inf is NaN, as in PyTorch).
* maxout: max over groups of ``pool_size`` consecutive channels; a NaN in a group gives NaN; the
  gradient goes to the first maximum (the first NaN when the group has one).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _core

__all__ = [
    "softmax", "log_softmax", "logsumexp", "softmax_grad", "log_softmax_grad",
    "logsumexp_grad", "glu", "swiglu", "geglu", "reglu", "glu_grad", "swiglu_grad",
    "geglu_grad", "reglu_grad", "maxout", "maxout_grad",
]

# csrc/axis.h enums
_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP, _SOFTMAX_GRAD, _LOG_SOFTMAX_GRAD = range(5)
_GLU, _SWIGLU, _GEGLU, _GEGLU_TANH, _REGLU = range(5)


# ---------------------------------------------------------------- argument handling
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _dtypes(fname, *arrays):
    """(result dtype, compute dtype) for the inputs, or TypeError naming the function."""
    dts = [a.dtype for a in arrays]
    # the common case first: dtype.name costs ~6 us a call (NumPy builds the string), a
    # quarter of a small softmax's time before this fast path; NumPy's native float32/float64
    # descriptors are singletons, so identity answers first (a generator of == comparisons
    # was ~0.5 us of a (1, 1000) softmax)
    d0 = dts[0]
    if (d0 is _F32 or d0 is _F64) and all(dt is d0 for dt in dts):
        return d0, d0
    if all(dt == _F32 for dt in dts):
        return _F32, _F32
    if all(dt == _F64 for dt in dts):
        return _F64, _F64
    for dt in dts:
        if dt.kind not in "biuf" and dt.name != "bfloat16":
            raise TypeError(f"{fname}: unsupported input dtype {dt}; expected float16, "
                            f"float32 or float64 (integer and bool inputs are converted as "
                            f"for np.tanh)")
    if all(dt.name == "bfloat16" for dt in dts):
        rdt = dts[0]  # computed in float32, rounded back once
    else:  # mixed with bfloat16: as if it were float32
        rdt = np.result_type(*[np.float32 if dt.name == "bfloat16" else dt for dt in dts],
                             np.float16)
    cdt = np.dtype(np.float64) if (rdt.kind == "f" and rdt.itemsize >= 8) else np.dtype(
        np.float32)
    return np.dtype(rdt), cdt


def _asarray(fname, name, v):
    if isinstance(v, np.ndarray):
        return v
    try:
        return np.asarray(v)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{fname}: {name} must be array-like, got {type(v).__name__}") from exc


def _axis(fname, axis, ndim, name="axis"):
    if type(axis) is int and -ndim <= axis < ndim:  # the common case: no ABC check (~0.3 us)
        return axis % ndim
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"{fname}: {name} must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{fname}: {name}={axis} is out of range for an input of {ndim} "
                         f"dimension{'s' if ndim != 1 else ''}; expected {-ndim} <= {name} < "
                         f"{ndim}" if ndim else f"{fname}: {name}={axis} needs an input with at "
                         f"least one dimension, got a 0-d array")
    return int(axis) % ndim


def _check_out(fname, out, shape, rdt):
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{fname}: out has shape {out.shape}, expected {tuple(shape)}")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")
    if out.dtype is not rdt and not np.can_cast(rdt, out.dtype, casting="same_kind"):
        raise TypeError(f"{fname}: cannot write a {rdt} result to out of dtype {out.dtype} "
                        f"(casting='same_kind')")


def _target(out, shape, cdt, inputs, inplace_ok=()):
    """The array the kernel writes: out itself when it is a C-contiguous array of the compute
    dtype that does not overlap an input (or is exactly one of `inplace_ok`, for kernels that
    read each element before writing it), else a fresh array."""
    if (out is not None and out.dtype == cdt and out.flags.c_contiguous and out.flags.aligned
            and out.flags.writeable):
        shared = [a for a in inputs if np.may_share_memory(out, a)]
        if not shared:
            return out
        # (the exact-alias test only when memory is shared: .ctypes costs microseconds)
        if all(any(a is b for b in inplace_ok)
               and (out is a or (a.ctypes.data == out.ctypes.data and a.shape == out.shape
                                 and a.dtype == out.dtype and a.flags.c_contiguous))
               for a in shared):
            return out
    return np.empty(shape, cdt)


def _deliver(y, out, rdt):
    if out is None:
        return y if y.dtype == rdt else y.astype(rdt)
    if y is not out:
        np.copyto(out, y if y.dtype == rdt else y.astype(rdt), casting="unsafe")
    return out


def _c(v, cdt):
    """v as the kernels take it: C-contiguous, aligned, of dtype cdt (np.ascontiguousarray
    keeps an unaligned array that is already contiguous, which the kernels refuse)."""
    a = np.ascontiguousarray(v, dtype=cdt)
    return a if a.flags.aligned else a.copy()


# ---------------------------------------------------------------- softmax family
def _softmax_like(fname, op, x, axis, out, where=None, keepdims=False):
    x = _asarray(fname, "x", x)
    rdt, cdt = _dtypes(fname, x)
    ax = _axis(fname, axis, x.ndim)
    if op == _LOGSUMEXP:
        shape = x.shape[:ax] + ((1,) if keepdims else ()) + x.shape[ax + 1:]
    else:
        shape = x.shape
    mask = None
    if where is not None:
        w = _asarray(fname, "where", where)
        if w.dtype != np.bool_:
            raise TypeError(f"{fname}: where must be a boolean array, got dtype {w.dtype}")
        try:
            w = np.broadcast_to(w, x.shape)
        except ValueError:
            raise ValueError(f"{fname}: where of shape {w.shape} does not broadcast to x's "
                             f"shape {x.shape}") from None
        mask = np.ascontiguousarray(w)
    _check_out(fname, out, shape, rdt)
    xc = _c(x, cdt)
    ins = (xc,) if mask is None else (xc, mask)
    y = _target(out, shape, cdt, ins, inplace_ok=(xc,) if op != _LOGSUMEXP else ())
    _core.softmax_kernel(op, xc, None, mask, y, ax)
    return _deliver(y, out, rdt)


def softmax(x, axis=-1, *, where=None, out=None):
    """softmax(x, axis=-1, *, where=None, out=None) -> y

    e^(x - max) / sum e^(x - max) along ``axis``.  ``where``: a boolean mask broadcast to x;
    masked-out entries get 0 and do not count.  Fully masked or all -inf rows give 0."""
    if where is None:  # the common call, all in C (or NotImplemented: the full path below)
        r = _core.softmax_fast(_SOFTMAX, x, None, axis, out)
        if r is not NotImplemented:
            return r
    return _softmax_like("softmax", _SOFTMAX, x, axis, out, where=where)


def log_softmax(x, axis=-1, *, out=None):
    """log_softmax(x, axis=-1, *, out=None) -> y

    x - logsumexp(x) along ``axis``, as (x - max) - log sum e^(x - max).  All -inf rows give
    -inf."""
    r = _core.softmax_fast(_LOG_SOFTMAX, x, None, axis, out)
    if r is not NotImplemented:
        return r
    return _softmax_like("log_softmax", _LOG_SOFTMAX, x, axis, out)


def logsumexp(x, axis=-1, keepdims=False, *, out=None):
    """logsumexp(x, axis=-1, keepdims=False, *, out=None) -> y

    log sum e^x along ``axis``, as max + log sum e^(x - max).  An empty or all -inf axis gives
    -inf."""
    return _softmax_like("logsumexp", _LOGSUMEXP, x, axis, out, keepdims=keepdims)


def _softmax_grad_like(fname, op, dy, y, axis, out):
    r = _core.softmax_fast(op, y, dy, axis, out)  # the common call, all in C
    if r is not NotImplemented:
        return r
    dy = _asarray(fname, "dy", dy)
    y = _asarray(fname, "y", y)
    if dy.shape != y.shape:
        raise ValueError(f"{fname}: dy has shape {dy.shape} but y has shape {y.shape}; "
                         f"expected the same shape")
    rdt, cdt = _dtypes(fname, dy, y)
    ax = _axis(fname, axis, y.ndim)
    _check_out(fname, out, y.shape, rdt)
    yc = _c(y, cdt)
    dyc = _c(dy, cdt)
    dx = _target(out, y.shape, cdt, (yc, dyc), inplace_ok=(yc, dyc))
    _core.softmax_kernel(op, yc, dyc, None, dx, ax)
    return _deliver(dx, out, rdt)


def softmax_grad(dy, y, axis=-1, *, out=None):
    """softmax_grad(dy, y, axis=-1, *, out=None) -> dx

    dL/dx = y * (dy - sum(y * dy)) along ``axis``, from the forward output y (sums in
    double)."""
    return _softmax_grad_like("softmax_grad", _SOFTMAX_GRAD, dy, y, axis, out)


def log_softmax_grad(dy, y, axis=-1, *, out=None):
    """log_softmax_grad(dy, y, axis=-1, *, out=None) -> dx

    dL/dx = dy - exp(y) * sum(dy) along ``axis``, from the forward output y."""
    return _softmax_grad_like("log_softmax_grad", _LOG_SOFTMAX_GRAD, dy, y, axis, out)


def logsumexp_grad(dy, x, axis=-1, keepdims=False, *, out=None):
    """logsumexp_grad(dy, x, axis=-1, keepdims=False, *, out=None) -> dx

    dL/dx = dy * softmax(x) along ``axis``; dy has logsumexp's output shape (with or without
    the reduced axis, as ``keepdims``)."""
    fname = "logsumexp_grad"
    dy = _asarray(fname, "dy", dy)
    x = _asarray(fname, "x", x)
    rdt, cdt = _dtypes(fname, dy, x)
    ax = _axis(fname, axis, x.ndim)
    want = x.shape[:ax] + ((1,) if keepdims else ()) + x.shape[ax + 1:]
    if dy.shape != want:
        raise ValueError(f"{fname}: dy has shape {dy.shape}, expected {want} (logsumexp's "
                         f"output for x of shape {x.shape}, axis={axis}, keepdims={keepdims})")
    _check_out(fname, out, x.shape, rdt)
    xc = _c(x, cdt)
    dyc = np.asarray(dy, dtype=cdt)
    y = _target(out, x.shape, cdt, (xc, dyc), inplace_ok=(xc,))
    _core.softmax_kernel(_SOFTMAX, xc, None, None, y, ax)
    with np.errstate(under="ignore"):  # a tiny softmax times dy: the product may be subnormal
        np.multiply(y, dyc if keepdims else np.expand_dims(dyc, ax), out=y)
        return _deliver(y, out, rdt)  # (and so may its float16 rounding)


# ---------------------------------------------------------------- GLU family
_GLU_OPS = {"glu": _GLU, "swiglu": _SWIGLU, "reglu": _REGLU}


def _glu_op(fname, approximate):
    base = fname.removesuffix("_grad")
    if base != "geglu":
        return _GLU_OPS[base]
    if approximate == "none":
        return _GEGLU
    if approximate == "tanh":
        return _GEGLU_TANH
    raise ValueError(f"{fname}: approximate must be 'none' or 'tanh', got {approximate!r}")


def _check_b(fname, b):
    if isinstance(b, (numbers.Integral, np.integer)) and not isinstance(b, np.ndarray):
        raise TypeError(f"{fname}: the second positional argument is the second operand b; "
                        f"pass the split axis by keyword, e.g. {fname}(x, axis={b!r})")


def _halves(fname, x, axis):
    ax = _axis(fname, axis, x.ndim)
    L = x.shape[ax]
    if L % 2:
        raise ValueError(f"{fname}: x.shape[{ax}] = {L} is odd; the split axis (axis={axis}) "
                         f"must have even length to split into halves a and b")
    return ax, x.shape[:ax] + (L // 2,) + x.shape[ax + 1:]


def _operands_shape(fname, a, b, axis):
    """The broadcast shape of two operands a, b.  Nothing is split then, but axis is checked
    all the same (an axis the caller thinks is used, and is not valid, is an error)."""
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{fname}: a of shape {a.shape} and b of shape {b.shape} do not "
                         f"broadcast together") from None
    _axis(fname, axis, max(len(shape), 1))  # 0-d operands: the default axis -1 (or 0)
    return shape


def _glu_fwd(fname, x, b, axis, out, approximate="none"):
    op = _glu_op(fname, approximate)
    r = _core.glu_fast(op, x, b, axis, out)  # the common call, all in C, or NotImplemented
    if r is not NotImplemented:
        return r
    _check_b(fname, b)
    x = _asarray(fname, "x", x)
    if b is None:
        rdt, cdt = _dtypes(fname, x)
        ax, shape = _halves(fname, x, axis)
        _check_out(fname, out, shape, rdt)
        xc = _c(x, cdt)
        y = _target(out, shape, cdt, (xc,))
        _core.glu_kernel(op, xc, None, y, ax)
        return _deliver(y, out, rdt)
    b = _asarray(fname, "b", b)
    rdt, cdt = _dtypes(fname, x, b)
    shape = _operands_shape(fname, x, b, axis)
    _check_out(fname, out, shape, rdt)
    ac = _c(np.broadcast_to(x, shape), cdt)
    bc = _c(np.broadcast_to(b, shape), cdt)
    y = _target(out, shape, cdt, (ac, bc), inplace_ok=(ac, bc))
    _core.glu_kernel(op, ac, bc, y, 0)
    return _deliver(y, out, rdt)


def _unbroadcast(g, shape):
    """Sum a gradient computed at the broadcast shape back to an operand's shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, dtype=g.dtype).reshape(shape)


def _glu_bwd(fname, dy, x, b, axis, approximate="none"):
    op = _glu_op(fname, approximate)
    _check_b(fname, b)
    dy = _asarray(fname, "dy", dy)
    x = _asarray(fname, "x", x)
    if b is None:
        rdt, cdt = _dtypes(fname, dy, x)
        ax, shape = _halves(fname, x, axis)
        if dy.shape != shape:
            raise ValueError(f"{fname}: dy has shape {dy.shape}, expected {shape} (the output "
                             f"shape for x of shape {x.shape}, axis={axis})")
        xc = _c(x, cdt)
        dyc = _c(dy, cdt)
        dx = np.empty(x.shape, cdt)
        _core.glu_grad_kernel(op, dyc, xc, None, dx, None, ax)
        return dx if rdt == cdt else dx.astype(rdt)
    b = _asarray(fname, "b", b)
    rdt, cdt = _dtypes(fname, dy, x, b)
    shape = _operands_shape(fname, x, b, axis)
    if dy.shape != shape:
        raise ValueError(f"{fname}: dy has shape {dy.shape}, expected {shape}")
    ac = _c(np.broadcast_to(x, shape), cdt)
    bc = _c(np.broadcast_to(b, shape), cdt)
    dyc = _c(dy, cdt)
    da, db = np.empty(shape, cdt), np.empty(shape, cdt)
    _core.glu_grad_kernel(op, dyc, ac, bc, da, db, 0)
    da, db = _unbroadcast(da, x.shape), _unbroadcast(db, b.shape)
    return (da, db) if rdt == cdt else (da.astype(rdt), db.astype(rdt))


def glu(x, b=None, *, axis=-1, out=None):
    """glu(x, b=None, *, axis=-1, out=None) -> y

    a * sigmoid(b), with a, b the two halves of x along ``axis`` (first half a), or the two
    operands a = x and b when b is given (broadcast together, no split)."""
    return _glu_fwd("glu", x, b, axis, out)


def swiglu(x, b=None, *, axis=-1, out=None):
    """swiglu(x, b=None, *, axis=-1, out=None) -> y

    silu(a) * b, a and b the halves of x along ``axis`` or the two operands x and b."""
    return _glu_fwd("swiglu", x, b, axis, out)


def geglu(x, b=None, *, axis=-1, approximate="none", out=None):
    """geglu(x, b=None, *, axis=-1, approximate='none', out=None) -> y

    gelu(a) * b (gelu exact, or its tanh form with approximate='tanh'), a and b the halves of
    x along ``axis`` or the two operands x and b."""
    return _glu_fwd("geglu", x, b, axis, out, approximate)


def reglu(x, b=None, *, axis=-1, out=None):
    """reglu(x, b=None, *, axis=-1, out=None) -> y

    relu(a) * b, a and b the halves of x along ``axis`` or the two operands x and b."""
    return _glu_fwd("reglu", x, b, axis, out)


def glu_grad(dy, x, b=None, *, axis=-1):
    """glu_grad(dy, x, b=None, *, axis=-1) -> dx, or (da, db) with two operands."""
    return _glu_bwd("glu_grad", dy, x, b, axis)


def swiglu_grad(dy, x, b=None, *, axis=-1):
    """swiglu_grad(dy, x, b=None, *, axis=-1) -> dx, or (da, db) with two operands."""
    return _glu_bwd("swiglu_grad", dy, x, b, axis)


def geglu_grad(dy, x, b=None, *, axis=-1, approximate="none"):
    """geglu_grad(dy, x, b=None, *, axis=-1, approximate='none') -> dx, or (da, db)."""
    return _glu_bwd("geglu_grad", dy, x, b, axis, approximate)


def reglu_grad(dy, x, b=None, *, axis=-1):
    """reglu_grad(dy, x, b=None, *, axis=-1) -> dx, or (da, db) with two operands.

    At a = 0 the relu factor's derivative is 0 (PyTorch's convention)."""
    return _glu_bwd("reglu_grad", dy, x, b, axis)


# ---------------------------------------------------------------- maxout
def _pool(fname, x, pool_size, axis):
    if isinstance(pool_size, bool) or not isinstance(pool_size, numbers.Integral) or \
            pool_size < 1:
        raise ValueError(f"{fname}: pool_size must be a positive integer, got {pool_size!r}")
    ax = _axis(fname, axis, x.ndim)
    C = x.shape[ax]
    if C % pool_size:
        raise ValueError(f"{fname}: the channel count x.shape[{ax}] = {C} (axis={axis}) is not "
                         f"divisible by pool_size={pool_size}")
    return int(pool_size), ax, x.shape[:ax] + (C // pool_size,) + x.shape[ax + 1:]


def maxout(x, pool_size, axis=1, *, out=None):
    """maxout(x, pool_size, axis=1, *, out=None) -> y

    The max over each group of ``pool_size`` consecutive channels along ``axis``; y has
    x.shape[axis] // pool_size channels.  A group holding a NaN gives NaN."""
    fname = "maxout"
    x = _asarray(fname, "x", x)
    rdt, cdt = _dtypes(fname, x)
    pool, ax, shape = _pool(fname, x, pool_size, axis)
    _check_out(fname, out, shape, rdt)
    xc = _c(x, cdt)
    y = _target(out, shape, cdt, (xc,))
    _core.maxout_kernel(xc, y, pool, ax)
    return _deliver(y, out, rdt)


def maxout_grad(dy, x, pool_size, axis=1):
    """maxout_grad(dy, x, pool_size, axis=1) -> dx

    dy routed to the arg-max of each group (the first one on ties, the first NaN if any), 0
    elsewhere."""
    fname = "maxout_grad"
    dy = _asarray(fname, "dy", dy)
    x = _asarray(fname, "x", x)
    rdt, cdt = _dtypes(fname, dy, x)
    pool, ax, shape = _pool(fname, x, pool_size, axis)
    if dy.shape != shape:
        raise ValueError(f"{fname}: dy has shape {dy.shape}, expected {shape}")
    xc = _c(x, cdt)
    dyc = _c(dy, cdt)
    dx = np.empty(x.shape, cdt)
    _core.maxout_grad_kernel(dyc, xc, dx, pool, ax)
    return dx if rdt == cdt else dx.astype(rdt)
