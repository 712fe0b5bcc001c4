"""Plain-NumPy reference for every elementwise activation and its gradient.

This module is the readable specification of actcore's elementwise ops and the oracle the tests
and ``python -m actcore accuracy`` compare the C kernels against. It never imports actcore's
compiled parts.

Three layers, per op ``<name>``:

``ref_<name>(x, *params)``
    Vectorised float64 forward, written in the numerically stable form (sigmoid from
    ``t = e^-|x|``, softplus as ``max(x, 0) + log1p(e^-|x|)``, ELU family with ``expm1``, GELU
    through ``erfc``). Inputs of any float dtype are promoted to float64; parameters broadcast
    like inputs. Accurate to a few float64 ULP, which is "correctly rounded" for float32 results.

``ref_<name>_grad(dy, x, *params)``
    dL/dx = dy * f'(x) in float64, with PyTorch's conventions at the kinks (see each function).
    ``ref_<name>_grad_from_output(dy, y, *params)`` exists where the gradient is a function of the
    forward output (sigmoid, tanh, relu, leaky_relu, elu, relu6, hardtanh).

``ref_<name>_mp(x, *params)`` / ``ref_<name>_grad_mp(dy, x, *params)``
    One scalar evaluated with mpmath at 50 significant digits and rounded to the nearest float64,
    for the smooth ops (and the rational hardsigmoid/hardswish). Use these to check float64
    results where a float64 formula would itself lose digits (tanhshrink near 0, the GELU tail,
    gradients in saturation). ``pair=True`` returns ``(hi, lo)`` with ``hi + lo`` the value to
    about 106 bits, so an error can be measured to a fraction of an ULP.

Special values: NaN in ``x`` (or ``y``) gives NaN out for every forward and every gradient,
including the piecewise-constant gradients (``ref_relu_grad(1.0, nan)`` is NaN). ±inf give the
mathematical limits. For the piecewise-constant gradients the zero branch is a *select*, as in
PyTorch, so a NaN or inf ``dy`` there gives 0; smooth gradients multiply, so ``dy`` NaN gives NaN.
No function emits floating-point warnings.

``REFERENCES`` maps each op name to ``{"fwd", "grad", "gout", "fwd_mp", "grad_mp"}`` (the last
three may be ``None``) and ``PARAMS`` lists each op's parameter names and defaults in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["PARAMS", "REFERENCES", "SELU_ALPHA", "SELU_SCALE"]  # the ref_* names are added below

ArrayLike = Any

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

# SELU constants as printed in the SELU paper / PyTorch; the strings feed the mpmath reference
# so that it uses the exact decimal values rather than their float64 roundings.
_SELU_ALPHA_STR = "1.6732632423543772848170429916717"
_SELU_SCALE_STR = "1.0507009873554804934193349852946"
SELU_ALPHA = float(_SELU_ALPHA_STR)
SELU_SCALE = float(_SELU_SCALE_STR)

_SQRT1_2 = 0.70710678118654752440  # 1/sqrt(2)
_INV_SQRT_2PI = 0.39894228040143267794  # 1/sqrt(2*pi)
_GELU_TANH_K = 0.79788456080286535588  # sqrt(2/pi)
_GELU_TANH_KAPPA = 0.044715
_GELU_TANH_KAPPA_STR = "0.044715"

# x - tanh(x) = sum_k c_k x^(2k+3) for |x| < pi/2 (from the Bernoulli-number series of tanh).
# With |x| <= 0.6 the 24 terms below truncate at ~1e-20 relative; above 0.6 the direct
# difference loses at most ~3 bits, which float32 results never see.
_TANHSHRINK_SERIES = (
    0.3333333333333333,
    -0.13333333333333333,
    0.05396825396825397,
    -0.021869488536155203,
    0.008863235529902197,
    -0.003592128036572481,
    0.0014558343870513183,
    -0.000590027440945586,
    0.00023912911424355248,
    -9.691537956929451e-05,
    3.927832388331683e-05,
    -1.5918905069328964e-05,
    6.451689215655431e-06,
    -2.6147711512907546e-06,
    1.0597268320104654e-06,
    -4.294911078273806e-07,
    1.7406618963571648e-07,
    -7.054636946400968e-08,
    2.859136662305254e-08,
    -1.1587644432798853e-08,
    4.6962953982309016e-09,
    -1.903336833931276e-09,
    7.713933635359062e-10,
    -3.126339545892087e-10,
)
_TANHSHRINK_SERIES_MAX = 0.6

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

try:  # scipy is a test dependency; fall back to the (slower) standard library without it.
    from scipy.special import erfc as _scipy_erfc
except ImportError:  # pragma: no cover - exercised only without scipy
    _scipy_erfc = None
    _math_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erfc(z: np.ndarray) -> np.ndarray:
    """Complementary error function of a float64 array (NaN-propagating)."""
    if _scipy_erfc is not None:
        return _scipy_erfc(z)
    return np.asarray(_math_erfc(z), dtype=np.float64)  # pragma: no cover


def _f64(a: ArrayLike) -> np.ndarray:
    """Promote an input or a parameter to a float64 array (no copy when already float64)."""
    return np.asarray(a, dtype=np.float64)


def _keep_nan(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Return ``out`` with NaN wherever ``x`` is NaN (for selects that would drop the NaN)."""
    return np.where(np.isnan(x), np.nan, out)


def _at_inf(x: np.ndarray, out: np.ndarray, pos: float, neg: float) -> np.ndarray:
    """Replace ``out`` by the limits ``pos``/``neg`` at x = +inf/-inf (where inf*0 gave NaN)."""
    return np.where(x == np.inf, pos, np.where(x == -np.inf, neg, out))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Stable logistic sigmoid: t = e^-|z|; 1/(1+t) for z >= 0, t/(1+t) otherwise."""
    t = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def _sigmoid_deriv(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z)·sigma(-z) = t/(1+t)^2 with t = e^-|z| (no cancellation)."""
    t = np.exp(-np.abs(z))
    return t / ((1.0 + t) * (1.0 + t))


def _sech2(z: np.ndarray) -> np.ndarray:
    """sech^2 z = 4t/(1+t)^2 with t = e^(-2|z|): exact limits, no overflow, no cancellation."""
    t = np.exp(-2.0 * np.abs(z))
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _softplus_unit(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|), without the threshold."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _quiet(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Decorator: run a reference with all floating-point warnings silenced.

    ``np.where`` evaluates both branches, so e.g. ``expm1`` of a large positive x overflows in
    the branch that is then discarded; the reference must stay warning-free under
    ``filterwarnings = error``.
    """
    wrapped = np.errstate(all="ignore")(fn)
    __all__.append(fn.__name__)
    return wrapped


# --------------------------------------------------------------------------------------------
# Forward references
# --------------------------------------------------------------------------------------------


@_quiet
def ref_sigmoid(x: ArrayLike) -> np.ndarray:
    """1 / (1 + e^-x), from t = e^-|x| so that neither branch overflows."""
    return _sigmoid(_f64(x))


@_quiet
def ref_log_sigmoid(x: ArrayLike) -> np.ndarray:
    """-softplus(-x) = min(x, 0) - log1p(e^-|x|)."""
    x = _f64(x)
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


@_quiet
def ref_tanh(x: ArrayLike) -> np.ndarray:
    """tanh x."""
    return np.tanh(_f64(x))


@_quiet
def ref_relu(x: ArrayLike) -> np.ndarray:
    """max(0, x) (NaN propagates)."""
    return np.maximum(_f64(x), 0.0)


@_quiet
def ref_relu6(x: ArrayLike) -> np.ndarray:
    """min(max(0, x), 6)."""
    return np.minimum(np.maximum(_f64(x), 0.0), 6.0)


@_quiet
def ref_leaky_relu(x: ArrayLike, negative_slope: ArrayLike = 0.01) -> np.ndarray:
    """x if x > 0 else negative_slope·x."""
    x, s = _f64(x), _f64(negative_slope)
    return np.where(x > 0, x, s * x)  # NaN: s·NaN is NaN


@_quiet
def ref_elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> np.ndarray:
    """x if x > 0 else alpha·expm1(x)."""
    x, a = _f64(x), _f64(alpha)
    return np.where(x > 0, x, a * np.expm1(x))


@_quiet
def ref_selu(x: ArrayLike) -> np.ndarray:
    """scale·elu(x, alpha) with the SELU constants; positive side scale·x."""
    x = _f64(x)
    return np.where(x > 0, SELU_SCALE * x, (SELU_SCALE * SELU_ALPHA) * np.expm1(x))


@_quiet
def ref_celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> np.ndarray:
    """max(0, x) + min(0, alpha·expm1(x/alpha)) (alpha > 0)."""
    x, a = _f64(x), _f64(alpha)
    return np.maximum(x, 0.0) + np.minimum(0.0, a * np.expm1(x / a))


@_quiet
def ref_gelu(x: ArrayLike) -> np.ndarray:
    """x·Phi(x) = 0.5·x·erfc(-x/sqrt 2); erfc keeps the negative tail accurate."""
    x = _f64(x)
    out = 0.5 * x * _erfc(x * -_SQRT1_2)
    return _at_inf(x, out, np.inf, -0.0)


@_quiet
def ref_gelu_tanh(x: ArrayLike) -> np.ndarray:
    """0.5·x·(1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3).

    Computed as x·sigma(2u), the same number (1 + tanh u = 2 sigma(2u)) without the cancellation
    of 1 + tanh u for negative x.
    """
    x = _f64(x)
    u = _GELU_TANH_K * (x + _GELU_TANH_KAPPA * x * x * x)
    out = x * _sigmoid(2.0 * u)
    return _at_inf(x, out, np.inf, -0.0)


@_quiet
def ref_silu(x: ArrayLike) -> np.ndarray:
    """x·sigma(x)."""
    x = _f64(x)
    return _at_inf(x, x * _sigmoid(x), np.inf, -0.0)


@_quiet
def ref_swish(x: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """x·sigma(beta·x)."""
    x, b = _f64(x), _f64(beta)
    s = _sigmoid(b * x)
    # x = ±inf with sigma = 0 is 0·inf: the limit is a signed zero.
    return np.where(np.isinf(x) & (s == 0), np.copysign(0.0, x), x * s)


@_quiet
def ref_mish(x: ArrayLike) -> np.ndarray:
    """x·tanh(softplus(x))."""
    x = _f64(x)
    return _at_inf(x, x * np.tanh(_softplus_unit(x)), np.inf, -0.0)


@_quiet
def ref_softplus(x: ArrayLike, beta: ArrayLike = 1.0, threshold: ArrayLike = 20.0) -> np.ndarray:
    """(1/beta)·log(1 + e^(beta·x)), and x itself where beta·x > threshold (PyTorch)."""
    x, b, th = _f64(x), _f64(beta), _f64(threshold)
    bx = b * x
    return np.where(bx > th, x, _softplus_unit(bx) / b)


@_quiet
def ref_softsign(x: ArrayLike) -> np.ndarray:
    """x / (1 + |x|), ±1 at ±inf."""
    x = _f64(x)
    return _at_inf(x, x / (1.0 + np.abs(x)), 1.0, -1.0)


@_quiet
def ref_hardsigmoid(x: ArrayLike) -> np.ndarray:
    """clip(x/6 + 1/2, 0, 1), computed as PyTorch does: min(max(x + 3, 0), 6) / 6."""
    x = _f64(x)
    return np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0


@_quiet
def ref_hardswish(x: ArrayLike) -> np.ndarray:
    """x·hardsigmoid(x), computed as PyTorch does: x·min(max(x + 3, 0), 6) / 6.

    For x >= 3 the value is x itself (this also avoids x·6 overflowing near the float64 maximum);
    for x <= -3 it is -0 (including -inf, where x·0 would be NaN).
    """
    x = _f64(x)
    mid = x * np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0
    return np.where(x >= 3.0, x, np.where(x <= -3.0, -0.0, mid))


@_quiet
def ref_hardtanh(x: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0) -> np.ndarray:
    """clip(x, min_val, max_val)."""
    return np.minimum(np.maximum(_f64(x), _f64(min_val)), _f64(max_val))


@_quiet
def ref_threshold(x: ArrayLike, threshold: ArrayLike, value: ArrayLike) -> np.ndarray:
    """x if x > threshold else value (both parameters required, as in PyTorch)."""
    x = _f64(x)
    return _keep_nan(x, np.where(x > _f64(threshold), x, _f64(value)))


@_quiet
def ref_hardshrink(x: ArrayLike, lambd: ArrayLike = 0.5) -> np.ndarray:
    """x if |x| > lambd else 0."""
    x = _f64(x)
    return _keep_nan(x, np.where(np.abs(x) > _f64(lambd), x, 0.0))


@_quiet
def ref_softshrink(x: ArrayLike, lambd: ArrayLike = 0.5) -> np.ndarray:
    """x - lambd·sign(x) if |x| > lambd else 0."""
    x, lam = _f64(x), _f64(lambd)
    out = np.where(x > lam, x - lam, np.where(x < -lam, x + lam, 0.0))
    return _keep_nan(x, out)


@_quiet
def ref_tanhshrink(x: ArrayLike) -> np.ndarray:
    """x - tanh x; a 24-term odd series for |x| <= 0.6, where the difference would cancel."""
    x = _f64(x)
    x2 = x * x
    poly = np.zeros_like(x2)
    for c in reversed(_TANHSHRINK_SERIES):  # Horner in x^2
        poly = poly * x2 + c
    series = x * x2 * poly
    return np.where(np.abs(x) <= _TANHSHRINK_SERIES_MAX, series, x - np.tanh(x))


@_quiet
def ref_step(x: ArrayLike) -> np.ndarray:
    """Heaviside: 1 if x > 0 else 0 (0 at 0)."""
    x = _f64(x)
    return _keep_nan(x, np.where(x > 0, 1.0, 0.0))


# --------------------------------------------------------------------------------------------
# Gradients dL/dx = dy·f'(x)
# --------------------------------------------------------------------------------------------


@_quiet
def ref_sigmoid_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·sigma(x)(1 - sigma(x)) = dy·t/(1+t)^2, t = e^-|x|."""
    x = _f64(x)
    return _f64(dy) * _sigmoid_deriv(x)


@_quiet
def ref_log_sigmoid_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·sigma(-x)."""
    return _f64(dy) * _sigmoid(-_f64(x))


@_quiet
def ref_tanh_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·sech^2 x = dy·4e^(-2|x|)/(1 + e^(-2|x|))^2."""
    return _f64(dy) * _sech2(_f64(x))


@_quiet
def ref_relu_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy where x > 0 else 0 (relu'(0) = 0)."""
    x = _f64(x)
    return _keep_nan(x, np.where(x > 0, _f64(dy), 0.0))


@_quiet
def ref_relu6_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy for 0 < x < 6, else 0 (PyTorch's hardtanh_backward: 0 on the bounds)."""
    x = _f64(x)
    return _keep_nan(x, np.where((x <= 0.0) | (x >= 6.0), 0.0, _f64(dy)))


@_quiet
def ref_leaky_relu_grad(
    dy: ArrayLike, x: ArrayLike, negative_slope: ArrayLike = 0.01
) -> np.ndarray:
    """dy if x > 0 else negative_slope·dy (leaky'(0) = slope)."""
    x, dy = _f64(x), _f64(dy)
    return _keep_nan(x, np.where(x > 0, dy, _f64(negative_slope) * dy))


@_quiet
def ref_elu_grad(dy: ArrayLike, x: ArrayLike, alpha: ArrayLike = 1.0) -> np.ndarray:
    """dy if x > 0 else dy·alpha·e^x (elu'(0) = alpha)."""
    x, dy = _f64(x), _f64(dy)
    return _keep_nan(x, np.where(x > 0, dy, dy * (_f64(alpha) * np.exp(x))))


@_quiet
def ref_selu_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·scale if x > 0 else dy·scale·alpha·e^x."""
    x, dy = _f64(x), _f64(dy)
    out = np.where(x > 0, dy * SELU_SCALE, dy * ((SELU_SCALE * SELU_ALPHA) * np.exp(x)))
    return _keep_nan(x, out)


@_quiet
def ref_celu_grad(dy: ArrayLike, x: ArrayLike, alpha: ArrayLike = 1.0) -> np.ndarray:
    """dy if x > 0 else dy·e^(x/alpha)."""
    x, dy = _f64(x), _f64(dy)
    return _keep_nan(x, np.where(x > 0, dy, dy * np.exp(x / _f64(alpha))))


@_quiet
def ref_gelu_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·(Phi(x) + x·phi(x)), Phi via erfc, phi(x) = e^(-x^2/2)/sqrt(2 pi)."""
    x = _f64(x)
    cdf = 0.5 * _erfc(x * -_SQRT1_2)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return _f64(dy) * _at_inf(x, cdf + x * pdf, 1.0, 0.0)


@_quiet
def ref_gelu_tanh_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """PyTorch's tanh-GELU backward, written without cancellation.

    PyTorch: 0.5(1 + tanh u) + 0.5x(1 - tanh^2 u)·k(1 + 3·kappa·x^2), u = k(x + kappa·x^3).
    Here 0.5(1 + tanh u) = sigma(2u) and 1 - tanh^2 u = sech^2 u (same values, stable forms).
    """
    x = _f64(x)
    u = _GELU_TANH_K * (x + _GELU_TANH_KAPPA * x * x * x)
    sech2 = _sech2(u)
    inner = _GELU_TANH_K * (1.0 + 3.0 * _GELU_TANH_KAPPA * x * x)
    # When sech^2 underflows to 0 the second term is 0 even if x·inner overflowed.
    right = np.where(sech2 == 0.0, 0.0, 0.5 * x * sech2 * inner)
    return _f64(dy) * _at_inf(x, _sigmoid(2.0 * u) + right, 1.0, 0.0)


@_quiet
def ref_silu_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·sigma(x)(1 + x(1 - sigma(x))) = dy·(sigma(x) + x·sigma'(x))."""
    x = _f64(x)
    g = _sigmoid(x) + x * _sigmoid_deriv(x)
    return _f64(dy) * _at_inf(x, g, 1.0, 0.0)


@_quiet
def ref_swish_grad(dy: ArrayLike, x: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """dy·(sigma(bx) + bx·sigma(bx)(1 - sigma(bx))), b = beta."""
    x = _f64(x)
    z = _f64(beta) * x
    g = _sigmoid(z) + z * _sigmoid_deriv(z)
    g = np.where(np.isinf(z), _sigmoid(z), g)  # limits 1 / 0 where z·sigma'(z) is inf·0
    return _keep_nan(x, _f64(dy) * g)


@_quiet
def ref_mish_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·(tanh(sp) + x·sech^2(sp)·sigma(x)), sp = softplus(x)."""
    x = _f64(x)
    sp = _softplus_unit(x)
    g = np.tanh(sp) + x * _sech2(sp) * _sigmoid(x)
    return _f64(dy) * _at_inf(x, g, 1.0, 0.0)


@_quiet
def ref_softplus_grad(
    dy: ArrayLike, x: ArrayLike, beta: ArrayLike = 1.0, threshold: ArrayLike = 20.0
) -> np.ndarray:
    """dy·sigma(beta·x), and dy where beta·x > threshold (the linear branch)."""
    x, dy = _f64(x), _f64(dy)
    bx = _f64(beta) * x
    return _keep_nan(x, np.where(bx > _f64(threshold), dy, dy * _sigmoid(bx)))


@_quiet
def ref_softsign_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy / (1 + |x|)^2, dividing twice so that (1 + |x|)^2 cannot overflow for |x| > 1e154."""
    d = 1.0 + np.abs(_f64(x))
    return _f64(dy) / d / d


@_quiet
def ref_hardsigmoid_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy/6 for -3 < x < 3, else 0."""
    x = _f64(x)
    return _keep_nan(x, np.where((x > -3.0) & (x < 3.0), _f64(dy) / 6.0, 0.0))


@_quiet
def ref_hardswish_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """0 for x < -3; dy·(x/3 + 1/2) for -3 <= x <= 3; dy above (PyTorch).

    x/3 + 1/2 is evaluated as (x + 1.5)/3: the same number, but exact-then-one-rounding near its
    zero at x = -1.5, where x/3 + 0.5 cancels (tens of ULP).
    """
    x, dy = _f64(x), _f64(dy)
    out = np.where(x < -3.0, 0.0, np.where(x <= 3.0, dy * ((x + 1.5) / 3.0), dy))
    return _keep_nan(x, out)


@_quiet
def ref_hardtanh_grad(
    dy: ArrayLike, x: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0
) -> np.ndarray:
    """dy for min_val < x < max_val, 0 on and beyond the bounds (PyTorch)."""
    x = _f64(x)
    out = np.where((x <= _f64(min_val)) | (x >= _f64(max_val)), 0.0, _f64(dy))
    return _keep_nan(x, out)


@_quiet
def ref_threshold_grad(
    dy: ArrayLike, x: ArrayLike, threshold: ArrayLike, value: ArrayLike
) -> np.ndarray:
    """dy where x > threshold, else 0 (``value`` does not enter the gradient)."""
    del value
    x = _f64(x)
    return _keep_nan(x, np.where(x <= _f64(threshold), 0.0, _f64(dy)))


@_quiet
def ref_hardshrink_grad(dy: ArrayLike, x: ArrayLike, lambd: ArrayLike = 0.5) -> np.ndarray:
    """0 for -lambd <= x <= lambd, else dy."""
    x, lam = _f64(x), _f64(lambd)
    return _keep_nan(x, np.where((x >= -lam) & (x <= lam), 0.0, _f64(dy)))


@_quiet
def ref_softshrink_grad(dy: ArrayLike, x: ArrayLike, lambd: ArrayLike = 0.5) -> np.ndarray:
    """0 for -lambd <= x <= lambd, else dy."""
    x, lam = _f64(x), _f64(lambd)
    return _keep_nan(x, np.where((x >= -lam) & (x <= lam), 0.0, _f64(dy)))


@_quiet
def ref_tanhshrink_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """dy·tanh^2 x."""
    t = np.tanh(_f64(x))
    return _f64(dy) * (t * t)


@_quiet
def ref_step_grad(dy: ArrayLike, x: ArrayLike) -> np.ndarray:
    """0 everywhere (NaN where x is NaN)."""
    x = _f64(x)
    zeros = np.zeros(np.broadcast_shapes(np.shape(dy), x.shape))
    return _keep_nan(x, zeros)


# --------------------------------------------------------------------------------------------
# Gradients from the forward output y
# --------------------------------------------------------------------------------------------


@_quiet
def ref_sigmoid_grad_from_output(dy: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dy·y·(1 - y)."""
    y = _f64(y)
    return _f64(dy) * y * (1.0 - y)


@_quiet
def ref_tanh_grad_from_output(dy: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dy·(1 - y^2), as (1 - y)(1 + y) so that 1 - y is exact near |y| = 1."""
    y = _f64(y)
    return _f64(dy) * ((1.0 - y) * (1.0 + y))


@_quiet
def ref_relu_grad_from_output(dy: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dy where y > 0 else 0."""
    y = _f64(y)
    return _keep_nan(y, np.where(y > 0, _f64(dy), 0.0))


@_quiet
def ref_leaky_relu_grad_from_output(
    dy: ArrayLike, y: ArrayLike, negative_slope: ArrayLike = 0.01
) -> np.ndarray:
    """dy if y > 0 else slope·dy (valid for slope >= 0, where sign(y) = sign(x))."""
    y, dy = _f64(y), _f64(dy)
    return _keep_nan(y, np.where(y > 0, dy, _f64(negative_slope) * dy))


@_quiet
def ref_elu_grad_from_output(dy: ArrayLike, y: ArrayLike, alpha: ArrayLike = 1.0) -> np.ndarray:
    """dy if y > 0 else dy·(y + alpha) (valid for alpha >= 0; alpha·e^x = y + alpha)."""
    y, dy = _f64(y), _f64(dy)
    return _keep_nan(y, np.where(y > 0, dy, dy * (y + _f64(alpha))))


@_quiet
def ref_relu6_grad_from_output(dy: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dy for 0 < y < 6, else 0."""
    y = _f64(y)
    return _keep_nan(y, np.where((y <= 0.0) | (y >= 6.0), 0.0, _f64(dy)))


@_quiet
def ref_hardtanh_grad_from_output(
    dy: ArrayLike, y: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0
) -> np.ndarray:
    """dy for min_val < y < max_val, else 0."""
    y = _f64(y)
    out = np.where((y <= _f64(min_val)) | (y >= _f64(max_val)), 0.0, _f64(dy))
    return _keep_nan(y, out)


# --------------------------------------------------------------------------------------------
# mpmath references (one scalar, 50 digits)
# --------------------------------------------------------------------------------------------
#
# Each _mp_* body receives the mpmath module and mpf arguments inside ``workdps(50)`` and
# returns an mpf. Bodies use the same stable forms as above: 50 digits do not survive
# 1 + tanh(-40) either. e^-a for a > 1e5 is < 1e-43000, far below anything a float64 can hold,
# and is returned as 0 (mpmath would otherwise spend tens of ms on an exponent of 1e300).

_MP_DPS = 50
_MP_HUGE = 1e5


def _mp_expneg(mp: Any, a: Any) -> Any:
    """e^-a for a >= 0, flushed to 0 where it is below 1e-43000."""
    return mp.mpf(0) if a > _MP_HUGE else mp.exp(-a)


def _mp_sigmoid_of(mp: Any, z: Any) -> Any:
    t = _mp_expneg(mp, abs(z))
    return 1 / (1 + t) if z >= 0 else t / (1 + t)


def _mp_sigmoid_deriv_of(mp: Any, z: Any) -> Any:
    t = _mp_expneg(mp, abs(z))
    return t / (1 + t) ** 2


def _mp_sech2_of(mp: Any, z: Any) -> Any:
    t = _mp_expneg(mp, 2 * abs(z))
    return 4 * t / (1 + t) ** 2


def _mp_softplus_of(mp: Any, z: Any) -> Any:
    return max(z, mp.mpf(0)) + mp.log1p(_mp_expneg(mp, abs(z)))


def _mp_phi_cdf(mp: Any, x: Any) -> Any:
    z = -x / mp.sqrt(2)
    if z > _MP_HUGE:  # mpmath's erfc overflows for huge arguments; Phi < 1e-10^9 there
        return mp.mpf(0)
    return mp.erfc(z) / 2


def _mp_gelu_tanh_u(mp: Any, x: Any) -> Any:
    return mp.sqrt(2 / mp.pi) * (x + mp.mpf(_GELU_TANH_KAPPA_STR) * x**3)


def _mpb_sigmoid(mp, x):
    return _mp_sigmoid_of(mp, x)


def _mpb_log_sigmoid(mp, x):
    return -_mp_softplus_of(mp, -x)


def _mpb_tanh(mp, x):
    return mp.tanh(x)


def _mpb_elu(mp, x, alpha=1.0):
    return x if x > 0 else alpha * mp.expm1(x)


def _mpb_selu(mp, x):
    scale, alpha = mp.mpf(_SELU_SCALE_STR), mp.mpf(_SELU_ALPHA_STR)
    return scale * (x if x > 0 else alpha * mp.expm1(x))


def _mpb_celu(mp, x, alpha=1.0):
    return x if x > 0 else alpha * mp.expm1(x / alpha)


def _mpb_gelu(mp, x):
    return x * _mp_phi_cdf(mp, x)


def _mpb_gelu_tanh(mp, x):
    return x * _mp_sigmoid_of(mp, 2 * _mp_gelu_tanh_u(mp, x))  # = 0.5x(1 + tanh u)


def _mpb_silu(mp, x):
    return x * _mp_sigmoid_of(mp, x)


def _mpb_swish(mp, x, beta=1.0):
    return x * _mp_sigmoid_of(mp, beta * x)


def _mpb_mish(mp, x):
    sp = _mp_softplus_of(mp, x)
    return x * mp.tanh(sp)


def _mpb_softplus(mp, x, beta=1.0, threshold=20.0):
    bx = beta * x
    return x if bx > threshold else _mp_softplus_of(mp, bx) / beta


def _mpb_softsign(mp, x):
    return x / (1 + abs(x))


def _mpb_hardsigmoid(mp, x):
    return min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6


def _mpb_hardswish(mp, x):
    return x * _mpb_hardsigmoid(mp, x)


def _mpb_tanhshrink(mp, x):
    if abs(x) < mp.mpf("1e-6"):
        # x - tanh x would cancel ~2·|log10 x| digits; the series error is < x^9, i.e. < 1e-48
        # relative to the leading x^3/3.
        return x**3 / 3 - 2 * x**5 / 15 + 17 * x**7 / 315
    return x - mp.tanh(x)


def _mpb_sigmoid_grad(mp, x):
    return _mp_sigmoid_deriv_of(mp, x)


def _mpb_log_sigmoid_grad(mp, x):
    return _mp_sigmoid_of(mp, -x)


def _mpb_tanh_grad(mp, x):
    return _mp_sech2_of(mp, x)


def _mpb_elu_grad(mp, x, alpha=1.0):
    return mp.mpf(1) if x > 0 else alpha * mp.exp(x)


def _mpb_selu_grad(mp, x):
    scale, alpha = mp.mpf(_SELU_SCALE_STR), mp.mpf(_SELU_ALPHA_STR)
    return scale if x > 0 else scale * alpha * mp.exp(x)


def _mpb_celu_grad(mp, x, alpha=1.0):
    return mp.mpf(1) if x > 0 else mp.exp(x / alpha)


def _mpb_gelu_grad(mp, x):
    pdf = _mp_expneg(mp, x * x / 2) / mp.sqrt(2 * mp.pi)
    return _mp_phi_cdf(mp, x) + x * pdf


def _mpb_gelu_tanh_grad(mp, x):
    u = _mp_gelu_tanh_u(mp, x)
    k = mp.sqrt(2 / mp.pi)
    inner = k * (1 + 3 * mp.mpf(_GELU_TANH_KAPPA_STR) * x * x)
    return _mp_sigmoid_of(mp, 2 * u) + x / 2 * _mp_sech2_of(mp, u) * inner


def _mpb_silu_grad(mp, x):
    return _mp_sigmoid_of(mp, x) + x * _mp_sigmoid_deriv_of(mp, x)


def _mpb_swish_grad(mp, x, beta=1.0):
    z = beta * x
    return _mp_sigmoid_of(mp, z) + z * _mp_sigmoid_deriv_of(mp, z)


def _mpb_mish_grad(mp, x):
    sp = _mp_softplus_of(mp, x)
    return mp.tanh(sp) + x * _mp_sech2_of(mp, sp) * _mp_sigmoid_of(mp, x)


def _mpb_softplus_grad(mp, x, beta=1.0, threshold=20.0):
    bx = beta * x
    return mp.mpf(1) if bx > threshold else _mp_sigmoid_of(mp, bx)


def _mpb_softsign_grad(mp, x):
    return 1 / (1 + abs(x)) ** 2


def _mpb_hardsigmoid_grad(mp, x):
    return mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0)


def _mpb_hardswish_grad(mp, x):
    if x < -3:
        return mp.mpf(0)
    return x / 3 + mp.mpf(1) / 2 if x <= 3 else mp.mpf(1)


def _mpb_tanhshrink_grad(mp, x):
    return mp.tanh(x) ** 2


def _mp_to_float(mp: Any, r: Any) -> float:
    """Round an mpf to the nearest float64, subnormals included.

    ``float(mpf)`` truncates (mpmath's default rounding is toward zero), so round explicitly.
    """
    if not mp.isfinite(r):
        return float(r)
    if r == 0:
        return 0.0
    if abs(r) < mp.ldexp(1, -1022):  # subnormal: round on the fixed 2^-1074 grid
        return math.ldexp(int(mp.nint(mp.ldexp(r, 1074))), -1074)
    return mp.libmp.to_float(r._mpf_, rnd=mp.libmp.round_nearest)


def _mp_result(mp: Any, r: Any, pair: bool) -> float | tuple[float, float]:
    hi = _mp_to_float(mp, r)
    if not pair:
        return hi
    lo = _mp_to_float(mp, r - hi) if math.isfinite(hi) else 0.0
    return hi, lo


def _mp_forward(body: Callable[..., Any], f64_ref: Callable[..., np.ndarray], name: str):
    """Build ``ref_<name>_mp(x, *params, pair=False)`` from an mpmath body."""

    def ref_mp(x: float, *params: float, pair: bool = False) -> float | tuple[float, float]:
        args = (float(x), *map(float, params))
        if not all(map(math.isfinite, args)):
            # NaN and ±inf: the float64 reference already returns the exact limit.
            v = float(f64_ref(*args))
            return (v, 0.0) if pair else v
        import mpmath

        with mpmath.workdps(_MP_DPS):
            return _mp_result(mpmath, body(mpmath, *map(mpmath.mpf, args)), pair)

    ref_mp.__name__ = ref_mp.__qualname__ = f"ref_{name}_mp"
    ref_mp.__doc__ = (
        f"{name}(x, *params) as one float64 via mpmath at {_MP_DPS} digits, rounded to nearest.\n\n"
        "With ``pair=True`` returns ``(hi, lo)``: the rounded value and the rest."
    )
    __all__.append(ref_mp.__name__)
    return ref_mp


def _mp_gradient(body: Callable[..., Any], f64_ref: Callable[..., np.ndarray], name: str):
    """Build ``ref_<name>_grad_mp(dy, x, *params, pair=False)`` = dy·f'(x) from an mpmath body."""

    def ref_grad_mp(
        dy: float, x: float, *params: float, pair: bool = False
    ) -> float | tuple[float, float]:
        args = (float(dy), float(x), *map(float, params))
        if not all(map(math.isfinite, args)):
            v = float(f64_ref(*args))
            return (v, 0.0) if pair else v
        import mpmath

        with mpmath.workdps(_MP_DPS):
            mdy, mx, *mparams = map(mpmath.mpf, args)
            return _mp_result(mpmath, mdy * body(mpmath, mx, *mparams), pair)

    ref_grad_mp.__name__ = ref_grad_mp.__qualname__ = f"ref_{name}_grad_mp"
    ref_grad_mp.__doc__ = (
        f"dy·{name}'(x) as one float64, via mpmath at {_MP_DPS} digits, rounded to nearest.\n\n"
        "With ``pair=True`` returns ``(hi, lo)``: the rounded value and the rest."
    )
    __all__.append(ref_grad_mp.__name__)
    return ref_grad_mp


ref_sigmoid_mp = _mp_forward(_mpb_sigmoid, ref_sigmoid, "sigmoid")
ref_log_sigmoid_mp = _mp_forward(_mpb_log_sigmoid, ref_log_sigmoid, "log_sigmoid")
ref_tanh_mp = _mp_forward(_mpb_tanh, ref_tanh, "tanh")
ref_elu_mp = _mp_forward(_mpb_elu, ref_elu, "elu")
ref_selu_mp = _mp_forward(_mpb_selu, ref_selu, "selu")
ref_celu_mp = _mp_forward(_mpb_celu, ref_celu, "celu")
ref_gelu_mp = _mp_forward(_mpb_gelu, ref_gelu, "gelu")
ref_gelu_tanh_mp = _mp_forward(_mpb_gelu_tanh, ref_gelu_tanh, "gelu_tanh")
ref_silu_mp = _mp_forward(_mpb_silu, ref_silu, "silu")
ref_swish_mp = _mp_forward(_mpb_swish, ref_swish, "swish")
ref_mish_mp = _mp_forward(_mpb_mish, ref_mish, "mish")
ref_softplus_mp = _mp_forward(_mpb_softplus, ref_softplus, "softplus")
ref_softsign_mp = _mp_forward(_mpb_softsign, ref_softsign, "softsign")
ref_hardsigmoid_mp = _mp_forward(_mpb_hardsigmoid, ref_hardsigmoid, "hardsigmoid")
ref_hardswish_mp = _mp_forward(_mpb_hardswish, ref_hardswish, "hardswish")
ref_tanhshrink_mp = _mp_forward(_mpb_tanhshrink, ref_tanhshrink, "tanhshrink")

ref_sigmoid_grad_mp = _mp_gradient(_mpb_sigmoid_grad, ref_sigmoid_grad, "sigmoid")
ref_log_sigmoid_grad_mp = _mp_gradient(_mpb_log_sigmoid_grad, ref_log_sigmoid_grad, "log_sigmoid")
ref_tanh_grad_mp = _mp_gradient(_mpb_tanh_grad, ref_tanh_grad, "tanh")
ref_elu_grad_mp = _mp_gradient(_mpb_elu_grad, ref_elu_grad, "elu")
ref_selu_grad_mp = _mp_gradient(_mpb_selu_grad, ref_selu_grad, "selu")
ref_celu_grad_mp = _mp_gradient(_mpb_celu_grad, ref_celu_grad, "celu")
ref_gelu_grad_mp = _mp_gradient(_mpb_gelu_grad, ref_gelu_grad, "gelu")
ref_gelu_tanh_grad_mp = _mp_gradient(_mpb_gelu_tanh_grad, ref_gelu_tanh_grad, "gelu_tanh")
ref_silu_grad_mp = _mp_gradient(_mpb_silu_grad, ref_silu_grad, "silu")
ref_swish_grad_mp = _mp_gradient(_mpb_swish_grad, ref_swish_grad, "swish")
ref_mish_grad_mp = _mp_gradient(_mpb_mish_grad, ref_mish_grad, "mish")
ref_softplus_grad_mp = _mp_gradient(_mpb_softplus_grad, ref_softplus_grad, "softplus")
ref_softsign_grad_mp = _mp_gradient(_mpb_softsign_grad, ref_softsign_grad, "softsign")
ref_hardsigmoid_grad_mp = _mp_gradient(_mpb_hardsigmoid_grad, ref_hardsigmoid_grad, "hardsigmoid")
ref_hardswish_grad_mp = _mp_gradient(_mpb_hardswish_grad, ref_hardswish_grad, "hardswish")
ref_tanhshrink_grad_mp = _mp_gradient(_mpb_tanhshrink_grad, ref_tanhshrink_grad, "tanhshrink")


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

#: Parameter names and defaults, in the order the ufuncs take them (None: required).
PARAMS: dict[str, tuple[tuple[str, float | None], ...]] = {
    "sigmoid": (),
    "log_sigmoid": (),
    "tanh": (),
    "relu": (),
    "relu6": (),
    "leaky_relu": (("negative_slope", 0.01),),
    "elu": (("alpha", 1.0),),
    "selu": (),
    "celu": (("alpha", 1.0),),
    "gelu": (),
    "gelu_tanh": (),
    "silu": (),
    "swish": (("beta", 1.0),),
    "mish": (),
    "softplus": (("beta", 1.0), ("threshold", 20.0)),
    "softsign": (),
    "hardsigmoid": (),
    "hardswish": (),
    "hardtanh": (("min_val", -1.0), ("max_val", 1.0)),
    "threshold": (("threshold", None), ("value", None)),
    "hardshrink": (("lambd", 0.5),),
    "softshrink": (("lambd", 0.5),),
    "tanhshrink": (),
    "step": (),
}


def _build_registry() -> dict[str, dict[str, Callable[..., Any] | None]]:
    g = globals()
    return {
        name: {
            "fwd": g[f"ref_{name}"],
            "grad": g[f"ref_{name}_grad"],
            "gout": g.get(f"ref_{name}_grad_from_output"),
            "fwd_mp": g.get(f"ref_{name}_mp"),
            "grad_mp": g.get(f"ref_{name}_grad_mp"),
        }
        for name in PARAMS
    }


#: op name -> {"fwd", "grad", "gout", "fwd_mp", "grad_mp"}; missing entries are None.
REFERENCES: dict[str, dict[str, Callable[..., Any] | None]] = _build_registry()


# ---- the ops without a kernel of their own: leaky_relu with a given slope (not in REFERENCES,
# which lists the ops.def kernels) ----
def ref_prelu(x: ArrayLike, weight: ArrayLike, axis: int = 1) -> np.ndarray:
    """prelu with weight of shape () (the per-channel case is the same with weight broadcast
    along ``axis``; tests/test_eltwise.py checks that one directly)."""
    return ref_leaky_relu(x, weight)


def ref_prelu_grad(dy: ArrayLike, x: ArrayLike, weight: ArrayLike, axis: int = 1) -> np.ndarray:
    """dL/dx of prelu (the dweight half of actcore.prelu_grad is checked in the tests)."""
    return ref_leaky_relu_grad(dy, x, weight)


def ref_rrelu(x: ArrayLike, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0,
              training: bool = False) -> np.ndarray:
    """rrelu in evaluation mode: leaky_relu at the mean slope."""
    return ref_leaky_relu(x, (lower + upper) / 2.0)


def ref_rrelu_grad(dy: ArrayLike, x: ArrayLike, lower: float = 1.0 / 8.0,
                   upper: float = 1.0 / 3.0, training: bool = False) -> np.ndarray:
    return ref_leaky_relu_grad(dy, x, (lower + upper) / 2.0)


# --------------------------------------------------------------------------------------------
# Axis activations (SPEC §3), in long double: 80-bit on x86-64 Linux, 11 bits more than float64,
# which is enough to measure float64 results to a fraction of an ULP except where logsumexp
# cancels (M + log S near 0); elsewhere (long double = double) they are float64 references.
# --------------------------------------------------------------------------------------------
LD = np.longdouble


def _softmax_parts(x: ArrayLike, axis: int, where: ArrayLike | None = None):
    x = np.asarray(x, dtype=LD)
    if where is not None:
        x = np.where(where, x, LD(-np.inf))
    with np.errstate(all="ignore"):
        m = np.max(x, axis=axis, keepdims=True)
        ms = np.where(np.isneginf(m), LD(0), m)  # an all -inf row shifts by 0
        e = np.exp(x - ms)
        s = np.sum(e, axis=axis, keepdims=True)
    return x, ms, e, s


def ref_softmax(x: ArrayLike, axis: int = -1, where: ArrayLike | None = None) -> np.ndarray:
    """e^(x - M) / sum e^(x - M), M the row max; fully masked or all -inf rows give 0."""
    _, _, e, s = _softmax_parts(x, axis, where)
    with np.errstate(all="ignore"):
        return np.where(s == 0, LD(0), e / s)


def ref_log_s(x: ArrayLike, axis: int = -1):
    """(x, M, S, log S) with log S as log1p(S - 1), S - 1 summed without the max terms' 1s
    (so log S keeps its digits when it is tiny, e.g. 1e-35)."""
    x, ms, e, s = _softmax_parts(x, axis)
    ones = np.sum(e == 1, axis=axis, keepdims=True)
    rest = np.sum(np.where(e == 1, LD(0), e), axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        return x, ms, s, np.log1p((ones - 1) + rest)


def ref_log_softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:
    """(x - M) - log S; all -inf rows give -inf."""
    x, ms, s, lg = ref_log_s(x, axis)
    with np.errstate(all="ignore"):
        return np.where(s == 0, LD(-np.inf), (x - ms) - lg)


def ref_logsumexp(x: ArrayLike, axis: int = -1) -> np.ndarray:
    """M + log S along axis (the axis removed); empty or all -inf rows give -inf, a row holding
    +inf (and no NaN) +inf, its limit."""
    _, ms, s, lg = ref_log_s(x, axis)
    with np.errstate(all="ignore"):
        r = np.where(s == 0, LD(-np.inf), ms + lg)
        return np.squeeze(np.where(ms == np.inf, LD(np.inf), r), axis=axis)


def ref_logsumexp_mp(x: ArrayLike) -> np.ndarray:
    """logsumexp of each row of a 2-D float64 array (the last axis) with mpmath at 50 digits,
    as long double: where M + log S cancels, ref_logsumexp's long double log S leaves only
    ~11 bits beyond a double's to the result.  Finite rows only (a reference for the rows
    that cancel, which are)."""
    import mpmath

    x = np.asarray(x, np.float64)
    out = np.empty(x.shape[0], LD)
    with mpmath.workdps(_MP_DPS):
        for i, row in enumerate(x):
            v = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(t))) for t in row))
            out[i] = LD(mpmath.nstr(v, 30, min_fixed=1, max_fixed=0))
    return out


def ref_softmax_grad(dy: ArrayLike, y: ArrayLike, axis: int = -1) -> np.ndarray:
    """y (dy - sum y dy), from the forward output y."""
    y, dy = np.asarray(y, LD), np.asarray(dy, LD)
    return y * (dy - np.sum(y * dy, axis=axis, keepdims=True))


def ref_log_softmax_grad(dy: ArrayLike, y: ArrayLike, axis: int = -1) -> np.ndarray:
    """dy - e^y sum dy, from the forward output y."""
    y, dy = np.asarray(y, LD), np.asarray(dy, LD)
    return dy - np.exp(y) * np.sum(dy, axis=axis, keepdims=True)


def _ld_sigmoid(v: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        t = np.exp(-np.abs(v))
        return np.where(v >= 0, 1 / (1 + t), t / (1 + t))


def ref_glu_pair(name: str, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The GLU family on its two halves a, b: glu a sigmoid(b), swiglu silu(a) b, reglu
    relu(a) b in long double; geglu gelu(a) b (and geglu_tanh) in float64 (erf has no long
    double form in NumPy), a float32 reference."""
    a, b = np.asarray(a, LD), np.asarray(b, LD)
    if name == "glu":
        return a * _ld_sigmoid(b)
    if name == "swiglu":
        return a * _ld_sigmoid(a) * b
    if name == "reglu":
        return np.where(a > 0, a, LD(0)) * b
    fwd = ref_gelu if name == "geglu" else ref_gelu_tanh
    return fwd(a.astype(np.float64)) * b.astype(np.float64)
