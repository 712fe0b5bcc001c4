/* The scalar formulas, instantiated for float and double compute types from formulas_t.h. */
#ifndef ACT_FORMULAS_H
#define ACT_FORMULAS_H
#include "vmathf.h"

/* float64 results (wd): vmath.h; exp, expm1 and tanh reduce with fma where the target has one
 * (act_exp_fast ...: the FMA targets agree bit for bit, the baseline build keeps act_exp ...),
 * nothing else fused */
#define FAST 0
#define FMA(a, b, c) ((a) * (b) + (c))
#define W double
#define EXPNEG act_exp_fast
#define EXP act_exp_fast
#define EXPM1 act_expm1_fast
#define LOG1P act_log1p
#define TANH act_tanh_fast
#define TANH_ACC act_tanh_fast
#define LOG1P_UNIT act_log1p
#define EXP_TAIL act_exp_tail_fast
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
    float tt = ACT_FMAF(nax * w, 0x1.715476p0f, ACT__F_MAGIC_K(64)); /* vmathf.h */
    float kd = tt - ACT__F_MAGIC_K(64);
    uint32_t n23 = act__f2u(tt) << 23; /* 2^(n+64) */
    float r = act__fmaf_x(nax, w, -(kd * ACT__F_LN2HI)); /* kd LN2HI is exact (8 + 15 bits) */
    r = ACT_FMAF(kd, -ACT__F_LN2LO, ACT_FMAF(nax, wl, r));
    o.v = act__fexpm1_poly(r);
    o.s64 = act__u2f(n23);
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
#define TANH_ACC act_ftanhf_acc
#define LOG1P_UNIT act_flog1p_unitf
#define EXP_TAIL act_fexpf_tail
#include "formulas_t.h"
#include "formulas_undef.h"

/* ---- gelu (exact) = x*Phi(x), Phi(x) = erfc(-x/sqrt2)/2.  Deep in the negative tail erfc's
 * relative error grows like 2z^2 times the error of its argument z, so z = -x/sqrt2 is carried
 * as zh + zl (Dekker product, no fma) and erfc(zh + zl) ~ erfc(zh) - zl*(2/sqrt(pi))e^-zh^2.
 * (float32 has its own form below.) ---- */
#define act_two_prod act__two_prod /* vmath.h: one fma where the target has one */
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
/* ---- gelu, float32: everything in float with fma (vmathf.h), no double lanes (the baseline
 * build, without fma, evaluates the two rationals below in double instead: see the end).
 *
 * One branch-free path for every x, no small-|x| polynomial blended in (the earlier version
 * computed one for |x| < 0.75 / 1 on every lane, ~9 vector ops per kernel):
 *  - e^(-x^2/2) = (1 + v) 2^n with x^2/2 carried exactly: n from y = -x^2/2 rounded, then
 *    r = x (-x/2) - n ln2hi in one fma (exact product, one rounding; without fma the Dekker
 *    product, where the sum is exact by Sterbenz), r -= n ln2lo, vmathf.h's expm1 polynomial.
 *    2^n is applied as s64 = 2^(n+64), the 2^-64 folded into the rationals: xc s64 is exact,
 *    and its product with (1 + v) R the one rounding, subnormal or not.
 *  - forward: Phi(-a) = e^(-x^2/2) R(a), a = |x|, R(a) = erfcx(a/sqrt2)/2 as the rational
 *    N(a) / (s a N(a) + M(a)), s = sqrt(2 pi) (s a exact: two_prod), N and M of degree 5 and 4,
 *    own fit on all of [0, 14.6] (relative error 2^-30.5 in double; the degree 4/3 fit of the
 *    old [0.72, 14.6] piece reaches only 2^-24.4 there).  The rounding errors of N appear in
 *    numerator and denominator and cancel where a N dominates.  N and M are scaled by 1.5
 *    (N(0) = 1.5, M(0) = 3): near a = 0 R is just below 1/2, the top of its binade, and N, M
 *    and the denominator just above 1 and 2 would each round by ~1 ulp of R there (3.8 ulp
 *    at x = -0.015 unscaled).  x < 0: gelu = x Phi(-a); x > 0: gelu = x - x Phi(-a) (one
 *    fma), where Phi(-a) <= 1/2 makes its few ulp less than ~1.5 ulp of the result.
 *    Tiny x (subnormals, -0) come out as x/2 from the same two forms (act__gelu_from).
 *  - gradient: Phi(x) + x phi(x) = e G(a) for x < 0 and 1 - e G(a) for x > 0, with
 *    G(a) = R(a) - a/s, whose root at a0 = 0.75179... is gelu's root.  G is computed as
 *    (A0H - a) (cs + D(a)) + C, A0H = a0 to 21 bits, C = G(A0H), cs = 1/s rounded to float,
 *    D a degree 3/4 rational fitted to (G - C)/(A0H - a) - cs (cs + D: relative error 2^-25.2
 *    with float coefficients), as fma(d, D, fma(d, cs, C)) with A0H - a = d + dl exact (2Sum,
 *    dl folded into C).  D <= 0.27 against cs + D >= 0.40, so the roundings inside P/Q weigh
 *    <= ~0.4 ulp of G each; the form N/(s N + M) for the whole of cs + D that this replaces
 *    had four roundings at full weight (n, m, s n + m, the quotient) and reached 4.2 ulp.
 *    d is exact for a in [0.375, 8) (Sterbenz and A0H's 21 bits), so next to the root the
 *    last fma cancels without rounding first: gelu' keeps its relative accuracy there.
 * Measured over all 2^32 floats (dev harness: reference x Phi(x) and Phi(x) + x phi(x) from
 * glibc's double erfc/exp, the argument of erfc carried in two parts), max ulp:
 *                      AVX2 (fma)                         baseline (no fma)
 *    forward           3.50 [-0.75,0), 3.23 x < -0.75,     2.73
 *                      3.14 [0,0.75), 1.14 x >= 0.75
 *    gradient          3.00 [-0.75,0), 2.82 x < -0.75,     2.39
 *                      1.95 [0,0.75), 0.72 x >= 0.75
 * gradient next to its root: <= 2.2e-8 absolute per unit of dy within 0.25 of it, <= 1.9 ulp
 * within 2.5e-4 of it (1.44 at the float nearest the root).
 * (the version before, same harness: forward 3.31 ulp, gradient 4.43 ulp outside |x - x0|
 * < 0.25 and up to 4.7e-8 absolute inside; without fma forward 4.24, gradient 5.4 ulp and
 * 5.7e-8.)  In cache, 1 thread, AVX-512, 2^15 floats: forward 0.646 (was 0.710), gradient
 * 0.563 (0.804) ns/element.  x is clamped to [-14.6, 6] by integer min on the bit patterns
 * (act__fclamp): beyond, x Phi(x) and gelu' round to 0, or Phi to 1.
 * Baseline (no fma): the rationals' Horner steps would round twice each (4.2 ulp for the
 * gradient near x = 0), so there the rationals and G are formed in double and rounded once;
 * the baseline is a fallback, not the timed path. */
#define GELU_S_HI 0x1.40d932p+65f     /* 2^64 sqrt(2 pi) = S_HI + S_LO */
#define GELU_S_LO -0x1.3b1f4ep+32f
#define GELU_A0H 0x1.80ead0p-1f        /* the root of gelu' to 21 bits (a0 = A0H + 2^-24.33) */
#define GELU_A0C 0x1.d30318p-90f       /* 2^-64 G(A0H) */
#define GELU_CS64 0x1.988454p-66f      /* 2^-64 float(1/sqrt(2 pi)) */
typedef struct { float xc, R, v, s64; } act_gelu_parts;
/* e^(-x^2/2) = (1 + v) 2^n for x = xc in [-14.6, 6]; *s64 = 2^(n+64) (normal: n >= -154) */
ACT_INLINE float act__gelu_exp_wf(float xc, float *s64)
{
    float nx = -0.5f * xc;
    float y = xc * nx;
    float t = ACT_FMAF(y, 0x1.715476p0f, ACT__F_MAGIC_K(64)); /* vmathf.h: bias in the magic */
    float kd = t - ACT__F_MAGIC_K(64);
    *s64 = act__u2f(act__f2u(t) << 23);
    float r = act__fmaf_x(xc, nx, kd * -ACT__F_LN2HI); /* kd LN2HI is exact (8 + 15 bits) */
    r = ACT_FMAF(kd, -ACT__F_LN2LO, r);
    return act__fexpm1_poly(r);
}
/* 2^-64 R(a), a in [0, 14.6] */
ACT_INLINE float act__gelu_R_wf(float a)
{
#if ACT_HAS_FMA
    float n = 0x1.ec49cep-9f; /* 1.5 N(a) */
    n = ACT_FMAF(n, a, 0x1.6fba54p-5f);
    n = ACT_FMAF(n, a, 0x1.06dcc4p-2f);
    n = ACT_FMAF(n, a, 0x1.b335acp-1f);
    n = ACT_FMAF(n, a, 0x1.a12872p+0f);
    n = ACT_FMAF(n, a, 1.5f);
    float m = 0x1.34869ap+57f; /* 1.5 2^64 M(a) */
    m = ACT_FMAF(m, a, 0x1.ccb0c2p+60f);
    m = ACT_FMAF(m, a, 0x1.4052f8p+63f);
    m = ACT_FMAF(m, a, 0x1.e48bc6p+64f);
    m = ACT_FMAF(m, a, 0x1.8p+65f);
    float ash, asl;
    act__two_prodf(a, GELU_S_HI, &ash, &asl);
    asl = ACT_FMAF(a, GELU_S_LO, asl);
    return n / ACT_FMAF(ash, n, ACT_FMAF(asl, n, m));
#else
    double d = a;
    double n = 0x1.ec49cep-9;
    n = n * d + 0x1.6fba54p-5;
    n = n * d + 0x1.06dcc4p-2;
    n = n * d + 0x1.b335acp-1;
    n = n * d + 0x1.a12872p+0;
    n = n * d + 1.5;
    double m = 0x1.34869ap+57;
    m = m * d + 0x1.ccb0c2p+60;
    m = m * d + 0x1.4052f8p+63;
    m = m * d + 0x1.e48bc6p+64;
    m = m * d + 0x1.8p+65;
    return (float)(n / (d * 0x1.40d931ff62705p+65 * n + m));
#endif
}
/* 2^-64 G(a) = 2^-64 (R(a) - a/s), a in [0, 14.6], as (A0H - a) (cs + D(a)) + C: D = P/Q a
 * degree 3/4 rational, own fit of K(a) = (G(a) - C)/(A0H - a) - cs, C = G(A0H), cs = 1/s
 * rounded to float (relative error of cs + D 2^-25.2 with float coefficients).  D <= 0.27
 * against K >= 0.40, so the roundings inside P/Q weigh at most ~0.4 of an ulp of G each. */
ACT_INLINE float act__gelu_G_wf(float a)
{
#if ACT_HAS_FMA
    float p = 0x1.259d82p-71f; /* 2^-64 P(a) */
    p = ACT_FMAF(p, a, 0x1.11dd22p-68f);
    p = ACT_FMAF(p, a, 0x1.a38bd8p-67f);
    p = ACT_FMAF(p, a, 0x1.1085e0p-66f);
    float q = 0x1.e98526p-6f;
    q = ACT_FMAF(q, a, 0x1.ebc9d6p-3f);
    q = ACT_FMAF(q, a, 0x1.ac21b6p-1f);
    q = ACT_FMAF(q, a, 0x1.6efac4p+0f);
    q = ACT_FMAF(q, a, 1.0f);
    float D = p / q;
    /* A0H - a = d + dl exactly (2Sum); d is exact already for a in [0.375, 8) (A0H is a
     * multiple of 2^-21), so next to the root G = d (cs + D) + C cancels without rounding */
    float d = GELU_A0H - a;
    float bb = d - GELU_A0H;
    float dl = (GELU_A0H - (d - bb)) - (a + bb);
    float c = ACT_FMAF(d, GELU_CS64, ACT_FMAF(dl, GELU_CS64, GELU_A0C)); /* d cs + C */
    return ACT_FMAF(d, D, c);
#else
    double d = a;
    double p = 0x1.259d82p-71;
    p = p * d + 0x1.11dd22p-68;
    p = p * d + 0x1.a38bd8p-67;
    p = p * d + 0x1.1085e0p-66;
    double q = 0x1.e98526p-6;
    q = q * d + 0x1.ebc9d6p-3;
    q = q * d + 0x1.ac21b6p-1;
    q = q * d + 0x1.6efac4p+0;
    q = q * d + 1.0;
    return (float)(((double)GELU_A0H - d) * ((double)GELU_CS64 + p / q) + (double)GELU_A0C);
#endif
}
/* R = 2^-64 R(|x|), so R (1 + v) 2^(n+64) is Phi(-|x|); e^(-x^2/2) = (1 + v) 2^n, s64 = 2^(n+64) */
ACT_INLINE act_gelu_parts act_gelu_core_wf(float x)
{
    act_gelu_parts o;
    o.xc = act__fclamp(x, -14.6f, 6.0f);
    o.R = act__gelu_R_wf(act__absf(o.xc));
    o.v = act__gelu_exp_wf(o.xc, &o.s64);
    return o;
}
/* gelu(x) from its core's parts.  u = xc 2^(n+64) is exact (xc times a power of 2, normal
 * for every xc in [-14.6, 6]: n + 64 >= -90) and w = (1 + v) R = Phi(-|x|) 2^-(n+64), so u w =
 * xc Phi(-|x|) rounds once, subnormal or not: x < 0: gelu = u w; x > 0: gelu = x - u w (one
 * fma; x, not xc, so +inf stays inf and NaN NaN).  Tiny x need no case of their own: u is
 * x 2^64 and w R(0) 2^-64 = 2^-65, so u w = x/2, and -0 takes the first form (-0 w = -0).
 * The version before formed x w first, which underflows for |x| < 2^-61, so it took a
 * select for |x| < 2^-40 and scaled afterwards: 4 vector ops more per element (bench/results/
 * ab_2026-12-05o.md). */
ACT_INLINE float act__gelu_from(float x, act_gelu_parts g)
{
    float u = g.xc * g.s64;
    float w = ACT_FMAF(g.v, g.R, g.R);
    /* sign bit set and not NaN (-0, -inf and every negative): the bits as int32 <= -inf's */
    return (int32_t)act__f2u(x) <= (int32_t)0xff800000u ? u * w : ACT_FMAF(-u, w, x);
}
ACT_INLINE float act_gelu_fwd_wf(float x, float a, float b)
{
    (void)a, (void)b;
    return act__gelu_from(x, act_gelu_core_wf(x));
}
/* gelu(a) m (geglu: m = b).  Below a = -12 gelu(a) nears the subnormals (it is subnormal
 * below -13.3), so there the product with m is formed before the last rounding, (u m) w,
 * as mulsig does for sigmoid; down to the clamp at -14.6, below which gelu(a) m is taken as
 * gelu's own (0 times m: off by at most a few subnormal ulp unless |m| exceeds ~1e5). */
ACT_INLINE float act_gelu_mul_wf(float x, float m)
{
    act_gelu_parts g = act_gelu_core_wf(x);
    float tail = (g.xc * g.s64 * m) * ACT_FMAF(g.v, g.R, g.R);
    return x < -12.0f && x >= -14.6f ? tail : act__gelu_from(x, g) * m;
}
ACT_INLINE double act_gelu_mul_wd(double x, double m) { return act_gelu_fwd_wd(x, 0, 0) * m; }
ACT_INLINE float act_gelu_grad_wf(float dy, float x, float a, float b)
{
    (void)a, (void)b;
    float xc = act__fclamp(x, -14.6f, 6.0f), s64;
    float G = act__gelu_G_wf(act__absf(xc));
    float v = act__gelu_exp_wf(xc, &s64);
    /* Phi(x) + x phi(x): x < 0: e G; x > 0: 1 - e G, e = (1 + v) 2^n */
    float ew = ACT_FMAF(v, G, G);
    float r = x < 0 ? ew * s64 : ACT_FMAF(-ew, s64, 1.0f);
    return dy * (x == x ? r : x);
}
/* the GLU family's gelu_tanh(a) * b per compute type, for axis.c (FORM(gelu_tanh, mul)) */
ACT_INLINE double act_gelu_tanh_mul_wd(double x, double m)
{
    return act_gelu_tanh_fwd_wd(x, 0, 0) * m;
}
ACT_INLINE float act_gelu_tanh_mul_wf(float x, float m) { return act__gelu_tanh_mul_f(x, m); }

#endif
