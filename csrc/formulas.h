/* The scalar formulas, instantiated for float and double compute types from formulas_t.h. */
#ifndef ACT_FORMULAS_H
#define ACT_FORMULAS_H
#include "vmathf.h"

/* float64 results (wd), and wdf: the same in double for float32 results, which the float formulas
 * that need double call (gelu_tanh', mish'); vmath.h, no fma, so every ISA gives the same bits */
#define FAST 0
#define FMA(a, b, c) ((a) * (b) + (c))
#define W double
#define EXPNEG act_exp
#define EXP act_exp
#define EXPM1 act_expm1
#define LOG1P act_log1p
#define TANH act_tanh
#define LOG1P_UNIT act_log1p
#define EXP_TAIL act_exp_tail
#define WS wd
#define EXACT_TAILS 1
#include "formulas_t.h"
#undef WS
#undef EXACT_TAILS
#define WS wdf
#define EXACT_TAILS 0
#include "formulas_t.h"
#undef WS
#undef EXACT_TAILS
#include "formulas_undef.h"

/* float32 (and float16) results: float compute, the fast set (vmathf.h); after the double
 * instantiations so that a float formula can fall back on its wdf twin */
#define W float
#define WS wf
#define EXACT_TAILS 1
#define FAST 1
#define FMA(a, b, c) ACT_FMAF(a, b, c)
#define EXP act_fexpf
#define EXPNEG act_fexpnegf
#define EXPM1 act_fexpm1f
#define LOG1P act_log1pf
#define TANH act_ftanhf
#define LOG1P_UNIT act_flog1p_unitf
#define EXP_TAIL act_fexpf_tail
#include "formulas_t.h"
#include "formulas_undef.h"

/* ---- gelu (exact) = x*Phi(x), Phi(x) = erfc(-x/sqrt2)/2.  Deep in the negative tail erfc's
 * relative error grows like 2z^2 times the error of its argument z, so z = -x/sqrt2 is carried
 * as zh + zl (Dekker product, no fma) and erfc(zh + zl) ~ erfc(zh) - zl*(2/sqrt(pi))e^-zh^2.
 * (float32 has its own form below.) ---- */
ACT_INLINE void act_two_prod(double a, double b, double *p, double *e)
{
    const double split = 134217729.0; /* 2^27 + 1, Veltkamp */
    double ca = split * a, ah = ca - (ca - a), al = a - ah;
    double cb = split * b, bh = cb - (cb - b), bl = b - bh;
    *p = a * b;
    *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}
ACT_INLINE double act_ncdf_wd(double x) /* Phi(x) for |x| <= 1e4 */
{
    const double c_hi = -0.70710678118654757;     /* -1/sqrt2 rounded to double */
    const double c_lo = 4.8336466567264567e-17;   /* -1/sqrt2 - c_hi */
    double zh, zl;
    act_two_prod(x, c_hi, &zh, &zl);
    zl += x * c_lo;
    double e = act_erfc(zh) - zl * 1.1283791670955126 * act_exp(-zh * zh);
    return 0.5 * e;
}
/* x*Phi(x) for x < -37.5, where Phi(x) is subnormal in double and Phi's lost bits would be multiplied
 * by |x|: -phi(x) S(x) with S = 1 - 1/x^2 + 3/x^4 - 15/x^6 + ... (8 terms reach 1e-17 at
 * x = -37), phi(x) = h*h/sqrt(2 pi), h = e^(-x^2/4) from x^2 carried exactly: only the last
 * product rounds into the subnormals. */
ACT_INLINE double act_gelu_tail_wd(double x)
{
    double p, e;
    act_two_prod(x, x, &p, &e);
    /* where the result is still normal (x >= -37.62) e^(-x^2/2) in one exp: h*h would cost
     * ~4.5 ULP there; below, h*h keeps the intermediate normal */
    double h = act_exp(-0.25 * p) * (1.0 - 0.25 * e);
    double g = act_exp(-0.5 * p) * (1.0 - 0.5 * e);
    double v = 1.0 / p;
    double S = 135135.0;
    S = S * -v + 10395.0;
    S = S * -v + 945.0;
    S = S * -v + 105.0;
    S = S * -v + 15.0;
    S = S * -v + 3.0;
    S = S * -v + 1.0;
    S = S * -v + 1.0; /* 1 - v + 3v^2 - ... by Horner in -v */
    double c = S * 0.39894228040143267794;
    return x < -37.62 ? -(c * h) * h : -(c * g);
}
ACT_INLINE double act_gelu_fwd_wd(double x, double a, double b)
{
    (void)a, (void)b;
    double xc = x < -1e4 ? -1e4 : (x > 1e4 ? 1e4 : x);
    double p = act_ncdf_wd(xc);
    double y = p == 0 ? (x < 0 ? -0.0 : 0.0) : x * p;
    /* the tail form wherever Phi(x) is subnormal (below -37.5194), since x*Phi would multiply
     * its lost bits by |x| even where the product is normal again */
    return x < -37.5 ? act_gelu_tail_wd(xc) : y;
}
ACT_INLINE double act_gelu_grad_wd(double dy, double x, double a, double b)
{
    (void)a, (void)b;
    double xc = x < -1e4 ? -1e4 : (x > 1e4 ? 1e4 : x);
    /* Phi(x) + x phi(x); phi from exp(-x^2/2) with x^2 unrounded */
    return dy * (act_ncdf_wd(xc) + xc * 0.39894228040143267794 * act_exp_neg_half_sq(xc));
}
/* float32: Phi(x) = erfc(a)/2 below 0 and 1 - erfc(a)/2 above, a = |x|/sqrt2, with
 * erfc(a) = e^(-x^2/2) erfcx(a).  e^(-x^2/2) in float (vmathf.h) from x^2 carried exactly (an fma
 * product), so it keeps float accuracy down to the underflow, with its 2^n applied last (two
 * normal factors): a subnormal result rounds once.  erfcx(a) = H(t)/(a+3), t = (a-3)/(a+3), in
 * double (vmath.h's float-accuracy core): in float, the rounding of t alone moved H by an ulp
 * (dH/dt ~ -H near t = -1) and gelu came out at 6.5 ulp.  x is clamped to [-14.6, 6]: beyond,
 * x Phi(x) and gelu' round to 0, or Phi to 1. */
#define GELU_INV_SQRT2PI 0.39894228040143268f
typedef struct { float hd, v; int32_t n; } act_gelu_parts;
ACT_INLINE act_gelu_parts act_gelu_core_wf(float xc)
{
    act_gelu_parts o;
    o.hd = (float)act__erfcx_d((double)act__absf(xc) * 0.70710678118654752);
    float p, pe;
    act__two_prodf(xc, xc, &p, &pe);
    act__fexp_t e = act__fexpf_core(-0.5f * p, -0.5f * pe); /* e^(-x^2/2) = (1+v) 2^n */
    o.v = e.v;
    o.n = e.n;
    return o;
}
ACT_INLINE float act_gelu_fwd_wf(float x, float a, float b)
{
    (void)a, (void)b;
    float xc = x < -14.6f ? -14.6f : (x > 6.0f ? 6.0f : x);
    act_gelu_parts g = act_gelu_core_wf(xc);
    float m = (1.0f + g.v) * (0.5f * g.hd); /* erfc(a)/2 = m 2^n */
    /* x < 0: x erfc/2, scaled last; x >= 0: x (1 - erfc/2), where n >= -26 */
    float neg = act__fscale2(xc * m, g.n);
    float pos = x * (1.0f - act__fscale2(m, g.n));
    return x < 0 ? neg : pos; /* NaN: pos is NaN */
}
ACT_INLINE float act_gelu_grad_wf(float dy, float x, float a, float b)
{
    (void)a, (void)b;
    /* Phi(x) + x phi(x), both terms carrying the same e^(-x^2/2) = (1+v) 2^n:
     * x < 0: 2^n (1+v) (H d/2 + x/sqrt(2 pi)); x >= 0: 1 + 2^n (1+v) (x/sqrt(2 pi) - H d/2) */
    float xc = x < -14.6f ? -14.6f : (x > 6.0f ? 6.0f : x);
    act_gelu_parts g = act_gelu_core_wf(xc);
    float A = 0.5f * g.hd, B = xc * GELU_INV_SQRT2PI;
    float w = act__fscale2((1.0f + g.v) * (x < 0 ? A + B : B - A), g.n);
    float r = x < 0 ? w : 1.0f + w;
    return dy * (x == x ? r : x);
}
#endif
