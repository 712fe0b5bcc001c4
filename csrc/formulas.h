/* The scalar formulas, instantiated for float and double compute types from formulas_t.h. */
#ifndef ACT_FORMULAS_H
#define ACT_FORMULAS_H
#include "vmathf.h"

/* float64 results (wd): vmath.h, no fma, so every ISA gives the same bits */
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
#include "formulas_t.h"
#include "formulas_undef.h"

/* ---- gelu_tanh in float32: x sigmoid(u), u = C x (1 + k x^2), C = 2 sqrt(2/pi), k = 0.044715.
 * In the negative tail x sigmoid(u) ~ x e^u has |u| times the relative error of u, so u must be
 * known to ~2^-31 (|u| <= 112).  It is never formed: w = C + C k x^2 is carried as w + wl (x^2
 * and C k x^2 as exact products, C + t by 2Sum), and the exp's reduction r = -|x| w - n ln2 is
 * one fma whose result is small (|r| < 0.36), so its rounding is 2^-26 absolute; -|x| wl enters
 * the next fma.  e^-|u| = (1 + v) 2^n is kept scaled by 2^64 (normal down to |u| = 112, where the
 * result is 0), so a subnormal result rounds once, by the final *2^-64.
 * Measured (every float32 in 1/3 of the bit patterns, AVX2, development harness): forward <= 2.9
 * ulp (was 3.6 with the double-word u and x*sigmoid), gradient <= 3.6 ulp, and below 1.1e-8
 * absolute per unit of dy next to the root of gelu_tanh' at x = -0.7524 (the double form it
 * replaces: 3e-8 in float, hence its double lanes).  In cache 1.1 and 2.4 ns/element (were 2.9
 * and 6.8). */
#define GT_C_HI 0x1.988454p+0f /* C = C_HI + C_LO */
#define GT_C_LO -0x1.857936p-25f
#define GT_CK_HI 0x1.2444f2p-4f /* C k */
#define GT_CK_LO 0x1.49b16ap-29f
#define GT_3CK_HI 0x1.b6676cp-3f /* 3 C k */
typedef struct { float ax, p, pe, v, s64, e64, e; } act__gt_parts;
ACT_INLINE act__gt_parts act__gelu_tanh_core_f(float x)
{
    act__gt_parts o;
    o.ax = act__fclamp(act__absf(x), -1.0f, 11.0f); /* |x| > 11: |u| > 112, e^-|u| x < 2^-150 */
    act__two_prodf(o.ax, o.ax, &o.p, &o.pe);
    float t, te;
    act__two_prodf(GT_CK_HI, o.p, &t, &te);
    float w = GT_C_HI + t; /* w + wl = C + C k x^2: 2Sum, then the products' residuals */
    float bb = w - GT_C_HI;
    float wl = (GT_C_HI - (w - bb)) + (t - bb);
    wl = wl + (ACT_FMAF(GT_CK_HI, o.pe, ACT_FMAF(GT_CK_LO, o.p, te)) + GT_C_LO);
    float nax = -o.ax;
    float tt = ACT_FMAF(nax * w, 0x1.715476p0f, ACT__F_MAGIC);
    float kd = tt - ACT__F_MAGIC;
    uint32_t n23 = act__f2u(tt) << 23;
    float r = act__fmaf_x(nax, w, -(kd * ACT__F_LN2HI)); /* kd LN2HI is exact (8 + 15 bits) */
    r = ACT_FMAF(kd, -ACT__F_LN2LO, ACT_FMAF(nax, wl, r));
    o.v = act__fexpm1_poly(r);
    o.s64 = act__u2f(n23 + ((uint32_t)(127 + 64) << 23)); /* 2^(n+64) */
    o.e64 = ACT_FMAF(o.v, o.s64, o.s64);                 /* e^-|u| 2^64 */
    o.e = o.e64 * 0x1p-64f;
    return o;
}
/* x/(1 + e) for x >= 0, and for x < 0 gelu_tanh(x) 2^64 = x e 2^64/(1 + e), from the core's
 * parts: x e 2^64 = x 2^(n+64) (1 + v) in one rounding (the first product is exact); -ax is x
 * clamped, so -inf gives -0, not NaN */
ACT_INLINE float act__gelu_tanh_q64(float x, act__gt_parts g)
{
    float xs = -g.ax * g.s64;
    float num = x < 0 ? ACT_FMAF(xs, g.v, xs) : x;
    return num / (1.0f + g.e);
}
ACT_INLINE float act__gelu_tanh_fwd_f(float x)
{
    float y = act__gelu_tanh_q64(x, act__gelu_tanh_core_f(x));
    return x < 0 ? y * 0x1p-64f : y; /* NaN (of either sign): num is x */
}
/* gelu_tanh(x) m (geglu with approximate='tanh'): below x = -9, where gelu_tanh nears the
 * subnormals, the product with m is formed before the final 2^-64 (down to the clamp at -11) */
ACT_INLINE float act__gelu_tanh_mul_f(float x, float m)
{
    float y = act__gelu_tanh_q64(x, act__gelu_tanh_core_f(x));
    float fwd = x < 0 ? y * 0x1p-64f : y;
    return x < -9.0f && x >= -11.0f ? (y * m) * 0x1p-64f : fwd * m;
}
ACT_INLINE float act__gelu_tanh_grad_f(float dy, float x)
{
    /* f' = sigmoid(u) (1 + x u' sigmoid(-u)), u' = C (1 + 3 k x^2); with q = 1/(1 + e):
     * x >= 0: f' = q (1 + x u' q e);  x < 0: f' = e q (1 + x u' q), which cancels at the root,
     * so 1 + e, q and u' q are carried in double-word there and 1 + x u' q is one fma. */
    act__gt_parts g = act__gelu_tanh_core_f(x);
    float xs = act__signf(g.ax, x); /* x clamped to [-11, 11]: inf never meets 0 */
    float t3, t3l;
    act__two_prodf(GT_3CK_HI, g.p, &t3, &t3l);
    float uph = GT_C_HI + t3; /* u' = uph + upl */
    float bb = uph - GT_C_HI;
    float upl = ((GT_C_HI - (uph - bb)) + (t3 - bb)) + (ACT_FMAF(GT_3CK_HI, g.pe, t3l) + GT_C_LO);
    float E1 = 1.0f + g.e; /* 1 + e = E1 + E1l exactly (1 >= e) */
    float E1l = (1.0f - E1) + g.e;
    float q0 = 1.0f / E1; /* q = q0 + ql */
    float ql = q0 * (act__fmaf_x(-q0, E1, 1.0f) - q0 * E1l);
    float ph, pl; /* u' q = ph + pl */
    act__two_prodf(uph, q0, &ph, &pl);
    pl = pl + ACT_FMAF(uph, ql, upl * q0);
    float xg = x >= 0 ? xs * g.e : xs;
    float W1 = act__fmaf_x(xg, ph, 1.0f) + xg * pl; /* 1 + x u' q (e) */
    float r = ACT_FMAF(q0, W1, ql * W1);
    r = x >= 0 ? r : (r * g.e64) * 0x1p-64f;
    return dy * (x == x ? r : x);
}

/* float32 (and float16) results: float compute, the fast set (vmathf.h) */
#define W float
#define WS wf
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
/* ---- gelu, float32: everything in float with fma (vmathf.h), no double lanes.
 *
 * Three pieces, all computed for every lane and blended (branch-free):
 *  - |x| < 0.75 (forward) / 1 (gradient): Phi(x) = 1/2 + x T(y) and gelu'(x) = 1/2 + x U(y), y =
 *    -x^2/2, own minimax fits (relative error 2^-25.1 and, for U - 2/sqrt(2 pi), 2^-24.4 with
 *    float coefficients).  Near 0 the tail form below would compute 1 - Phi(-x) from a rounded
 *    Phi(-x) ~ 1/2 and lose ~2 ulp.
 *  - elsewhere Phi(-a) = e^(-x^2/2) R(a), a = |x|, R(a) = erfcx(a/sqrt2)/2 as the rational
 *    N(a) / (s a N(a) + M(a)), s = sqrt(2 pi), N and M of degree 4 and 3 (own fit on [0.72, 14.6],
 *    relative error 2^-26.1 with float coefficients).  Written so, the rounding errors of N
 *    appear in both numerator and denominator and cancel where a N dominates (large a), which a
 *    plain P/Q of the same degree did not do (5 ulp there); s a is carried exactly (two_prod).
 *    e^(-x^2/2) from -x^2/2 carried exactly (y + ye), its 2^n applied last, as 2^(n+64) with the
 *    2^-64 folded into R: a subnormal result rounds once, and x > 0 is one fma, x - x Phi(-x).
 * Measured over every float32 in 1/3 of the bit patterns (development harness, AVX2): forward
 * <= 3.3 ulp (x < -0.75), <= 1.9 ulp elsewhere; gradient <= 3.6 ulp away from its root at
 * x = -0.7518 and below 3e-8 absolute per unit of dy next to it.  In cache ~1.3 ns/element
 * for either (the double erfcx core it replaces: 3.2).  x is clamped to [-14.6, 6] by integer
 * min on the bit patterns (act__fclamp): beyond, x Phi(x) and gelu' round to 0, or Phi to 1. */
#define GELU_INV_S64 0x1.988454p-66f /* 2^-64/sqrt(2 pi) */
#define GELU_S_HI 0x1.40d932p+65f     /* 2^64 sqrt(2 pi) = S_HI + S_LO */
#define GELU_S_LO -0x1.3b1f4ep+32f
typedef struct { float xc, R, v, s64, y; } act_gelu_parts;
/* R = 2^-64 R(|x|) (the 2^-64 folded into the denominator's coefficients, so R (1 + v) 2^(n+64)
 * is Phi(-|x|) and its product with x is formed before the one scaling that may be subnormal),
 * e^(-x^2/2) = (1 + v) 2^n with s64 = 2^(n+64), and y = -x^2/2 rounded */
ACT_INLINE act_gelu_parts act_gelu_core_wf(float x)
{
    act_gelu_parts o;
    o.xc = act__fclamp(x, -14.6f, 6.0f);
    float a = act__absf(o.xc);
    float n = 0x1.fdb748p-7f;
    n = ACT_FMAF(n, a, 0x1.f19394p-4f);
    n = ACT_FMAF(n, a, 0x1.e736f6p-2f);
    n = ACT_FMAF(n, a, 0x1.022da2p+0f);
    n = ACT_FMAF(n, a, 1.0f);
    float m = 0x1.3f5538p+59f; /* 2^64 M(a) */
    m = ACT_FMAF(m, a, 0x1.3842f0p+62f);
    m = ACT_FMAF(m, a, 0x1.1b4ff8p+64f);
    m = ACT_FMAF(m, a, 0x1.fff9bap+64f);
    float ash, asl;
    act__two_prodf(a, GELU_S_HI, &ash, &asl);
    asl = ACT_FMAF(a, GELU_S_LO, asl);
    o.R = n / ACT_FMAF(ash, n, ACT_FMAF(asl, n, m));
    float ye;
    act__two_prodf(o.xc, -0.5f * o.xc, &o.y, &ye); /* -x^2/2 = y + ye */
    act__fexp_t e = act__fexpf_core(o.y, ye);       /* e^(-x^2/2) = (1 + v) 2^n */
    o.v = e.v;
    o.s64 = act__u2f(e.n23 + ((uint32_t)(127 + 64) << 23)); /* normal: n >= -154 */
    return o;
}
/* gelu(x) from its core's parts; t = x Phi(-|x|) 2^-(n+64) */
ACT_INLINE float act__gelu_from(float x, act_gelu_parts g, float t)
{
    /* t 2^(n+64) = x Phi(-|x|): x < 0: gelu = t s64; x > 0: gelu = x - t s64 (one fma; x, not
     * xc, so +inf stays inf and NaN NaN) */
    float big = x < 0 ? t * g.s64 : ACT_FMAF(-t, g.s64, x);
    float p = 0x1.19796ap-12f; /* |x| < 0.75: x (1/2 + x T(y)) */
    p = ACT_FMAF(p, g.y, 0x1.e16a9ap-10f);
    p = ACT_FMAF(p, g.y, 0x1.37337ep-7f);
    p = ACT_FMAF(p, g.y, 0x1.46d00cp-5f);
    p = ACT_FMAF(p, g.y, 0x1.105838p-3f);
    p = ACT_FMAF(p, g.y, 0x1.988454p-2f);
    float small = x * ACT_FMAF(g.xc, p, 0.5f); /* keeps -0 */
    return act__absf(g.xc) < 0.75f ? small : big;
}
ACT_INLINE float act_gelu_fwd_wf(float x, float a, float b)
{
    (void)a, (void)b;
    act_gelu_parts g = act_gelu_core_wf(x);
    return act__gelu_from(x, g, g.xc * ACT_FMAF(g.v, g.R, g.R));
}
/* gelu(a) m (geglu: m = b).  Below a = -12 gelu(a) nears the subnormals (it is subnormal
 * below -13.3), so there the product with m is formed before the last scaling, as mulsig does
 * for sigmoid; down to the clamp at -14.6, below which gelu(a) m is taken as gelu's own (0
 * times m: off by at most a few subnormal ulp unless |m| exceeds ~1e5). */
ACT_INLINE float act_gelu_mul_wf(float x, float m)
{
    act_gelu_parts g = act_gelu_core_wf(x);
    float t = g.xc * ACT_FMAF(g.v, g.R, g.R); /* gelu(x) 2^-(n+64), for x < 0 */
    float tail = (t * m) * g.s64;
    return x < -12.0f && x >= -14.6f ? tail : act__gelu_from(x, g, t) * m;
}
ACT_INLINE double act_gelu_mul_wd(double x, double m) { return act_gelu_fwd_wd(x, 0, 0) * m; }
ACT_INLINE float act_gelu_grad_wf(float dy, float x, float a, float b)
{
    (void)a, (void)b;
    act_gelu_parts g = act_gelu_core_wf(x);
    /* Phi(x) + x phi(x): x < 0: e (R + x/s); x > 0: 1 - e (R - x/s), e = (1 + v) 2^n */
    float w = ACT_FMAF(g.xc, x < 0 ? GELU_INV_S64 : -GELU_INV_S64, g.R);
    float ew = ACT_FMAF(g.v, w, w);
    float big = x < 0 ? ew * g.s64 : ACT_FMAF(-ew, g.s64, 1.0f);
    /* |x| < 1: 1/2 + x (C0 + y V(y)), C0 = 2/sqrt(2 pi) in two parts: next to the root of gelu'
     * (x = -0.7518) 1/2 + x C0 is formed by one fma, so its error is that of the small rest */
    float p = 0x1.fa7392p-12f;
    p = ACT_FMAF(p, g.y, 0x1.d33b8cp-9f);
    p = ACT_FMAF(p, g.y, 0x1.2e57fep-6f);
    p = ACT_FMAF(p, g.y, 0x1.373e48p-4f);
    p = ACT_FMAF(p, g.y, 0x1.ea3858p-3f);
    p = ACT_FMAF(p, g.y, 0x1.105838p-1f);
    float small = ACT_FMAF(g.xc, ACT_FMAF(g.y, p, -0x1.857936p-26f),
                           act__fmaf_x(g.xc, 0x1.988454p-1f, 0.5f));
    float r = act__absf(g.xc) < 1.0f ? small : big;
    return dy * (x == x ? r : x);
}
/* the GLU family's gelu_tanh(a) * b per compute type, for axis.c (FORM(gelu_tanh, mul)) */
ACT_INLINE double act_gelu_tanh_mul_wd(double x, double m)
{
    return act_gelu_tanh_fwd_wd(x, 0, 0) * m;
}
ACT_INLINE float act_gelu_tanh_mul_wf(float x, float m) { return act__gelu_tanh_mul_f(x, m); }

#endif
