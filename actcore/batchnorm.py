"""Batch normalization: functional forms, the backward pass, a stateful layer, and folding.

Layout.  ``axis`` is the channel axis (1 for (N, C), NCL, NCHW, NCDHW; -1 for channels-last).
Every array is viewed as (outer, C, inner) without copying when NumPy can: the C kernels in
``csrc/bnorm.c`` run over that view with its strides, either along a contiguous inner axis
(NCHW) or along contiguous channels (channels-last).  Anything else is copied once.

dtypes.  float16, bfloat16 (ml_dtypes), float32 and float64 input.  Statistics and parameters
are float32 for float16, bfloat16 and float32 input (float64 partial sums inside), float64 for
float64 input; ``mean`` and
``invstd`` returned by :func:`batch_norm_train` follow that rule, as PyTorch's saved statistics
do.  Running buffers may be float32 or float64 and keep their dtype.

Statistics are exact-shifted per cache-sized block (float32: one pass of sums of x - K, K one
of the block's values; float64: two passes), merged with Chan's formula in a fixed order: never
E[x^2] - E[x]^2, and bit-identical for any thread count.

Activations.  ``activation=`` takes any elementwise activation by name ("relu", "gelu", ...),
with parameters either as ``activation_params=dict(...)`` or as a tuple
``("leaky_relu", {"negative_slope": 0.2})``.  It is applied to each cache-sized block right
after the affine transform (and the ``residual`` addition), so inference reads x (and the
residual) once and writes y once.  prelu and rrelu are not fusable (they are not plain
elementwise kernels); apply them after the call.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core
from ._bfloat16 import is_bfloat16
from ._registry import OPS, REQUIRED
from .activations import _CHECKS, _GOUT_CHECKS, _validate

__all__ = ["batch_norm", "batch_norm_train", "batch_norm_grad", "BatchNorm", "fold_batch_norm"]

_OPS_TABLE = _core.op_table()
_OP_INDEX = {row[0]: i for i, row in enumerate(_OPS_TABLE)}
_HAS_GOUT = {row[0]: bool(row[2]) for row in _OPS_TABLE}
_ACT_GRAD, _ACT_GOUT = 1, 2
_LAYOUT_INNER, _LAYOUT_CHAN = 0, 1
_FLOATS = (np.float16, np.float32, np.float64)


# ----------------------------------------------------------------------------- activations
class _Act:
    __slots__ = ("name", "kernel", "op", "params", "gout")

    def __init__(self, name, kernel, params, gout):
        self.name, self.kernel, self.params, self.gout = name, kernel, params, gout
        self.op = _OP_INDEX[kernel]


def _real_scalar(fname, pname, value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        return float(value)
    raise TypeError(f"{fname}: activation parameter {pname} must be a real number, "
                    f"got {value!r}")


_ACT_BY_NAME = {}  # bare names without parameters: parsed once (~7 us a call otherwise)


class _NoAct:  # activation=None for batch_norm's fast path: no kernel
    op, params = -1, None


_NO_ACT = _NoAct()


def _parse_activation(fname, activation, activation_params):
    if isinstance(activation, str) and not activation_params:
        act = _ACT_BY_NAME.get(activation)
        if act is None:
            act = _parse_activation_full(fname, activation, None)
            _ACT_BY_NAME[activation] = act
        return act
    return _parse_activation_full(fname, activation, activation_params)


def _parse_activation_full(fname, activation, activation_params):
    if activation is None:
        if activation_params:
            raise ValueError(f"{fname}: activation_params given without an activation")
        return None
    if isinstance(activation, tuple):
        if (len(activation) != 2 or not isinstance(activation[0], str)
                or not isinstance(activation[1], dict)):
            raise ValueError(f"{fname}: activation must be a name or a (name, params dict) "
                             f"tuple, got {activation!r}")
        if activation_params:
            raise ValueError(f"{fname}: give activation parameters either in the activation "
                             "tuple or as activation_params, not both")
        name, params = activation
    elif isinstance(activation, str):
        name, params = activation, dict(activation_params or {})
    else:
        raise TypeError(f"{fname}: activation must be a string such as 'relu', got "
                        f"{type(activation).__name__}")
    op = OPS.get(name)
    if op is None or op.kind != "elementwise":
        names = ", ".join(sorted(n for n, o in OPS.items()
                                 if o.kind == "elementwise" and o.kernel is not None))
        raise ValueError(f"{fname}: activation must be one of {names}; got {name!r}")
    if op.kernel is None:
        raise ValueError(f"{fname}: activation {name!r} cannot be fused (not a plain "
                         "elementwise kernel); apply it after batch_norm")
    known = [p for p, _ in op.params]
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"{fname}: unknown parameter(s) {sorted(unknown)} for activation "
                         f"{name!r}; it takes {known or 'no parameters'}")
    values = {}
    for p, default in op.params:
        v = params.get(p, default)
        if v is REQUIRED:
            raise ValueError(f"{fname}: activation {name!r} needs parameter {p!r}")
        values[p] = v
    kernel = op.kernel
    if name == "gelu":
        approx = values.pop("approximate")
        if approx not in ("none", "tanh"):
            raise ValueError(f"{fname}: gelu's approximate must be 'none' or 'tanh', "
                             f"got {approx!r}")
        kernel = "gelu" if approx == "none" else "gelu_tanh"
    floats = {p: _real_scalar(fname, p, v) for p, v in values.items()}
    _validate(fname, _CHECKS.get(name, []), floats)
    gout = _HAS_GOUT.get(kernel, False)
    if gout:
        try:
            _validate(fname, _GOUT_CHECKS.get(name, []), floats)
        except ValueError:
            gout = False  # e.g. leaky_relu with a negative slope: recompute from x instead
    return _Act(name, kernel, tuple(floats.values()), gout)


# ----------------------------------------------------------------------------- layout
def _axis(fname, x, axis):
    nd = x.ndim
    if type(axis) is int and -nd <= axis < nd:  # the common case without the ABC checks
        return axis % nd
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"{fname}: axis must be an integer, got {axis!r}")
    if not -nd <= axis < nd:
        raise ValueError(f"{fname}: axis must be in [{-nd}, {nd}) for an input of {nd} "
                         f"dimensions, got {axis}")
    return int(axis) % nd


def _shape3(shape, axis):
    return (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))


def _try_view3(a, s3):
    try:
        return a.reshape(s3, copy=False)
    except ValueError:
        return None
    except TypeError:  # NumPy < 2.1: no copy= keyword
        v = a.view()
        try:
            v.shape = s3
        except AttributeError:
            return None
        return v


def _fits(v, layout):
    if v is None or not v.flags.aligned or not v.dtype.isnative:
        return False
    isz = v.itemsize
    if v.size == 0:
        return True
    if layout == _LAYOUT_INNER:
        return v.shape[2] <= 1 or v.strides[2] == isz
    return v.shape[1] <= 1 or v.strides[1] == isz


class _Plan:
    """How x is seen by the kernels: its (outer, C, inner) view, the layout, and whether outer
    and inner were swapped (statistics run over both, so either may be the contiguous one)."""

    def __init__(self, x, axis):
        self.axis, self.shape = axis, x.shape
        self.s3 = _shape3(x.shape, axis)
        v = _try_view3(x, self.s3) if x.flags.aligned and x.dtype.isnative else None
        got = self._choose(v)
        if got is None:
            x = np.ascontiguousarray(x, dtype=x.dtype.newbyteorder("="))
            got = self._choose(_try_view3(x, self.s3))
        self.x = x
        self.x3, self.layout, self.swap = got

    @classmethod
    def direct(cls, x, axis, inputs):
        """(plan, views of `inputs`) without trying views, when x and every input are
        C-contiguous, aligned, native arrays of one float32/float64 dtype: _choose's pick for
        them (INNER when there is an inner run, else CHAN; one channel with no inner run,
        which _choose transposes, is left to it).  None otherwise."""
        T = x.dtype
        if T != np.float32 and T != np.float64:
            return None
        for a in (x, *inputs):
            if a is not None and not (type(a) is np.ndarray and a.dtype == T
                                      and a.flags.c_contiguous and a.flags.aligned
                                      and a.dtype.isnative and a.shape == x.shape):
                return None
        s3 = _shape3(x.shape, axis)
        if s3[2] <= 1 and s3[1] <= 1:
            return None
        plan = cls.__new__(cls)
        plan.axis, plan.shape, plan.s3, plan.x, plan.swap = axis, x.shape, s3, x, False
        plan.x3 = x.reshape(s3)
        plan.layout = _LAYOUT_INNER if (s3[2] > 1 or x.size == 0) else _LAYOUT_CHAN
        return plan, [None if a is None else a.reshape(s3) for a in inputs]

    @staticmethod
    def _choose(v):
        if v is None or not v.flags.aligned or not v.dtype.isnative:
            return None
        o, c, i = v.shape
        isz = v.itemsize
        if v.size == 0:  # nothing to read or write; any layout will do
            return v, _LAYOUT_INNER, False
        if i > 1 and v.strides[2] == isz:
            return v, _LAYOUT_INNER, False
        if o > 1 and v.strides[0] == isz:
            return v.transpose(2, 1, 0), _LAYOUT_INNER, True
        if c <= 1 or v.strides[1] == isz:
            return v, _LAYOUT_CHAN, False
        return None

    def view(self, a):
        """a (shaped like x) as the kernels' 3-D view, or None when it does not fit."""
        v = _try_view3(a, self.s3)
        if v is not None and self.swap:
            v = v.transpose(2, 1, 0)
        return v if _fits(v, self.layout) else None

    def input(self, a):
        """an input shaped like x as a fitting view, copied into x's memory order if needed."""
        v = self.view(a)
        if v is not None:
            return v
        b = np.empty_like(self.x)
        np.copyto(b, a, casting="unsafe")
        return self.view(b)

    def new(self):
        """a fresh array shaped like x and its view (the first one may be the array
        _plan_all allocated to check the layout)."""
        spare = getattr(self, "_spare", None)
        if spare is not None:
            self._spare = None
            return spare
        y = np.empty_like(self.x)
        return y, self.view(y)


def _plan_all(x, axis, inputs, need_out=True, out=None, also=()):
    """The plan and fitting views of the inputs; falls back to C order when x's own memory
    order cannot be matched (by the inputs, or with need_out by a new output array).  A given
    `out` that fits and shares no memory with x or the inputs is written directly, so no new
    array is made for it (allocating, then freeing, 25 MB untouched cost ~50 us a call); `also`
    are further arrays out must not overlap to be used."""
    direct = _Plan.direct(x, axis, inputs)
    if direct is not None:  # C-contiguous operands: the views _choose would pick, made directly
        plan, views = direct
        if need_out and not (out is not None and _Plan.direct(out, axis, ()) is not None
                             and not any(np.may_share_memory(out, a)
                                         for a in [x, *inputs, *also] if a is not None)):
            plan._spare = plan.new()
        return plan, views
    plan = _Plan(x, axis)
    views = [None if a is None else plan.input(a) for a in inputs]
    missing = any(a is not None and v is None for a, v in zip(inputs, views, strict=False))
    if need_out and out is not None and plan.view(out) is not None and not any(
            np.may_share_memory(out, a) for a in [x, *inputs, *also] if a is not None):
        need_out = False
    spare = None if missing or not need_out else plan.new()
    if missing or (need_out and spare[1] is None):
        plan = _Plan(np.ascontiguousarray(x), axis)
        views = [None if a is None else plan.input(np.ascontiguousarray(a, dtype=x.dtype))
                 for a in inputs]
    elif need_out:
        plan._spare = spare  # the first output needs an array like this one: keep it
    return plan, views


def _contiguous_views(x, axis, residual, out):
    """(x3, r3, o3, layout, y) for an elementwise pass when x, the residual and out (if given)
    fit _Plan.direct and out is x itself or shares no memory with x or the residual; else None
    (the planner handles it).  The kernels apply per element, so this gives the planner's
    bits."""
    direct = _Plan.direct(x, axis, [residual, out])
    if direct is None:
        return None
    plan, (r3, o3) = direct
    # out may be an input itself (each element is read before it is written), but no other
    # overlap: a residual that is x shifted, with out=x, would be read after being written
    if out is not None and any(src is not None and src is not out
                               and np.may_share_memory(out, src) for src in (x, residual)):
        return None
    y = out
    if out is None:
        y = np.empty_like(x)
        o3 = y.reshape(plan.s3)
    return plan.x3, r3, o3, plan.layout, y


_RELU_OP = _OP_INDEX["relu"]


def _negative_part_dot(x, dy, axis, weight=None, out=None):
    """Per channel along `axis`: the float64 sum of dy*x over the elements where x < 0 (x = 0
    adds 0 either way; NaN gives NaN), for prelu_grad's dweight.  One pass of the batch-norm
    gradient reduction, which is threaded over and within channels with bits independent of
    the thread count: with mean 0, scale -1 and a fused ReLU its dz is dy where -x > 0, and
    its second sum is sum dz (x - 0).

    With `weight` (the per-channel slope, shape (C,) or a number) the same pass also writes
    dx = leaky_relu_grad(dy, x, weight) (the kernel's pw mode) into out or a new array, and
    (dx, sums) is returned; out must not share memory with x (dy itself is fine)."""
    plan, (dy3,) = _plan_all(x, axis, [dy], need_out=False)
    T = _param_dtype(plan.x)
    C = plan.s3[1]
    zero = np.zeros(C, T)
    if weight is None:
        _, s2 = _core.bn_kernel("grad_reduce", x=plan.x3, layout=plan.layout, mh=zero, ml=zero,
                                scale=-np.ones(C, T), shift=zero, dy=dy3, act_op=_RELU_OP,
                                act_kind=_ACT_GRAD, mean=np.zeros(C))
        return s2
    o3 = None if out is None else plan.view(out)
    if o3 is not None and np.may_share_memory(out, dy3) and not _same_view(o3, dy3):
        o3 = None  # a partial overlap with dy: through a temporary
    target = out
    if o3 is None:
        target, o3 = plan.new()
    pw = np.asarray(weight, T).reshape(-1)  # (C,) or one slope for every channel
    if pw.size not in (1, C):
        raise ValueError(f"_negative_part_dot: weight has {pw.size} slopes for {C} channels")
    # (np.full, not np.broadcast_to: that one costs ~4.5 us, a quarter of a small prelu_grad)
    pw = np.ascontiguousarray(pw) if pw.size == C else np.full(C, pw[0], T)
    _, s2 = _core.bn_kernel("grad_reduce", x=plan.x3, layout=plan.layout, dy=dy3, out=o3, pw=pw,
                            mean=np.zeros(C))
    if out is not None and target is not out:
        np.copyto(out, target)
        target = out
    return target, s2


# ----------------------------------------------------------------------------- checks
def _as_x(fname, x, name="x"):
    x = np.asarray(x)
    if x.dtype.type not in _FLOATS and not is_bfloat16(x.dtype):
        raise TypeError(f"{fname}: {name} must be float16, bfloat16, float32 or float64, "
                        f"got {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{fname}: {name} must have at least 1 dimension, got a 0-d array")
    return x


def _param_dtype(x):
    return np.float64 if x.dtype == np.float64 else np.float32


def _channel_vec(fname, name, v, C, allow_none=True):
    if v is None:
        if allow_none:
            return None
        raise ValueError(f"{fname}: {name} is required")
    a = np.asarray(v)
    if a.dtype.kind not in "fiu" and not is_bfloat16(a.dtype):
        raise TypeError(f"{fname}: {name} must be a real array, got dtype {a.dtype}")
    if a.shape != (C,):
        raise ValueError(f"{fname}: {name} must have shape ({C},) (the channel count), "
                         f"got shape {a.shape}")
    return a.astype(np.float64)


def _running(fname, name, buf, C, training):
    if buf is None:
        if not training:
            raise ValueError(f"{fname}: {name} is required in inference (training=False)")
        return None
    if training:
        if not isinstance(buf, np.ndarray):
            raise TypeError(f"{fname}: {name} must be a NumPy array (it is updated in place), "
                            f"got {type(buf).__name__}")
        if buf.dtype not in (np.float32, np.float64):
            raise TypeError(f"{fname}: {name} must be float32 or float64, got {buf.dtype}")
        if buf.shape != (C,):
            raise ValueError(f"{fname}: {name} must have shape ({C},), got {buf.shape}")
        if not buf.flags.writeable:
            raise ValueError(f"{fname}: {name} is read-only; running statistics are updated "
                             "in place")
        return buf
    a = np.asarray(buf)
    if a.dtype.kind != "f" or a.dtype == np.float16:
        raise TypeError(f"{fname}: {name} must be float32 or float64, got {a.dtype}")
    if a.shape != (C,):
        raise ValueError(f"{fname}: {name} must have shape ({C},), got {a.shape}")
    return a


def _check_eps(fname, eps):
    if type(eps) is float and 0.0 < eps < math.inf:  # the common case (ABC checks ~0.4 us)
        return eps
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (eps > 0) or \
            not math.isfinite(eps):
        raise ValueError(f"{fname}: eps must be a finite number > 0, got {eps!r}")
    return float(eps)


def _check_momentum(fname, momentum):
    if momentum is None:
        return None
    if type(momentum) is float and 0.0 <= momentum <= 1.0:
        return momentum
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or \
            not (0.0 <= momentum <= 1.0):
        raise ValueError(f"{fname}: momentum must be a number in [0, 1] or None, "
                         f"got {momentum!r}")
    return float(momentum)


def _check_nbt(fname, nbt, counts=True):
    """num_batches_tracked: None, an int (batches seen before), or a writable 0-d integer array
    counted up in place (counts: this call will add one, so it must not be at its maximum)."""
    if nbt is None:
        return None
    if isinstance(nbt, numbers.Integral) and not isinstance(nbt, bool):
        if nbt < 0:
            raise ValueError(f"{fname}: num_batches_tracked must be >= 0, got {nbt}")
        return nbt
    if isinstance(nbt, np.ndarray) and nbt.ndim == 0 and nbt.dtype.kind in "iu":
        if not nbt.flags.writeable:
            raise ValueError(f"{fname}: num_batches_tracked is read-only; it is updated in "
                             "place")
        if int(nbt) < 0:
            raise ValueError(f"{fname}: num_batches_tracked must be >= 0, got {int(nbt)}")
        if counts and int(nbt) >= np.iinfo(nbt.dtype).max:
            raise ValueError(f"{fname}: num_batches_tracked ({nbt.dtype}) cannot count one "
                             f"more batch: it is at {int(nbt)}, the largest {nbt.dtype}")
        return nbt
    raise TypeError(f"{fname}: num_batches_tracked must be an int or a 0-d integer array, "
                    f"got {nbt!r}")


def _check_like(fname, name, a, x):
    if a is None:
        return None
    a = np.asarray(a)
    if a.shape != x.shape:
        raise ValueError(f"{fname}: {name} must have x's shape {x.shape}, got {a.shape}")
    if a.dtype.kind not in "fiu" and not is_bfloat16(a.dtype):
        raise TypeError(f"{fname}: {name} must be a real array, got dtype {a.dtype}")
    return a


def _check_out(fname, out, x):
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != x.shape:
        raise ValueError(f"{fname}: out must have x's shape {x.shape}, got {out.shape}")
    if out.dtype != x.dtype:
        raise TypeError(f"{fname}: out must have x's dtype {x.dtype}, got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")
    return out


# ----------------------------------------------------------------------------- kernels
def _same_view(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides)


def _params(mean, invstd, w, b, T, var=None, eps=0.0):
    """(mh, ml, scale, shift) of the kernels in T: mean split in a high and a low part,
    scale = w * invstd, shift = b (invstd = 1/sqrt(var + eps) when var is given), computed in
    float64 and rounded once (_bnorm.pxi: bn_params)."""
    return _core.bn_params(mean, invstd, w, b, T == np.float64, var, eps)


def _run_apply(plan, x3, r3, act, mean, invstd, w, b, out, var=None, eps=0.0):
    """y = act(((x - mean) * invstd * w + b) (+ r)) into out (or a new array); with var
    given (invstd None), invstd = 1/sqrt(var + eps)."""
    T = _param_dtype(plan.x)
    mh, ml, scale, shift = _params(mean, invstd, w, b, T, var, eps)
    o3 = None
    if out is not None:
        o3 = plan.view(out)
        # in place is safe for exactly the same elements (each block is read, then written);
        # any other overlap goes through a temporary
        for src in (x3, r3):
            if o3 is not None and src is not None and np.may_share_memory(out, src) \
                    and not _same_view(o3, src):
                o3 = None
    copy_back = out is not None and o3 is None
    target = out
    if o3 is None:
        target, o3 = plan.new()
    _core.bn_kernel("apply", x=x3, out=o3, r=r3, layout=plan.layout, mh=mh, ml=ml,
                    scale=scale, shift=shift, act_op=-1 if act is None else act.op,
                    params=None if act is None else act.params)
    if copy_back:
        np.copyto(out, target)
        return out
    return target if out is None else out


def _update_running(rm, rv, mean, var_b, n, momentum, nbt):
    if nbt is not None and isinstance(nbt, np.ndarray):
        nbt[...] += 1
        count = int(nbt)
    else:
        count = None if nbt is None else nbt + 1
    if rm is None:
        return
    m = momentum if momentum is not None else 1.0 / count
    var_u = var_b * (n / (n - 1))
    rm[...] = (1.0 - m) * rm.astype(np.float64) + m * mean
    rv[...] = (1.0 - m) * rv.astype(np.float64) + m * var_u


def _forward_train(fname, x, weight, bias, running_mean, running_var, momentum, eps, axis,
                   activation, residual, out, activation_params, num_batches_tracked):
    """The training forward: returns (y, mean, invstd) with float64 mean and invstd."""
    x = _as_x(fname, x)
    ax = _axis(fname, x, axis)
    C = x.shape[ax]
    n = x.size // C if C else 0
    w = _channel_vec(fname, "weight", weight, C)
    b = _channel_vec(fname, "bias", bias, C)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fname}: give both running_mean and running_var, or neither")
    rm = _running(fname, "running_mean", running_mean, C, True)
    rv = _running(fname, "running_var", running_var, C, True)
    eps = _check_eps(fname, eps)
    momentum = _check_momentum(fname, momentum)
    nbt = _check_nbt(fname, num_batches_tracked)
    if momentum is None and rm is not None and nbt is None:
        raise ValueError(f"{fname}: momentum=None (cumulative average) needs "
                         "num_batches_tracked")
    act = _parse_activation(fname, activation, activation_params)
    residual = _check_like(fname, "residual", residual, x)
    out = _check_out(fname, out, x)
    if n <= 1:
        raise ValueError(f"{fname}: Expected more than 1 value per channel when training, "
                         f"got input size {x.shape}")
    plan, (r3,) = _plan_all(x, ax, [residual], out=out)
    mean, m2 = _core.bn_kernel("stats", x=plan.x3, layout=plan.layout)
    var_b = m2 / n
    invstd = 1.0 / np.sqrt(var_b + eps)
    y = _run_apply(plan, plan.x3, r3, act, mean, invstd, w, b, out)
    _update_running(rm, rv, mean, var_b, n, momentum, nbt)
    return y, mean, invstd


def batch_norm(x, running_mean, running_var, weight=None, bias=None, *, training=False,
               momentum=0.1, eps=1e-5, axis=1, activation=None, residual=None, out=None,
               activation_params=None, num_batches_tracked=None):
    """batch_norm(x, running_mean, running_var, weight=None, bias=None, *, training=False,
    momentum=0.1, eps=1e-5, axis=1, activation=None, residual=None, out=None,
    activation_params=None, num_batches_tracked=None) -> y

    y = activation((x - mean) / sqrt(var + eps) * weight + bias + residual), per channel along
    ``axis``.  Inference (training=False) uses running_mean/running_var.  Training uses the
    batch's mean and biased variance and updates the running buffers in place, as PyTorch:
    running = (1 - momentum) * running + momentum * batch, with the unbiased (n/(n-1)) variance
    for running_var.  In training the running buffers may be None (no tracking).

    momentum=None means a cumulative average, which needs the batch count
    ``num_batches_tracked``: a 0-d integer array, incremented in place, or an int giving the
    number of batches seen before this one (your counter; the factor is 1/(count + 1)).  When
    num_batches_tracked is an array it is incremented in training whatever the momentum, as
    PyTorch's buffer is.

    weight/bias: None or shape (C,).  activation: an elementwise activation name, or a
    (name, params) tuple, or a name plus activation_params=dict(...).  residual: an array of x's
    shape added before the activation.  out: an array of x's shape and dtype (may be x).

    Raises ValueError/TypeError naming the argument; nothing is written (out, running buffers,
    num_batches_tracked) when it does.  Training with one value per channel raises ValueError
    ("Expected more than 1 value per channel when training") as PyTorch does.
    """
    fname = "batch_norm"
    if (not training and residual is None and activation_params is None
            and num_batches_tracked is None and type(eps) is float
            and (momentum is None or (type(momentum) is float and 0.0 <= momentum <= 1.0))):
        # the common inference call in C (_bnorm.pxi bn_infer_fast: the same parameters and
        # kernel as the direct path below, so the same bits; ~8 us of Python handling a call
        # less), for activations already parsed once; NotImplemented: the full path
        act = _NO_ACT if activation is None else (
            _ACT_BY_NAME.get(activation) if type(activation) is str else None)
        if act is not None:
            y = _core.bn_infer_fast(x, running_mean, running_var, weight, bias, eps, axis,
                                    act.op, act.params, out)
            if y is not NotImplemented:
                return y
    if training:
        y, _, _ = _forward_train(fname, x, weight, bias, running_mean, running_var, momentum,
                                 eps, axis, activation, residual, out, activation_params,
                                 num_batches_tracked)
        return y
    x = _as_x(fname, x)
    ax = _axis(fname, x, axis)
    C = x.shape[ax]
    w = _channel_vec(fname, "weight", weight, C)
    b = _channel_vec(fname, "bias", bias, C)
    rm = _running(fname, "running_mean", running_mean, C, False)
    rv = _running(fname, "running_var", running_var, C, False)
    eps = _check_eps(fname, eps)
    _check_momentum(fname, momentum)
    _check_nbt(fname, num_batches_tracked, counts=False)  # inference: not counted
    act = _parse_activation(fname, activation, activation_params)
    residual = _check_like(fname, "residual", residual, x)
    out = _check_out(fname, out, x)
    direct = _contiguous_views(x, ax, residual, out)
    if direct is not None:  # the common call: no plan (~6 us of a small call)
        x3, r3, o3, layout, y = direct
        mh, ml, scale, shift = _params(rm, None, w, b, _param_dtype(x), rv, eps)
        _core.bn_kernel("apply", x=x3, out=o3, r=r3, layout=layout, mh=mh, ml=ml, scale=scale,
                        shift=shift, act_op=-1 if act is None else act.op,
                        params=None if act is None else act.params)
        return y
    plan, (r3,) = _plan_all(x, ax, [residual], out=out)
    return _run_apply(plan, plan.x3, r3, act, rm, None, w, b, out, var=rv, eps=eps)


def batch_norm_train(x, weight=None, bias=None, *, eps=1e-5, axis=1, activation=None,
                     residual=None, running_mean=None, running_var=None, momentum=0.1,
                     out=None, activation_params=None, num_batches_tracked=None):
    """batch_norm_train(x, weight=None, bias=None, *, eps=1e-5, axis=1, activation=None,
    residual=None, running_mean=None, running_var=None, momentum=0.1, out=None,
    activation_params=None, num_batches_tracked=None) -> (y, mean, invstd)

    The training forward of :func:`batch_norm`, also returning the batch mean and
    invstd = 1/sqrt(biased var + eps), shape (C,), float32 for float16/bfloat16/float32 input and
    float64 for float64 input (PyTorch's saved statistics), for :func:`batch_norm_grad`.
    Running buffers, when given, are updated as in batch_norm(training=True).
    """
    if (residual is None and activation_params is None and num_batches_tracked is None
            and type(eps) is float and type(momentum) is float):
        # the common call in C (_bnorm.pxi bn_train_fast: the same arithmetic and kernels, so the
        # same bits; ~20 us of Python handling less); NotImplemented: the full path
        act = _NO_ACT if activation is None else (
            _ACT_BY_NAME.get(activation) if type(activation) is str else None)
        if act is not None:
            r = _core.bn_train_fast(x, weight, bias, running_mean, running_var, momentum, eps,
                                    axis, act.op, act.params, out)
            if r is not NotImplemented:
                return r
    y, mean, invstd = _forward_train("batch_norm_train", x, weight, bias, running_mean,
                                     running_var, momentum, eps, axis, activation, residual,
                                     out, activation_params, num_batches_tracked)
    P = _param_dtype(y)
    return y, mean.astype(P), invstd.astype(P)


# the activations without a gradient-from-output form that jump: where their input is within
# rounding of a jump, the recomputed output may land on the other side of it (the mean and
# invstd passed back may be float32), so those elements are not compared
_JUMPS = {"threshold": lambda p: (p[0],), "hardshrink": lambda p: (-p[0], p[0]),
          "step": lambda p: (0.0,)}


def _check_recomputed(fname, act, y, recompute, mean, invstd, w, b, r, ax, T):
    """y was given for an activation without a gradient-from-output form, so its input is
    recomputed from x and the bias (and residual) passed here: y must be what that gives, else
    the gradients would be silently wrong (a forgotten bias=, say).  Equal within rounding: the
    mean and invstd passed back may be rounded to float32, which moves x - mean by up to
    |mean| eps, so each channel's tolerance scales with the terms of its pre-activation.
    recompute(activation) runs the forward pass with that activation (None: without)."""
    shape = [1] * y.ndim
    shape[ax] = -1
    eps_t = np.finfo(np.float64 if T == np.float64 else np.float32).eps  # the kernels' precision
    eps_y = 2.0**-7 if is_bfloat16(y.dtype) else (np.finfo(y.dtype).eps
                                                   if y.dtype.kind == "f" else 0.0)
    s = (np.abs(mean) * invstd + 1.0) * (1.0 if w is None else np.abs(w))
    s = (s + (0.0 if b is None else np.abs(b))).reshape(shape)
    if r is not None:
        s = s + np.abs(r.astype(np.float64))
    yd, rd = y.astype(np.float64), recompute(act).astype(np.float64)
    with np.errstate(invalid="ignore"):
        # the pre-activation's rounding (T) and the outputs' own (y's dtype), with room to spare
        tol_pre = 64 * eps_t * s
        tol = tol_pre + 4 * eps_y * (np.abs(yd) + np.abs(rd))
        bad = ((np.abs(yd - rd) > tol) | (np.isnan(yd) != np.isnan(rd))
               | (np.isinf(yd) != np.isinf(rd)))
        if act.name in _JUMPS and np.any(bad):
            pre = recompute(None).astype(np.float64)
            for t in _JUMPS[act.name](act.params):
                bad &= np.abs(pre - t) > tol_pre
    if np.any(bad):
        given = ", ".join(f"{n}={'given' if v is not None else 'None'}"
                          for n, v in (("bias", b), ("residual", r)))
        raise ValueError(f"{fname}: y does not match the forward output recomputed from x, mean, "
                         f"invstd, weight, bias and residual ({given}); activation "
                         f"{act.name!r} has no gradient from its output, so its input is "
                         "recomputed: pass the bias (and residual) used in the forward")


def batch_norm_grad(dy, x, mean, invstd, weight, *, axis=1, activation=None, y=None,
                    bias=None, residual=None, activation_params=None, training=True, out=None):
    """batch_norm_grad(dy, x, mean, invstd, weight, *, axis=1, activation=None, y=None,
    bias=None, residual=None, activation_params=None, training=True, out=None)
        -> (dx, dweight, dbias)  or  (dx, dweight, dbias, dresidual)

    The backward of :func:`batch_norm_train` for y = act(bn(x) + residual).  dweight and dbias
    are None when weight is None.

    With a fused activation, its gradient comes first: from the output ``y`` for the
    activations that have a ``_grad_from_output`` form (relu, relu6, leaky_relu with slope >= 0,
    elu with alpha >= 0, hardtanh, sigmoid, tanh) when y is given; otherwise the pre-activation
    is recomputed from x, mean, invstd, weight, ``bias`` (and ``residual``), so pass the bias
    (and residual) you used in the forward.  A y given for another activation is checked
    against that recomputation (one more pass), and a mismatch raises ValueError instead of
    returning wrong gradients.

    residual: pass the residual array used in the forward (or True when it is not needed for a
    recomputation) to also get dresidual, the gradient after the activation, as a 4th result.

    training=False: the statistics were constants (inference, or a frozen layer):
    dx = dz * weight * invstd, no terms through the mean and variance.

    out: an array of x's shape and dtype for dx (saves allocating, and faulting in, a new one).
    """
    fname = "batch_norm_grad"
    if residual is None and activation_params is None and type(training) is bool:
        # the common call in C (_bnorm.pxi bn_grad_fast, as bn_train_fast): no activation, or
        # one whose gradient comes from the output y; NotImplemented: below
        act = _NO_ACT if activation is None else (
            _ACT_BY_NAME.get(activation) if type(activation) is str else None)
        if act is not None and ((act.op < 0 and y is None) or (act.op >= 0 and act.gout
                                                                 and y is not None)):
            r = _core.bn_grad_fast(dy, x, mean, invstd, weight, bias, axis, training, out,
                                   act.op, act.params, y)
            if r is not NotImplemented:
                return r
    x = _as_x(fname, x)
    dy = _as_x(fname, dy, "dy")
    if dy.shape != x.shape:
        raise ValueError(f"{fname}: dy must have x's shape {x.shape}, got {dy.shape}")
    ax = _axis(fname, x, axis)
    C = x.shape[ax]
    n = x.size // C if C else 0
    mean_d = _channel_vec(fname, "mean", mean, C, allow_none=False)
    invstd_d = _channel_vec(fname, "invstd", invstd, C, allow_none=False)
    w = _channel_vec(fname, "weight", weight, C)
    b = _channel_vec(fname, "bias", bias, C)
    act = _parse_activation(fname, activation, activation_params)
    want_dres = residual is not None and residual is not False
    r = None if residual is True or residual is False else _check_like(fname, "residual",
                                                                         residual, x)
    y = _check_like(fname, "y", y, x)
    out = _check_out(fname, out, x)
    use_gout = act is not None and act.gout and y is not None
    if act is not None and not use_gout and residual is True:
        raise ValueError(f"{fname}: activation {act.name!r} needs the residual array itself "
                         "(not True) to recompute its input")
    if dy.dtype != x.dtype:
        dy = dy.astype(x.dtype)
    plan, (dy3, y3, r3) = _plan_all(x, ax, [dy, y if use_gout else None,
                                            r if (act is not None and not use_gout) else None],
                                    out=out, also=(y, r))
    T = _param_dtype(plan.x)
    if act is not None and not use_gout and y is not None:
        _check_recomputed(fname, act, y, lambda a: _run_apply(plan, plan.x3, r3, a, mean_d,
                                                              invstd_d, w, b, None),
                          mean_d, invstd_d, w, b, r, ax, T)
    mh, ml, scale, shift = _params(mean_d, invstd_d, w, b, T)
    wd = np.ones(C) if w is None else w
    common = dict(x=plan.x3, layout=plan.layout, mh=mh, ml=ml, scale=scale, shift=shift,
                  dy=dy3, yin=y3, r=r3, act_op=-1 if act is None else act.op,
                  act_kind=_ACT_GOUT if use_gout else _ACT_GRAD,
                  params=None if act is None else act.params)
    dres = dres3 = None
    if want_dres:
        dres, dres3 = plan.new()
    s1, s2 = _core.bn_kernel("grad_reduce", mean=mean_d, dres=dres3, **common)
    a = wd * invstd_d
    if training and n > 0:
        ge = a * s1 / n
        gd = a * invstd_d * invstd_d * s2 / n
    else:
        ge = np.zeros(C)
        gd = np.zeros(C)
    dx3 = None
    if out is not None and not any(np.may_share_memory(out, a) for a in (x, dy, y, r)
                                   if a is not None):
        dx, dx3 = out, plan.view(out)
    if dx3 is None:
        dx, dx3 = plan.new()
    _core.bn_kernel("grad_apply", out=dx3, dres=dres3, dres_ready=int(want_dres),
                    ga=a.astype(T), gd=gd.astype(T), ge=ge.astype(T), **common)
    P = _param_dtype(plan.x)
    dweight = None if w is None else (s2 * invstd_d).astype(P)
    dbias = None if w is None else s1.astype(P)
    if out is not None and dx is not out:
        np.copyto(out, dx)
        dx = out
    if want_dres:
        return dx, dweight, dbias, dres.reshape(x.shape)
    return dx, dweight, dbias


# ----------------------------------------------------------------------------- the layer
class BatchNorm:
    """A batch-normalization layer holding its parameters and running statistics.

    BatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
    axis=1, dtype=np.float32).  Starts in training mode (as torch.nn.BatchNorm*d).

    - ``train()`` / ``eval()``: batch statistics (updating the running ones) / running ones.
    - ``freeze()``: running statistics fixed and used, in either mode; weight and bias still get
      gradients from ``backward``.  ``unfreeze()`` undoes it.
    - ``forward(x)`` (or ``layer(x)``), then ``backward(dy) -> dx``, which sets ``dweight`` and
      ``dbias`` (None when affine=False).
    - ``state_dict()`` / ``load_state_dict(d)`` with PyTorch's keys (weight, bias, running_mean,
      running_var, num_batches_tracked): a torch BatchNorm's state converted with ``.numpy()``
      loads and gives the same outputs.
    - momentum=None: cumulative moving average over num_batches_tracked batches.
    - activation=..., activation_params=...: an activation fused after the normalization.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, axis=1, dtype=np.float32, activation=None,
                 activation_params=None):
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) \
                or num_features < 1:
            raise ValueError(f"BatchNorm: num_features must be an integer >= 1, got "
                             f"{num_features!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"BatchNorm: dtype (of parameters and statistics) must be float32 "
                            f"or float64, got {dtype}")
        self.num_features = int(num_features)
        self.eps = _check_eps("BatchNorm", eps)
        self.momentum = _check_momentum("BatchNorm", momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.axis, self.dtype = axis, dtype
        _parse_activation("BatchNorm", activation, activation_params)
        self.activation, self.activation_params = activation, activation_params
        C = self.num_features
        self.weight = np.ones(C, dtype) if affine else None
        self.bias = np.zeros(C, dtype) if affine else None
        if track_running_stats:
            self.running_mean = np.zeros(C, dtype)
            self.running_var = np.ones(C, dtype)
            self.num_batches_tracked = np.zeros((), np.int64)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.training = True
        self.frozen = False
        self.dweight = self.dbias = None
        self._cache = None

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def freeze(self):
        if not self.track_running_stats:
            raise ValueError("BatchNorm.freeze: the layer has no running statistics "
                             "(track_running_stats=False)")
        self.frozen = True
        return self

    def unfreeze(self):
        self.frozen = False
        return self

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight[...] = 1
            self.bias[...] = 0

    def _batch_stats(self):
        return self.running_mean is None or (self.training and not self.frozen)

    def forward(self, x):
        x = _as_x("BatchNorm.forward", x)
        ax = _axis("BatchNorm.forward", x, self.axis)
        if x.shape[ax] != self.num_features:
            raise ValueError(f"BatchNorm.forward: x has {x.shape[ax]} channels along axis "
                             f"{self.axis} (shape {x.shape}), the layer num_features="
                             f"{self.num_features}")
        act = _parse_activation("BatchNorm", self.activation, self.activation_params)
        if self._batch_stats():
            track = self.training and self.running_mean is not None
            y, mean, invstd = _forward_train(
                "BatchNorm.forward", x, self.weight, self.bias,
                self.running_mean if track else None, self.running_var if track else None,
                self.momentum, self.eps, self.axis, self.activation, None, None,
                self.activation_params, self.num_batches_tracked if track else None)
            batch = True
        else:
            y = batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                           eps=self.eps, axis=self.axis, activation=self.activation,
                           activation_params=self.activation_params)
            # the statistics backward() needs, as of this call: copies of the running buffers
            # (a later load_state_dict or in-place edit must not change this call's gradient),
            # turned into mean and invstd only if backward() comes (in float64 that was ~2 of
            # the 8 us of a (1, 64, 16, 16) eval call)
            mean, invstd = self.running_mean.copy(), (self.running_var.copy(), self.eps)
            batch = False
        self._cache = (x, mean, invstd, y if act is not None and act.gout else None, batch)
        return y

    __call__ = forward

    def backward(self, dy):
        if self._cache is None:
            raise ValueError("BatchNorm.backward: call forward first")
        x, mean, invstd, y, batch = self._cache
        if not batch:  # eval: the running buffers' copies (and eps) from forward()
            var, eps = invstd
            mean, invstd = mean.astype(np.float64), 1.0 / np.sqrt(var.astype(np.float64) + eps)
        dx, dw, db = batch_norm_grad(
            dy, x, mean, invstd, self.weight, axis=self.axis, activation=self.activation,
            activation_params=self.activation_params, y=y, bias=self.bias, training=batch)
        if not self.affine:
            # dweight/dbias are None without weight; the layer's gradients follow suit
            dw = db = None
        self.dweight, self.dbias = dw, db
        return dx

    def state_dict(self):
        d = {}
        if self.affine:
            d["weight"], d["bias"] = self.weight.copy(), self.bias.copy()
        if self.track_running_stats:
            d["running_mean"] = self.running_mean.copy()
            d["running_var"] = self.running_var.copy()
            d["num_batches_tracked"] = self.num_batches_tracked.copy()
        return d

    def load_state_dict(self, state, strict=True):
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise ValueError(f"BatchNorm.load_state_dict: missing keys {missing}, unexpected "
                             f"keys {unexpected}")
        new = {}
        for k in own:
            if k not in state:
                continue
            v = np.asarray(state[k])
            if v.shape != own[k].shape:
                raise ValueError(f"BatchNorm.load_state_dict: {k} must have shape "
                                 f"{own[k].shape}, got {v.shape}")
            kinds = "iu" if k == "num_batches_tracked" else "fiu"
            if v.dtype.kind not in kinds and not (kinds == "fiu" and is_bfloat16(v.dtype)):
                raise TypeError(f"BatchNorm.load_state_dict: {k} must be "
                                f"{'an integer' if kinds == 'iu' else 'a real'} array, got "
                                f"dtype {v.dtype}")
            if k == "num_batches_tracked" and not 0 <= int(v) <= np.iinfo(own[k].dtype).max:
                raise ValueError(f"BatchNorm.load_state_dict: {k} must be in [0, "
                                 f"{np.iinfo(own[k].dtype).max}], got {int(v)}")
            with np.errstate(over="ignore", invalid="ignore"):
                conv = v.astype(own[k].dtype)
            if kinds != "iu" and not np.array_equal(np.isfinite(conv), np.isfinite(v)):
                raise ValueError(f"BatchNorm.load_state_dict: {k} has values beyond "
                                 f"{own[k].dtype}'s range")
            new[k] = conv
        for k, v in new.items():  # all checked and converted first: nothing is half-loaded
            getattr(self, k)[...] = v


# ----------------------------------------------------------------------------- folding
def fold_batch_norm(weight, bias, running_mean, running_var, bn_weight=None, bn_bias=None, *,
                    eps=1e-5, layer="linear", groups=1, bn_first=False, padding=None):
    """fold_batch_norm(weight, bias, running_mean, running_var, bn_weight=None, bn_bias=None, *,
    eps=1e-5, layer="linear", groups=1, bn_first=False, padding=None) -> (new_weight, new_bias)

    Folds an inference-mode batch norm into the neighbouring layer's parameters, in PyTorch's
    weight layouts: layer="linear" (out, in), "conv" (out, in/groups, *kernel),
    "conv_transpose" (in, out/groups, *kernel).  bias=None means the layer has no bias; the
    folded layer always has one.  Computed in float64, returned in the weight's dtype.

    bn_first=False (layer -> BN): the BN scales and shifts the layer's output channels.
    bn_first=True (BN -> layer): the BN's affine map is pushed into the layer's input.  Exact
    for "linear".  For "conv" it is exact only when the convolution has no padding (zero
    padding of BN(x) is not the BN of zero padding), so it needs ``padding=0`` to say so and
    raises ValueError otherwise; "conv_transpose" raises ValueError (the shift reaches each
    output position through a position-dependent number of taps).
    """
    fname = "fold_batch_norm"
    if layer not in ("linear", "conv", "conv_transpose"):
        raise ValueError(f"{fname}: layer must be 'linear', 'conv' or 'conv_transpose', "
                         f"got {layer!r}")
    W = np.asarray(weight)
    if W.dtype.kind != "f":
        raise TypeError(f"{fname}: weight must be a float array, got {W.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{fname}: groups must be an integer >= 1, got {groups!r}")
    if layer == "linear":
        if W.ndim != 2:
            raise ValueError(f"{fname}: a linear weight has shape (out, in), got {W.shape}")
        if groups != 1:
            raise ValueError(f"{fname}: groups must be 1 for layer='linear', got {groups}")
    elif W.ndim < 3:
        raise ValueError(f"{fname}: a {layer} weight has shape (*, *, *kernel), got {W.shape}")
    eps = _check_eps(fname, eps)
    if layer == "linear":
        n_out, n_in = W.shape
    elif layer == "conv":
        n_out, n_in = W.shape[0], W.shape[1] * groups
        if n_out % groups:
            raise ValueError(f"{fname}: out channels {n_out} not divisible by groups {groups}")
    else:
        n_in, n_out = W.shape[0], W.shape[1] * groups
        if n_in % groups:
            raise ValueError(f"{fname}: in channels {n_in} not divisible by groups {groups}")
    C = n_in if bn_first else n_out
    side = "input" if bn_first else "output"
    mean = _channel_vec(fname, f"running_mean (the layer's {side} channels)", running_mean, C,
                        False)
    var = _channel_vec(fname, f"running_var (the layer's {side} channels)", running_var, C,
                       False)
    g = _channel_vec(fname, "bn_weight", bn_weight, C)
    beta = _channel_vec(fname, "bn_bias", bn_bias, C)
    b = _channel_vec(fname, "bias", bias, n_out)
    if bn_first and layer == "conv" and padding != 0:
        raise ValueError(f"{fname}: BN -> conv folding is exact only without padding; pass "
                         "padding=0 if the convolution has none")
    if bn_first and layer == "conv_transpose":
        raise ValueError(f"{fname}: BN -> conv_transpose folding is not exact; not supported")
    s = (np.ones(C) if g is None else g) / np.sqrt(var + eps)
    t = (np.zeros(C) if beta is None else beta) - mean * s
    Wd = W.astype(np.float64)
    b0 = np.zeros(n_out) if b is None else b
    kdims = (1,) * (W.ndim - 2)
    if not bn_first:
        if layer in ("linear", "conv"):
            Wn = Wd * s.reshape((n_out, 1) + kdims)
        else:  # (in, out/groups, *k): output channel = group * out/groups + j
            og, ig = n_out // groups, n_in // groups
            sc = s.reshape(groups, 1, og)  # [group, 1, j]
            Wn = (Wd.reshape((groups, ig, og) + W.shape[2:])
                  * sc.reshape((groups, 1, og) + kdims)).reshape(W.shape)
        bn_ = b0 * s + t
    else:
        if layer == "linear":
            Wn = Wd * s[None, :]
            bn_ = b0 + Wd @ t
        else:  # conv (out, in/groups, *k): input channel = group * in/groups + k
            og, ig = n_out // groups, n_in // groups
            sg = s.reshape(groups, 1, ig)
            tg = t.reshape(groups, 1, ig)
            Wg = Wd.reshape((groups, og, ig) + W.shape[2:])
            Wn = (Wg * sg.reshape((groups, 1, ig) + kdims)).reshape(W.shape)
            ksum = Wg.reshape(groups, og, ig, -1).sum(axis=3)  # [group, j, k]
            bn_ = b0 + (ksum * tg).sum(axis=2).reshape(n_out)
    return Wn.astype(W.dtype), bn_.astype(W.dtype)
