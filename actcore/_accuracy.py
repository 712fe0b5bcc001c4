"""Measure the ULP error of actcore's C kernels against ``actcore.reference``.

Run as ``python -m actcore accuracy [--write]`` (or ``python -m actcore._accuracy``); ``--write``
regenerates ``docs/accuracy.md``. Tests reuse :func:`ulp_error` and :func:`measure`.

How it measures (SPEC section 5):

* **Inputs, float32.** Every float32 whose bit pattern is a multiple of an odd stride K over the
  whole finite range, both signs (K is chosen for about ``n_dense`` inputs; odd so that the
  samples do not all share trailing zero mantissa bits), plus the special values: ±0, ±small
  subnormals, ±smallest normal, ±max, ±inf, NaN, and the kinks (0, ±0.5, ±1, ±2, ±3, ±6, ±10,
  ±20, every parameter value, threshold/beta for softplus) with their float neighbours.
* **Inputs, float64.** ``n_random`` values of both signs: a third log-uniform over the whole finite
  range (subnormal to max), a third log-uniform in [2^-20, 2^10] and a third uniform in [-50, 50],
  plus the same specials.
* **Gradients** use dy = 1 for every x, and a random normal dy on a random eighth of the x.
  ``_grad_from_output`` rows take y = the reference forward rounded to the dtype.
* **Reference.** The float64 reference (``np.errstate(all="ignore")``) everywhere; then an exact
  one (mpmath at 50 digits, or exact rationals for the ``_grad_from_output`` formulas) at: every
  point more than 2 ULP off the float64 reference (the ``mp_max_recheck`` worst), the 64 worst
  points whatever their error, and for float64 also ``mp_samples`` random points. So a large
  error is only reported after an exact re-check, and the float64 rows are measured against
  mpmath where float64 itself cancels. A point where C and the float64 reference agree on the
  same wrong answer is caught only by the random sample.
* **Error.** :func:`ulp_error`; the rows also carry the maximum absolute error and the maximum
  ULP error over the points whose absolute error exceeds ``ABS_TOL[dtype]``, for the zones where
  SPEC accepts "<= 4 ULP or abs error <= 1e-7 (float32)" (``ABS_BOUND_ALLOWED``).

The C ufuncs are looked up as ``actcore.ufuncs.<name>``, ``<name>_grad`` (dy, x, *params) and
``<name>_grad_from_output`` (dy, y, *params); actcore is imported lazily so this module works
before the extension is built. :func:`reference_ufuncs` builds a stand-in namespace from the
reference itself (used by ``--self-test``): it must show 0 ULP for float64 (except where the
float64 reference itself is off from mpmath) and <= 0.5 ULP for float32.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from actcore import reference

__all__ = [
    "ABS_BOUND_ALLOWED",
    "ABS_TOL",
    "KINDS",
    "PARAM_SETS",
    "abs_error",
    "format_markdown",
    "inputs",
    "main",
    "measure",
    "reference_ufuncs",
    "ulp_error",
]

#: The three kinds of kernel and the suffix of their ufunc name.
KINDS: dict[str, str] = {"fwd": "", "grad": "_grad", "gout": "_grad_from_output"}

#: Parameter sets measured per op: the default first, then one or two non-default sets.
PARAM_SETS: dict[str, tuple[tuple[float, ...], ...]] = {
    name: ((),) for name, spec in reference.PARAMS.items() if not spec
} | {
    "leaky_relu": ((0.01,), (0.2,)),
    "elu": ((1.0,), (0.5,), (2.0,)),
    "celu": ((1.0,), (0.5,), (0.3,)),
    "swish": ((1.0,), (1.7,)),
    "softplus": ((1.0, 20.0), (2.0, 10.0), (1.7, 20.0)),
    "hardtanh": ((-1.0, 1.0), (-2.0, 3.0)),
    "threshold": ((0.5, -1.0), (0.0, 0.0)),
    "hardshrink": ((0.5,), (1.0,)),
    "softshrink": ((0.5,), (1.0,)),
}

#: Absolute-error tolerance per result dtype. float32: SPEC's 1e-7. float64: the same bound
#: scaled by the ratio of the two epsilons (2^-29), an assumption, as SPEC names none.
ABS_TOL: dict[str, float] = {"float32": 1e-7, "float64": 1e-7 * 2.0**-29}

#: (op, kind) rows where SPEC accepts an absolute bound where cancellation is inherent:
#: sigmoid'/tanh' in saturation (gout: 1 - y^2 from a rounded y), the GELU gradients' far tail,
#: and the gradients that cross zero (silu' at x = -1.2785, mish' at -1.1918, gelu' at -0.7518,
#: swish' at -1.2785/beta): near a root of dL/dx every formula cancels, so the relative error
#: there is unbounded while the absolute error stays below the tolerance (docs/accuracy.md).
ABS_BOUND_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("sigmoid", "grad"),
        ("sigmoid", "gout"),
        ("tanh", "grad"),
        ("tanh", "gout"),
        ("gelu", "grad"),
        ("gelu_tanh", "grad"),
        ("silu", "grad"),
        ("swish", "grad"),
        ("mish", "grad"),
    }
)

_RECHECK_ULP = 2.0  # points further than this from the float64 reference are re-checked exactly
_TOP_RECHECK = 64  # the worst points of every row are always re-checked exactly
_KINKS = (0.5, 1.0, 2.0, 3.0, 6.0, 10.0, 20.0)


# --------------------------------------------------------------------------------------------
# Error measures
# --------------------------------------------------------------------------------------------


def ulp_error(got: Any, ref: Any, dtype: Any, ref_lo: Any = None) -> np.ndarray:
    """Error of ``got`` in units of the last place of ``dtype`` at the reference value.

    ``|got - ref| / ulp(ref)``, where ``ulp(ref)`` is ``np.spacing`` of ``|ref|`` rounded to
    ``dtype`` (the smallest subnormal when that is 0). ``ref`` is float64 (or higher precision as
    ``ref + ref_lo``, a double-double from the mpmath reference). Both NaN gives 0; NaN against a
    number, or an infinity against anything else (including a reference that overflows the dtype
    while ``got`` does not), gives inf. Returns a float64 array (0-d for scalars).
    """
    dt = np.dtype(dtype)
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    lo = np.float64(0.0) if ref_lo is None else np.asarray(ref_lo, dtype=np.float64)
    with np.errstate(all="ignore"):
        ref_d = ref.astype(dt)  # the correctly rounded result (inf if it overflows the dtype)
        ulp = np.spacing(np.abs(ref_d)).astype(np.float64)
        ulp = np.where(ref_d == 0, float(np.finfo(dt).smallest_subnormal), ulp)
        err = np.abs((got - ref) - lo) / ulp
        err = _special_cases(got, ref_d.astype(np.float64), err)
    return err


def abs_error(got: Any, ref: Any, ref_lo: Any = None, dtype: Any = None) -> np.ndarray:
    """``|got - (ref + ref_lo)|`` with the same NaN/inf rules as :func:`ulp_error`.

    With ``dtype``, the inf rule looks at ``ref`` rounded to ``dtype`` (an overflowing reference
    then matches an inf result), as :func:`ulp_error` does.
    """
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    lo = np.float64(0.0) if ref_lo is None else np.asarray(ref_lo, dtype=np.float64)
    with np.errstate(all="ignore"):
        ref_d = ref if dtype is None else ref.astype(dtype).astype(np.float64)
        return _special_cases(got, ref_d, np.abs((got - ref) - lo))


def _special_cases(got: np.ndarray, ref: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Apply the NaN/inf rules: both NaN -> 0, lone NaN -> inf, infinities must match exactly."""
    nonfinite = ~np.isfinite(got) | ~np.isfinite(ref)
    err = np.where(nonfinite, np.where(got == ref, 0.0, np.inf), err)
    got_nan, ref_nan = np.isnan(got), np.isnan(ref)
    return np.where(got_nan | ref_nan, np.where(got_nan & ref_nan, 0.0, np.inf), err)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _specials(dtype: np.dtype, params: Sequence[float], op: str) -> np.ndarray:
    """Special values and kinks (with their float neighbours) for one op and parameter set."""
    fi = np.finfo(dtype)
    tiny = float(fi.smallest_subnormal)
    kinks = list(_KINKS) + [abs(p) for p in params if math.isfinite(p)]
    if op == "softplus":  # where beta·x crosses the threshold
        kinks.append(params[1] / params[0])
    base = np.array(kinks + [tiny, 2 * tiny, 1000 * tiny, float(fi.tiny), float(fi.max)], dtype)
    with np.errstate(all="ignore"):
        near = np.concatenate([base, np.nextafter(base, dtype.type(np.inf)), np.nextafter(base, 0)])
    near = np.concatenate([near, -near])
    extra = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype)
    return np.concatenate([extra, near]).astype(dtype)


def inputs(
    dtype: Any, n_random: int = 300_000, n_dense: int = 1_500_000, seed: int = 0
) -> np.ndarray:
    """The x values for one dtype (specials are added per op by :func:`measure`).

    float32: every float32 whose bit pattern is a multiple of an odd K over the finite range, both
    signs (about ``n_dense`` values). float64: ``n_random`` values, see the module docstring.
    """
    dt = np.dtype(dtype)
    if dt == np.float32:
        n_pos = 0x7F800000  # bit patterns of +0 ... +max
        k = max(1, n_pos // max(1, n_dense // 2)) | 1
        bits = np.arange(0, n_pos, k, dtype=np.uint32)
        return np.concatenate([bits, bits | np.uint32(0x80000000)]).view(np.float32)
    if dt == np.float64:
        rng = np.random.default_rng(seed)
        n = n_random // 3
        lo2, hi2 = math.log2(float(np.finfo(np.float64).smallest_subnormal)), 1024.0
        full = np.exp2(rng.uniform(lo2, hi2, n))  # exp2(1024) overflows: cap at max below
        full = np.minimum(full, np.finfo(np.float64).max)
        bulk = np.exp2(rng.uniform(-20.0, 10.0, n))
        mags = np.concatenate([full, bulk])
        signs = rng.choice(np.array([-1.0, 1.0]), mags.size)
        lin = rng.uniform(-50.0, 50.0, n_random - 2 * n)
        return np.concatenate([signs * mags, lin])
    raise ValueError(f"dtype: expected float32 or float64, got {dt}")


# --------------------------------------------------------------------------------------------
# Exact references for the _grad_from_output formulas (rational in dy, y and the parameters)
# --------------------------------------------------------------------------------------------


def _frac_pair(value: Fraction) -> tuple[float, float]:
    hi = float(value)  # Fraction -> float rounds correctly
    return hi, float(value - Fraction(hi))


def _exact_gout(op: str) -> Callable[..., tuple[float, float]] | None:
    """Exact ``(hi, lo)`` of ``dy·g(y)`` for the gout formulas that round in float64."""
    forms: dict[str, Callable[..., Fraction]] = {
        "sigmoid": lambda dy, y: dy * y * (1 - y),
        "tanh": lambda dy, y: dy * (1 - y) * (1 + y),
        "elu": lambda dy, y, a: dy if y > 0 else dy * (y + a),
        "leaky_relu": lambda dy, y, s: dy if y > 0 else dy * s,
    }
    form = forms.get(op)
    if form is None:
        return None
    f64_ref = reference.REFERENCES[op]["gout"]

    def exact(dy: float, y: float, *params: float) -> tuple[float, float]:
        args = (dy, y, *params)
        if not all(map(math.isfinite, args)):
            return float(f64_ref(*args)), 0.0
        return _frac_pair(form(*map(Fraction, args)))

    return exact


def _exact_ref(op: str, kind: str) -> Callable[..., tuple[float, float]] | None:
    """A function returning the exact (hi, lo) reference for one point, or None."""
    refs = reference.REFERENCES[op]
    if kind == "gout":
        return _exact_gout(op)
    fn = refs["fwd_mp" if kind == "fwd" else "grad_mp"]
    if fn is None:
        return None
    return lambda *args: fn(*args, pair=True)


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


def _default_ufuncs() -> Any:
    # Lazily: the extension may not be built when this module is imported.
    from actcore import ufuncs

    return ufuncs


def reference_ufuncs() -> SimpleNamespace:
    """A stand-in for ``actcore.ufuncs`` that evaluates the float64 reference and rounds it.

    Each attribute takes arrays of one dtype (x or dy, x or dy, y, then the parameters) and
    returns the float64 reference rounded once to that dtype: the ideal C kernel.
    """

    def wrap(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        def ufunc_like(*args: Any) -> np.ndarray:
            dtype = np.result_type(*args)
            with np.errstate(all="ignore"):
                return np.asarray(fn(*(np.asarray(a, np.float64) for a in args))).astype(dtype)

        return ufunc_like

    ns = SimpleNamespace()
    for name, refs in reference.REFERENCES.items():
        for kind, suffix in KINDS.items():
            if refs[kind] is not None:
                setattr(ns, name + suffix, wrap(refs[kind]))
    return ns


def peer_ufuncs(peer: str) -> tuple[SimpleNamespace, str]:
    """A stand-in for ``actcore.ufuncs`` that runs another framework's kernel: the same callables
    as the benchmark (``actcore._bench_peers``: torch, onnxruntime, numpy/scipy, numexpr, jax),
    on one thread, for the (op, kind) pairs the peer has.  Returns (namespace, peer version).

    Parameters arrive as the harness passes them (0-d arrays in the dtype, in the registry's
    order) and are handed to the peer by name, over the benchmark's defaults.
    """
    from actcore import _bench_peers as bp
    from actcore._registry import OPS

    found, skipped = bp.detect([peer])
    if peer not in found:
        raise SystemExit(f"--peer {peer}: {skipped.get(peer, 'not a known peer')}")
    bp.set_threads(peer, 1)
    make = bp.MAKERS[peer]

    def build(op: str, kind: str) -> Callable[..., np.ndarray]:
        names = [p for p, _ in OPS[op].params if p != "approximate"] if op in OPS else []

        def ufunc_like(*args: Any) -> np.ndarray:
            nhead = 1 if kind == "fwd" else 2
            head = [np.ascontiguousarray(a) for a in args[:nhead]]
            params = bp.op_params(op)
            params.update({n: float(v) for n, v in zip(names, args[nhead:], strict=True)})
            bufs = {"x": head[-1], "out": np.empty_like(head[-1])}
            if kind != "fwd":
                bufs["dy"] = head[0]
                bufs["y"] = head[1]
            make(op, kind, bufs, params, 1)()
            return bufs["out"]

        return ufunc_like

    ns = SimpleNamespace()
    probe = np.linspace(-3, 3, 8, dtype=np.float32)
    for op, refs in reference.REFERENCES.items():
        for kind, suffix in KINDS.items():
            if refs[kind] is None:
                continue
            bufs = {"x": probe, "y": probe, "dy": probe, "out": np.empty_like(probe)}
            try:  # does the peer have this op and kind at all?
                make(op, kind, bufs, bp.op_params(op), 1)
            except Exception:  # Skip, or the framework's own error: no such row
                continue
            setattr(ns, op + suffix, build(op, kind))
    return ns, f"{peer} {found[peer]}"


def _row_inputs(
    op: str, kind: str, dt: np.dtype, params64: tuple[float, ...], x: np.ndarray, rng: Any
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dy, x-or-y) in the dtype for one row; dy is None for forward rows."""
    if kind == "fwd":
        return None, x
    sub = rng.choice(x.size, x.size // 8, replace=False)
    dy = np.concatenate([np.ones(x.size, dt), rng.standard_normal(sub.size).astype(dt)])
    xx = np.concatenate([x, x[sub]])
    if kind == "gout":  # the input is y = f(x), the forward reference rounded to the dtype
        with np.errstate(all="ignore"):
            xx = reference.REFERENCES[op]["fwd"](xx, *params64).astype(dt)
    return dy, xx


def _measure_row(
    op: str,
    kind: str,
    dt: np.dtype,
    params: tuple[float, ...],
    x: np.ndarray,
    ufuncs: Any,
    rng: Any,
    mp_samples: int,
    mp_max_recheck: int,
) -> dict[str, Any]:
    """Measure one (op, kind, dtype, params) row."""
    row: dict[str, Any] = {
        "op": op,
        "kind": kind,
        "dtype": dt.name,
        "params": params,
        "abs_tol": ABS_TOL[dt.name],
        "abs_allowed": (op, kind) in ABS_BOUND_ALLOWED,
    }
    ufunc = getattr(ufuncs, op + KINDS[kind], None)
    if ufunc is None:
        return row | {"status": "missing", "samples": 0}
    # Parameters are rounded to the dtype, as the ufunc will see them.
    params_d = tuple(np.asarray(p, dtype=dt) for p in params)
    params64 = tuple(float(p) for p in params_d)
    dy, xx = _row_inputs(op, kind, dt, params64, x, rng)
    head = (xx,) if dy is None else (dy, xx)
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(ufunc(*head, *params_d))
    except Exception as exc:  # report, do not abort the whole table
        return row | {"status": f"error: {type(exc).__name__}: {exc}", "samples": xx.size}
    if got.dtype != dt:
        row["note"] = f"result dtype {got.dtype}"
    got = got.astype(np.float64)
    with np.errstate(all="ignore"):
        ref = reference.REFERENCES[op][kind](*(a.astype(np.float64) for a in head), *params64)
    ref = np.broadcast_to(np.asarray(ref, np.float64), got.shape).copy()
    lo = np.zeros_like(ref)
    err = ulp_error(got, ref, dt)

    # Exact re-check: large errors, the worst few, and (float64) a random sample.
    exact = _exact_ref(op, kind)
    checked = np.zeros(0, dtype=np.intp)
    if exact is not None:
        finite = np.isfinite(xx) if dy is None else np.isfinite(xx) & np.isfinite(dy)
        bad = np.flatnonzero(finite & (err > _RECHECK_ULP))
        bad = bad[np.argsort(err[bad])[::-1][:mp_max_recheck]]
        order = np.flatnonzero(finite)
        top = order[np.argsort(err[order])[::-1][:_TOP_RECHECK]]
        picks = [bad, top]
        if dt == np.float64 and mp_samples and order.size:
            picks.append(rng.choice(order, min(mp_samples, order.size), replace=False))
        checked = np.unique(np.concatenate(picks))
        done = np.zeros(err.size, dtype=bool)

        def recheck(idx):
            for i in idx:
                args = (float(xx[i]),) if dy is None else (float(dy[i]), float(xx[i]))
                ref[i], lo[i] = exact(*args, *params64)
            err[idx] = ulp_error(got[idx], ref[idx], dt, lo[idx])
            done[idx] = True

        recheck(checked)
        # The reported worst point must itself be exact: where the float64 reference is off at
        # more points than the budget (gelu_tanh's and swish's far tails), keep re-checking the
        # worst unverified ones, in growing batches, until the maximum sits on a verified point.
        batch = _TOP_RECHECK
        while True:
            worst_i = int(np.argmax(np.where(finite, err, -1.0)))
            if done[worst_i] or not finite[worst_i]:
                break
            cand = np.flatnonzero(finite & ~done)
            recheck(cand[np.argsort(err[cand])[::-1][:batch]])
            batch *= 2
        checked = np.flatnonzero(done)

    aerr = abs_error(got, ref, lo, dt)
    worst = int(np.argmax(err))
    exact_hit = err[worst] == 0  # no error anywhere: there is no "worst" input to show
    beyond = aerr > ABS_TOL[dt.name]
    row |= {
        "status": "ok",
        "max_ulp": float(err[worst]),
        "worst_x": None if exact_hit else xx[worst].item(),
        "worst_dy": None if dy is None or exact_hit else dy[worst].item(),
        "worst_got": None if exact_hit else got[worst].item(),
        "worst_ref": None if exact_hit else float(ref[worst] + lo[worst]),
        "max_abs_err": float(np.max(aerr)) if aerr.size else 0.0,
        "max_ulp_beyond_abs_tol": float(np.max(err[beyond])) if beyond.any() else 0.0,
        "samples": int(xx.size),
        "exact_checked": int(checked.size),
        "reference": "float64" if exact is None else "float64 + exact re-check",
    }
    return row


def measure(
    ops: Iterable[str] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    n_random: int = 300_000,
    seed: int = 0,
    *,
    n_dense: int = 1_500_000,
    kinds: Sequence[str] = ("fwd", "grad", "gout"),
    mp_samples: int = 2000,
    mp_max_recheck: int = 2000,
    ufuncs: Any = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    finite_only: bool = False,
) -> list[dict[str, Any]]:
    """Measure every (op, kind, dtype, parameter set) and return one dict per row.

    ``ops`` defaults to every op in :data:`actcore.reference.PARAMS`; ``ufuncs`` to
    ``actcore.ufuncs`` (pass :func:`reference_ufuncs` to test the harness). ``n_random`` is the
    float64 sample size, ``n_dense`` the approximate float32 one. Row keys: op, kind, dtype,
    params, status ("ok", "missing" or "error: ..."), max_ulp, worst_x, worst_dy, worst_got,
    worst_ref, max_abs_err, max_ulp_beyond_abs_tol, abs_tol, abs_allowed, samples,
    exact_checked, reference.  ``finite_only`` drops the infinite and NaN inputs (for peers,
    whose special-value rules differ and would swamp the table with inf).
    """
    ops = list(reference.PARAMS) if ops is None else list(ops)
    unknown = [op for op in ops if op not in reference.REFERENCES]
    if unknown:
        raise ValueError(f"ops: unknown op(s) {unknown}; expected names from {list(PARAM_SETS)}")
    if ufuncs is None:
        ufuncs = _default_ufuncs()
    rng = np.random.default_rng(seed)
    rows = []
    for dtype in dtypes:
        dt = np.dtype(dtype)
        base = inputs(dt, n_random=n_random, n_dense=n_dense, seed=seed)
        for op in ops:
            for params in PARAM_SETS[op]:
                x = np.concatenate([base, _specials(dt, params, op)])
                if finite_only:
                    x = x[np.isfinite(x)]
                for kind in kinds:
                    if reference.REFERENCES[op][kind] is None:
                        continue
                    row = _measure_row(
                        op, kind, dt, params, x, ufuncs, rng, mp_samples, mp_max_recheck
                    )
                    rows.append(row)
                    if progress is not None:
                        progress(row)
    return rows


# --------------------------------------------------------------------------------------------
# Axis activations (SPEC §3): rows of several lengths and scales against actcore.reference's
# long double references (80-bit on x86-64 Linux; elsewhere only float32 is measured)
# --------------------------------------------------------------------------------------------

AXIS_LENGTHS = (7, 100, 4096, 70000)
AXIS_SCALES = (0.1, 1.0, 10.0, 100.0)
AXIS_OPS = ("softmax", "log_softmax", "logsumexp", "softmax_grad", "log_softmax_grad",
            "glu", "swiglu", "geglu", "geglu_tanh", "reglu", "maxout")
# the reference has more digits than float64 only with an extended long double
_LD_EXTENDED = np.finfo(np.longdouble).nmant >= 63


def _axis_inputs(dtype: np.dtype, rng: np.random.Generator, per_length: int):
    """(description, 2-D array of rows): normal rows at each length and scale, and rows far
    from 0, with one dominant entry, or spanning exp's whole range."""
    out = []
    for n in AXIS_LENGTHS:
        rows = max(2, per_length // n)
        for scale in AXIS_SCALES:
            out.append((f"len {n}, N(0, {scale:g})",
                        (rng.standard_normal((rows, n)) * scale).astype(dtype)))
    special = np.array([[1e4, 1e4 - 1, 1e4 - 2, 1e4 - 7], [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3],
                        [30.0, 0.0, -1.0, -2.0], [0.0, -80.0, -103.0, -700.0],
                        [-1.0, -1.0, -1.0, -2.0], [50.0, -50.0, 1e-30, -1e-30]])
    with np.errstate(over="ignore"):
        out.append(("special rows", special.astype(dtype)))
    return out


def _grad_terms(op: str, dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The magnitude of the terms a softmax-family gradient subtracts, per element: y dy and
    y sum |y dy| (softmax_grad), dy and e^y sum |dy| (log_softmax_grad) -- the sums in absolute
    value, since a sum of rounded products is only known relative to those.  Where the terms
    cancel, the error is measured in ulp of these, as the elementwise table's absolute
    tolerance does for the gradients that cross zero."""
    y, dy = y.astype(np.float64), dy.astype(np.float64)
    with np.errstate(all="ignore"):
        if op == "softmax_grad":
            return np.abs(y) * (np.abs(dy) + np.sum(np.abs(y * dy), axis=-1, keepdims=True))
        return np.abs(dy) + np.exp(y) * np.sum(np.abs(dy), axis=-1, keepdims=True)


# the axis ops a peer's benchmark callables cover (actcore._bench_peers: forward and gradient
# of the softmax family, along the last axis)
PEER_AXIS_OPS = ("softmax", "log_softmax", "softmax_grad", "log_softmax_grad")


def _peer_axis_fn(peer: str, op: str) -> Callable[..., np.ndarray] | None:
    """op (a PEER_AXIS_OPS name) through the peer's benchmark callable on one thread, as
    f(x) or f(dy, y), or None where the peer has no such kernel."""
    from actcore import _bench_peers as bp

    base, kind = (op[:-5], "grad") if op.endswith("_grad") else (op, "fwd")
    bp.set_threads(peer, 1)
    make = bp.MAKERS[peer]
    probe = np.linspace(-3, 3, 8, dtype=np.float32).reshape(2, 4)
    try:  # does the peer have this op and kind at all?
        make(base, kind, {"x": probe, "y": probe, "dy": probe, "out": np.empty_like(probe)},
             {}, 1)
    except Exception:  # Skip, or the framework's own error: no such row
        return None

    def run(*args: np.ndarray) -> np.ndarray:
        args = tuple(np.ascontiguousarray(a) for a in args)
        bufs = {"x": args[-1], "out": np.empty_like(args[-1])}
        if kind == "grad":
            bufs["dy"], bufs["y"] = args
        make(base, kind, bufs, {}, 1)()
        return bufs["out"]

    return run


def _axis_case(op: str, x: np.ndarray, rng: np.random.Generator,
               peer_fn: Callable[..., np.ndarray] | None = None):
    """(got, reference as long double, the gradients' term magnitudes or None) for one op on
    rows x (along the last axis); peer_fn: the peer's kernel for a PEER_AXIS_OPS op, fed the
    same rows (gradients: the same dy and actcore's own forward output y)."""
    import actcore

    from . import reference as R

    if op in ("softmax", "log_softmax", "logsumexp"):
        got = (peer_fn or getattr(actcore, op))(x)
        ref = getattr(R, f"ref_{op}")(x)
        if op == "logsumexp" and x.dtype == np.float64:
            # rows where M + log S cancels (|result| < 2 log S): mpmath, since long double's
            # log S leaves the result only ~11 bits beyond double's
            with np.errstate(all="ignore"):
                lg = np.squeeze(R.ref_log_s(x, -1)[3], -1)
                cancel = np.isfinite(ref) & (np.abs(ref) < 2 * lg)
            if cancel.any():
                ref[cancel] = R.ref_logsumexp_mp(x[cancel])
        return got, ref, None
    if op in ("softmax_grad", "log_softmax_grad"):
        y = (actcore.softmax if op == "softmax_grad" else actcore.log_softmax)(x)
        dy = rng.standard_normal(x.shape).astype(x.dtype)
        got = (peer_fn or getattr(actcore, op))(dy, y)
        return got, getattr(R, f"ref_{op}")(dy, y), _grad_terms(op, dy, y)
    if op == "maxout":
        xx = x[:, : x.shape[1] // 4 * 4]
        return actcore.maxout(xx, 4, axis=1), np.max(
            xx.reshape(xx.shape[0], -1, 4).astype(np.longdouble), axis=2), None
    xx = x[:, : x.shape[1] // 2 * 2]
    a, b = np.split(xx, 2, axis=1)
    name = "geglu" if op == "geglu_tanh" else op
    kw = {"approximate": "tanh"} if op == "geglu_tanh" else {}
    return getattr(actcore, name)(xx, **kw), R.ref_glu_pair(op, a, b), None


def measure_axis(dtypes: Sequence[str] = ("float32", "float64"), seed: int = 0,
                 per_length: int = 280_000, ops: Sequence[str] | None = None,
                 progress: Callable[[dict[str, Any]], None] | None = None,
                 peer: str | None = None) -> list[dict[str, Any]]:
    """Max ULP per axis op and dtype (all rows of every family), as table rows; with peer
    (a benchmark peer's name), that peer's kernels for the PEER_AXIS_OPS it has instead."""
    rows = []
    for dt_name in dtypes:
        dt = np.dtype(dt_name)
        if dt == np.float64 and not _LD_EXTENDED:
            continue  # long double is double here: no reference better than the result
        for op in ops or (PEER_AXIS_OPS if peer else AXIS_OPS):
            if dt == np.float64 and op in ("geglu", "geglu_tanh"):
                continue  # float64 reference only (gelu's float64 accuracy: the table above)
            peer_fn = _peer_axis_fn(peer, op) if peer else None
            if peer and peer_fn is None:
                continue
            rng = np.random.default_rng(seed)
            row = {"op": op, "dtype": dt_name, "max_ulp": 0.0, "max_abs_err": 0.0,
                   "max_ulp_of_terms": None, "samples": 0, "worst": ""}
            for desc, x in _axis_inputs(dt, rng, per_length):
                got, ref, terms = _axis_case(op, x, rng, peer_fn)
                with np.errstate(all="ignore"):
                    hi = ref.astype(np.float64)
                    lo = (ref - hi).astype(np.float64)
                    err = ulp_error(got, hi, dt, lo)
                    aerr = abs_error(got, hi, lo, dt)
                    if terms is not None:  # error in units of eps * terms
                        unit = np.maximum(terms * float(np.finfo(dt).eps),
                                          float(np.finfo(dt).smallest_subnormal))
                        terr = np.where(np.isfinite(aerr), aerr / unit, err)
                        row["max_ulp_of_terms"] = max(row["max_ulp_of_terms"] or 0.0,
                                                      float(terr.max(initial=0)))
                row["samples"] += got.size
                worst = float(err.max(initial=0))
                if worst > row["max_ulp"]:
                    row["max_ulp"], row["worst"] = worst, desc
                finite = np.where(np.isfinite(aerr), aerr, 0)
                row["max_abs_err"] = max(row["max_abs_err"], float(finite.max(initial=0)))
            rows.append(row)
            if progress:
                progress({**row, "kind": "axis", "params": ()})
    return rows


def _axis_row_md(r: dict[str, Any]) -> str:
    return (f"| {r['op']} | {r['dtype']} | {_fmt_num(r['max_ulp'])} | {r['worst']} "
            f"| {_fmt_num(r['max_abs_err'])} | {_fmt_num(r['max_ulp_of_terms'])} "
            f"| {r['samples']} |")


def format_axis_markdown(rows: Sequence[dict[str, Any]], peer: str | None = None) -> str:
    """The axis rows as a Markdown section of the accuracy page (or of a peer's page)."""
    if peer:
        return "\n".join([
            "## Axis activations",
            "",
            "The softmax family along the last axis, through the benchmark's peer callables, on "
            "the rows of docs/accuracy.md's axis table (normal rows of length "
            + ", ".join(str(n) for n in AXIS_LENGTHS) + " at scales "
            + ", ".join(f"{s:g}" for s in AXIS_SCALES) + ", and the special rows), against the "
            "same long double reference; gradients take actcore's forward output y and the "
            "same normal dy.  ULP of the terms: as there (the error in units of eps times the "
            "terms the gradient subtracts).",
            "",
            "| op | dtype | max ULP | worst rows | max abs err | ULP of the terms | samples |",
            "|---|---|---:|---|---:|---:|---:|",
        ] + [_axis_row_md(r) for r in rows] + [""])
    lines = [
        "## Axis activations",
        "",
        "Rows along the last axis: normal rows of length "
        + ", ".join(str(n) for n in AXIS_LENGTHS) + " at scales "
        + ", ".join(f"{s:g}" for s in AXIS_SCALES)
        + ", and special rows (far from 0, a dominant entry, values down to exp's underflow). "
        "Reference: `actcore.reference` in long double (80-bit here; float64 rows are measured "
        "only where long double has more digits than double; float64 logsumexp's rows that "
        "cancel against mpmath).  Gradients take the kernel's own "
        "forward output y and a normal dy, so they measure the gradient kernel alone.  The GLU "
        "family is the elementwise activation times b (one more rounding): geglu's float64 "
        "error is gelu's (table above) plus that rounding, as NumPy has no long double erf.",
        "",
        "* **ULP of the terms** (gradients): the error in units of eps times the terms the "
        "gradient subtracts (y dy + y sum |y dy| for softmax_grad, dy + e^y sum |dy| for "
        "log_softmax_grad: a sum of rounded products is known relative to the sum of their "
        "magnitudes).  Where the terms cancel, the gradient's own ULP error is unbounded while "
        "this stays small: SPEC's absolute bound for gradients, per unit of the terms.",
        "* **Known deviations**:",
        "  * float64 logsumexp where M + log S cancels (M < 0, |result| < 2 log S; normalised "
        "log-probabilities, whose logsumexp is 0 but for their own roundings, cancel to "
        "~1e-17): such rows are redone in triple-double (csrc/axis.c ax_lse_td), good to "
        "~2^-150 log S absolute, so within 1 ULP for any result above ~2^-95 log S "
        "(tests/test_axis.py, against mpmath; a plain double M + log S was off by up to 1e16 "
        "ULP there, double-double by up to 57).  They take 6-8x a plain row's time (rows of "
        "50 and 1000 on one thread: 22.3 and 14.4 ns/element, against 3.7 and 1.8: "
        "bench/results/logsumexp_cancel.md).  The rows that cancel are measured against "
        "mpmath here, the others against long double.",
        "  * geglu float32 with a < -14.6 (gelu's clamp) and |b| > ~1e5 gives 0 where "
        "gelu(a) b is a few subnormal ulp (geglu_tanh: a < -11).  geglu float64 multiplies "
        "gelu(a) by b after rounding it, which loses bits where gelu(a) is subnormal "
        "(a < -37.5) and |b| > 1 (glu and swiglu do not: both forms are scaled last).",
        "",
        "| op | dtype | max ULP | worst rows | max abs err | ULP of the terms | samples |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    lines.extend(_axis_row_md(r) for r in rows)
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt_num(v: Any, dtype: str | None = None) -> str:
    if v is None:
        return ""
    if dtype == "float32":
        return repr(float(np.float32(v))) if math.isfinite(v) else str(v)
    if isinstance(v, float) and math.isfinite(v) and v != 0 and not 1e-3 <= abs(v) < 1e4:
        return f"{v:.3e}"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def format_markdown(rows: Sequence[dict[str, Any]], header: str = "") -> str:
    """The rows as a Markdown table (one line per op, kind, dtype and parameter set)."""
    lines = [header] if header else []
    lines += [
        "| op | kind | dtype | params | max ULP | worst x | worst dy | max abs err "
        "| ULP where abs err > tol | samples | exact re-checks |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        params = ", ".join(f"{p:g}" for p in r["params"]) if r["params"] else "–"
        if r.get("status") != "ok":
            lines.append(
                f"| {r['op']} | {r['kind']} | {r['dtype']} | {params} | {r.get('status')} "
                f"| | | | | {r.get('samples', 0)} | |"
            )
            continue
        beyond = _fmt_num(r["max_ulp_beyond_abs_tol"])
        if r["abs_allowed"]:
            beyond += " †"
        lines.append(
            f"| {r['op']} | {r['kind']} | {r['dtype']} | {params} | {_fmt_num(r['max_ulp'])} "
            f"| {_fmt_num(r['worst_x'], r['dtype'])} | {_fmt_num(r['worst_dy'], r['dtype'])} "
            f"| {_fmt_num(r['max_abs_err'])} | {beyond} | {r['samples']} "
            f"| {r['exact_checked']} |"
        )
    lines.append("")
    return "\n".join(lines)


def _header(args: argparse.Namespace, rows: Sequence[dict[str, Any]], seconds: float) -> str:
    try:
        import actcore

        version = getattr(actcore, "__version__", "unknown")
    except ImportError:  # pragma: no cover - only without a build
        version = "not importable"
    source = "actcore.reference itself (--self-test)" if args.self_test else f"actcore {version}"
    if getattr(args, "peer_version", None):
        source = (f"{args.peer_version}, one thread, through the benchmark's peer callables "
                  "(rows the peer has no equivalent for are omitted; parameters as the "
                  "benchmark's), on finite inputs only: NaN and infinity rules differ between "
                  "frameworks and are not scored here")
    tol = ", ".join(f"{k} {v:.3g}" for k, v in ABS_TOL.items())
    peer = getattr(args, "peer", None)
    command = f"--peer {peer} --write" if peer else "--write"
    known = (
        []
        if peer
        else [
            "* **Known deviations** (tests/test_accuracy.py `KNOWN`): float64 gelu′ and mish′ "
            "next to their roots exceed 4 ULP by a little at points just outside the float64 "
            "absolute tolerance (SPEC's 1e-7 scaled by 2^-29): up to 16 and 5 ULP there (the "
            "bound depends on the sampled dy).",
        ]
    )
    return "\n".join(
        [
            f"# Accuracy{' of a peer: ' + peer if peer else ''}",
            "",
            f"Generated by `python -m actcore accuracy {command}`; do not edit by hand.",
            "",
            f"Kernels measured: {source}. NumPy {np.__version__}, Python "
            f"{platform.python_version()}, {platform.machine()}, "
            f"ACTCORE_ISA={os.environ.get('ACTCORE_ISA', '(unset)')}, seed {args.seed}, "
            f"{len(rows)} rows in {seconds:.0f} s.",
            "",
            "* **max ULP**: max over all inputs of |got − ref| / ulp(ref) in the result dtype "
            "(both NaN: 0; NaN or inf mismatch: inf).",
            "* **Reference**: float64 (`actcore/reference.py`); every point more than 2 ULP off, "
            "the worst points, and 2000 random float64 points are re-checked exactly "
            "(mpmath, 50 digits; exact rationals for `_grad_from_output`).",
            "* **Inputs**: float32: every float32 whose bit pattern is a multiple of an odd "
            f"stride, both signs, plus ±0, subnormals, ±max, {'' if peer else '±inf, NaN '}"
            "and the kinks with their "
            "neighbours; float64: log-uniform over the whole range, log-uniform in "
            "[2^-20, 2^10] and uniform in [−50, 50], plus the same specials. Gradients: dy = 1, "
            "and a random normal dy on one in eight points.",
            f"* **ULP where abs err > tol**: the max ULP ignoring points with absolute error "
            f"≤ tol ({tol}). † marks the zones where SPEC accepts that bound: "
            "sigmoid′/tanh′ in saturation, `_grad_from_output` of tanh (1 − y² from a rounded "
            "y), and the gradients that cross zero (gelu′ at −0.7518, gelu_tanh′ at −0.7525, "
            "silu′/swish′ at −1.2785/β, mish′ at −1.1919): next to a root of f′ every formula "
            "cancels, so the relative error is unbounded while the absolute error stays small.",
            *known,
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m actcore accuracy [options]``: print the table, ``--write`` the docs page."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["accuracy"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(
        prog="python -m actcore accuracy", description="Max ULP error of actcore's kernels."
    )
    parser.add_argument("--ops", help="comma-separated op names (default: all)")
    parser.add_argument("--dtypes", default="float32,float64", help="comma-separated dtypes")
    parser.add_argument("--kinds", default="fwd,grad,gout", help="fwd,grad,gout")
    parser.add_argument("--n-random", type=int, default=300_000, help="float64 sample size")
    parser.add_argument("--n-dense", type=int, default=1_500_000, help="float32 sample size")
    parser.add_argument("--mp-samples", type=int, default=2000, help="float64 mpmath sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="write docs/accuracy.md")
    parser.add_argument("--output", type=Path, help="write the table to this file instead")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="measure actcore.reference rounded to the dtype instead of the C kernels",
    )
    parser.add_argument(
        "--peer",
        help="measure a peer of the benchmark instead (torch, onnxruntime, numpy, numexpr, jax); "
        "with --write the table goes to bench/results/accuracy_<peer>.md",
    )
    parser.add_argument("--no-axis", action="store_true",
                        help="skip the axis activations (softmax family, GLU family, maxout)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    ufuncs = reference_ufuncs() if args.self_test else None
    args.peer_version = None
    if args.peer:
        ufuncs, args.peer_version = peer_ufuncs(args.peer)

    def progress(row: dict[str, Any]) -> None:
        if not args.quiet:
            print(
                f"{row['op']:>12} {row['kind']:<4} {row['dtype']} {row['params']} "
                f"{row.get('max_ulp', row.get('status'))}",
                file=sys.stderr,
            )

    start = time.perf_counter()
    rows = measure(
        ops=args.ops.split(",") if args.ops else None,
        dtypes=tuple(args.dtypes.split(",")),
        n_random=args.n_random,
        seed=args.seed,
        n_dense=args.n_dense,
        kinds=tuple(args.kinds.split(",")),
        mp_samples=args.mp_samples,
        ufuncs=ufuncs,
        progress=progress,
        finite_only=bool(args.peer),
    )
    if args.peer:  # only the rows the peer runs (Skip: not with these parameters; other
        # errors: not in this dtype, e.g. ONNX Runtime's float16 activations)
        rows = [r for r in rows if r.get("status") == "ok"]
    axis_rows = []
    axis_dtypes = tuple(d for d in args.dtypes.split(",") if d in ("float32", "float64"))
    if axis_dtypes and not (args.no_axis or args.self_test or args.ops):
        axis_rows = measure_axis(axis_dtypes, args.seed, progress=progress, peer=args.peer)
    text = format_markdown(rows, _header(args, rows, time.perf_counter() - start))
    if axis_rows:
        text += "\n" + format_axis_markdown(axis_rows, args.peer)
    target = args.output
    if args.write and target is None:
        root = Path(__file__).resolve().parents[1]
        target = (root / "bench" / "results" / f"accuracy_{args.peer}.md" if args.peer
                  else root / "docs" / "accuracy.md")
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
