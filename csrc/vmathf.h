/* vmathf.h -- the float32 fast path: branch-free, vectorisable float functions that use fused
 * multiply-add where the target has it.
 *
 * WHY A SECOND SET.  vmath.h's float functions are near-correctly rounded (<= 0.77 ulp for exp)
 * and carry every argument in double-word arithmetic without fma, so that baseline, AVX2 and
 * AVX-512 give identical bits.  That costs ~1 ns/element for an exp here (2.45 GHz EPYC), and
 * the float32 ops that call one or two of them were 2.6-10x their memory floor at 2^24 elements
 * on 2 threads (bench/results, 2026-11-23).  SPEC §5 lets a path without FMA differ from the
 * FMA paths (within the accuracy bounds), so the float32 kernels use these instead:
 *  - ACT_FMAF is a real fused multiply-add on FMA targets (AVX2+FMA, AVX-512, aarch64) and
 *    a*b+c elsewhere.  AVX2 and AVX-512 therefore still agree bit for bit (the same fused
 *    operations in the same order, -ffp-contract=off everywhere else); baseline SSE2 differs by
 *    an ulp here and there and is tested against the same bounds (tests/test_accuracy.py runs
 *    every ISA this machine supports).
 *  - exact products (act__two_prodf) are two operations with fma, the Dekker/Veltkamp split
 *    without.
 *  - exp keeps one extra rounding instead of vmath.h's compensated 1 + r: <= 1 ulp instead of
 *    0.77 (measured over every float, see the table below), which the callers' error budgets
 *    (<= 4 ulp, aim <= 2) absorb.
 *
 * METHODS
 *  exp:   n = round(x/ln2) (1.5*2^23 magic), r = x - n*LN2HI (exact: LN2HI has 15 significant
 *         bits) - n*LN2LO (one rounding), e^r = 1 + (r + r^2 P(r)), P degree 4, own minimax fit
 *         of (e^r-1-r)/r^2 on [-ln2/2, ln2/2] (abs err of e^r 2^-27.8 with the coefficients rounded to float); 2^n applied as two
 *         normal factors 2^n1 * 2^n2, so a subnormal result is rounded once, by the last multiply.
 *  expm1: the same reduction; expm1 = 2 * fma(2^(n-1), r + r^2 P, 2^(n-1) - 1/2): the last two
 *         terms are exact, the fma rounds once (with fma; without, the product rounds too), so
 *         n = 0 and n = +-1 lose nothing to cancellation.
 *  tanh:  F/(F + 1), F = expm1(2|x|)/2 from the same reduction, for |x| >= 2^-13 (x below).
 *         tanh_acc (1.28 ulp, for tanh^2): |x| < 0.75: x + x^3 P(x^2) (P degree 5, own minimax
 *         fit, relative error 2^-27.0); else 1 - 2/(1 + e^2|x|), whose quotient (<= 0.5, ~2
 *         ulp) reaches the result as <= 1 ulp.
 *
 * MEASURED ACCURACY (max ulp over all 2^32 floats against glibc's double libm, the same
 * exhaustive harness as vmath.h's table; the ops built from these are measured by
 * `python -m actcore accuracy`, docs/accuracy.md)
 *                     AVX2 (fma)   baseline (no fma)
 *    exp              1.048        1.017
 *    exp (x <= 0)     1.042        1.017    (act_fexpnegf)
 *    expm1            1.585        1.715
 *    tanh             2.573        2.610
 *    tanh_acc         1.283        1.280
 *    log1p on [0,1]   1.352        1.906    (act_flog1p_unitf: a polynomial, no division)
 *
 * THROUGHPUT (a microbenchmark of the bare functions while developing them, not the committed
 * benchmark: ns/element, 1 thread, 4096 floats in cache, AVX2 build; vmath.h's in brackets)
 *    exp 0.57 (0.97), exp (x <= 0) 0.34, tanh 0.80 (2.31; 0.384 in its present form, best of
 *    2000 calls of 16384 floats); sigmoid from it 0.57 (1.26)
 */
#ifndef ACTCORE_VMATHF_H
#define ACTCORE_VMATHF_H

#include "vmath.h"

/* ACT_HAS_FMA and ACT_FMAF come from vmath.h, with the double ACT_FMA */

/* x clamped to [lo, hi], lo < 0 < hi, by integer min on the bit patterns: a signed min for the
 * upper bound (negative floats are negative integers), an unsigned one for the lower (they are the
 * large ones).  One integer op each, where `x > hi ? hi : x` on floats is a compare and a blend
 * (gcc 12 emits no maxps/minps without -ffinite-math-only -fno-signed-zeros) and, worse, lets gcc
 * carry the constant branch through everything downstream as blends of precomputed values
 * (gelu_tanh had 86 blends).  A NaN becomes hi or lo: callers keep NaN from the unclamped x. */
ACT_INLINE float act__fclamp(float x, float lo, float hi)
{
    int32_t i = (int32_t)act__f2u(x), h = (int32_t)act__f2u(hi);
    uint32_t u = (uint32_t)(i < h ? i : h), l = act__f2u(lo);
    return act__u2f(u < l ? u : l);
}

/* act__two_prodf: vmath.h */
/* a*b + c with the product unrounded, for sums that cancel: one fma, or without one the exact
 * product's two parts (p + c is exact where it cancels, by Sterbenz's lemma) */
ACT_INLINE float act__fmaf_x(float a, float b, float c)
{
#if ACT_HAS_FMA
    return ACT_FMAF(a, b, c);
#else
    float p, e;
    act__two_prodf(a, b, &p, &e);
    return (p + c) + e;
#endif
}
/* e^r - 1 = r + r^2 P(r) on [-ln2/2, ln2/2] */
ACT_INLINE float act__fexpm1_poly(float r)
{
    float p = 0x1.6db412p-10f;
    p = ACT_FMAF(p, r, 0x1.123b46p-7f);
    p = ACT_FMAF(p, r, 0x1.55545ep-5f);
    p = ACT_FMAF(p, r, 0x1.555490p-3f);
    p = ACT_FMAF(p, r, 0.5f);
    return ACT_FMAF(r * r, p, r);
}
/* e^(x + xl) = (1 + v) * 2^n, v = e^r - 1, for x in [-104, 89] (callers clamp) and a small
 * tail xl (|xl| <= 2^-10, the rounding error of an argument computed in double-word; -0.0f for
 * none, which the compiler folds away).  n23 holds the bits of the float 2^(n + k) for the
 * caller's constant k (n + k in [-126, 127]): the rounding constant 1.5 2^23 + k + 127 carries
 * the exponent bias in its low bits, which t's shift by 23 leaves alone while the constant's own
 * bits shift out, so the scale costs one integer op, not two (a shift and an add of the bias;
 * one vector op of ~20-40 in every exp-based kernel: 0-6% in cache, bench/results/
 * ab_2026-12-05p.md).  k = -127 gives n << 23, for callers
 * that add a bias of their own at run time. */
typedef struct { float v; int32_t n; uint32_t n23; } act__fexp_t;
#define ACT__F_MAGIC_K(k) ((float)(0x1.8p23 + ((k) + 127))) /* exact: an integer below 2^24 */
ACT_INLINE act__fexp_t act__fexpf_core_k(float x, float xl, int k)
{
    act__fexp_t o;
    const float magic = ACT__F_MAGIC_K(k);
    float t = ACT_FMAF(x, 0x1.715476p0f, magic);
    float kd = t - magic;
    o.n = (int32_t)(act__f2u(t) - act__f2u(magic));
    o.n23 = act__f2u(t) << 23;
    float r = ACT_FMAF(kd, -ACT__F_LN2HI, x); /* exact (Sterbenz; kd*LN2HI is exact) */
    r = ACT_FMAF(kd, -ACT__F_LN2LO, r) + xl;
    o.v = act__fexpm1_poly(r);
    return o;
}
/* the same with n23 = n << 23 */
ACT_INLINE act__fexp_t act__fexpf_core(float x, float xl) { return act__fexpf_core_k(x, xl, -127); }
/* 2^n as two normal factors (n in [-150, 128]) */
ACT_INLINE float act__fscale2(float m, int32_t n)
{
    int32_t n1 = n >> 1, n2 = n - n1;
    return (m * act__u2f((uint32_t)(n1 + 127) << 23)) * act__u2f((uint32_t)(n2 + 127) << 23);
}
/* e^(x + xl), |xl| <= 2^-10 (the rounding error of an argument carried in double-word) */
ACT_INLINE float act_fexpf_tail(float x, float xl)
{
    x = x > 89.0f ? 89.0f : x; /* NaN passes both compares unchanged */
    x = x < -104.0f ? -104.0f : x;
    act__fexp_t o = act__fexpf_core(x, xl);
    return act__fscale2(1.0f + o.v, o.n);
}
ACT_INLINE float act_fexpf(float x) { return act_fexpf_tail(x, -0.0f); }
/* e^x * 2^64 for x <= 0 (the e^-|x| of sigmoid, silu, softplus, tanh, elu ...): one scaling
 * instead of two.  x is clamped at -131, where e^x * 2^64 is still normal (n + 64 >= -125), so
 * the caller's product with 2^-64 rounds once, into the subnormals where e^x lies there; and
 * x*e^x can be formed before that last scaling (silu's tail, see formulas_t.h).  2^n is applied
 * by a multiply, so a NaN x stays NaN (an integer add would let its payload bits into the exponent). */
/* e^(x + xl) 2^64 for x in [-131, 0] (or NaN), |xl| <= 2^-10: for callers that clamp already */
ACT_INLINE float act__fexpneg64f_inrange(float x, float xl)
{
    act__fexp_t o = act__fexpf_core_k(x, xl, 64);
    float s = act__u2f(o.n23); /* 2^(n+64) */
    return ACT_FMAF(o.v, s, s); /* (1 + v) s: one rounding, one op fewer where there is an fma */
}
ACT_INLINE float act__fexpneg64f_tail(float x, float xl) /* e^(x + xl) 2^64, |xl| <= 2^-10 */
{
    x = x < -131.0f ? -131.0f : x; /* NaN passes unchanged */
    return act__fexpneg64f_inrange(x, xl);
}
ACT_INLINE float act__fexpneg64f(float x) { return act__fexpneg64f_tail(x, -0.0f); }
/* e^-a for a = |u| >= 0 (or NaN), returned with e^-a 2^64 in *e64 for a product formed before the
 * final scaling; beyond a = 131 both are 0 (|x| e^-a is below the smallest subnormal for
 * |x| < 1e12) */
ACT_INLINE float act__fexpneg_pair(float a, float *e64)
{
    float s = act__fexpneg64f(-a);
    s = a > 131.0f ? 0.0f : s;
    *e64 = s;
    return s * 0x1p-64f;
}
/* e^x for x <= 0 or NaN (-inf gives 0) */
ACT_INLINE float act_fexpnegf(float x) { return act__fexpneg64f(x) * 0x1p-64f; }
/* expm1 for x in [-25, 89] (callers clamp; expm1f(-25) rounds to -1) */
ACT_INLINE float act__fexpm1f_core(float x)
{
    act__fexp_t o = act__fexpf_core_k(x, -0.0f, -1);
    float h = act__u2f(o.n23); /* 2^(n-1): n-1 in [-37, 127] */
    return 2.0f * ACT_FMAF(h, o.v, h - 0.5f);
}
ACT_INLINE float act_fexpm1f(float x)
{
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -25.0f ? -25.0f : xc;
    float y = act__fexpm1f_core(xc);
    /* |x| < 2^-25: expm1(x) rounds to x; also keeps -0 and subnormals exact */
    return act__absf(x) < 0x1p-25f ? x : y;
}
/* tanh to 1.28 ulp (all floats, table above), for tanhshrink's gradient dy tanh^2 x, which
 * doubles tanh's relative error (act_ftanhf's 2.57 ulp gave 5.0 there): |x| < 0.75 takes
 * x + x^3 P(x^2), the rest 1 - 2e/(1 + e), both on every lane and a select (~40 vector ops,
 * 0.357 ns/element where act_ftanhf takes 0.281, AVX-512 in cache). */
ACT_INLINE float act_ftanhf_acc(float x)
{
    float ax = act__absf(x);
    /* |x| >= 0.75: 1 - 2e/(1 + e), e = e^-2|x|: the quotient is <= 0.4 and its ~2 ulp reach
     * the result as <= 1.  |x| is clamped at 9.1, where 1 - 2e/(1 + e) already rounds to 1, so
     * e >= e^-18.2 is normal and 2^n one factor (no 2^64 detour, no clamp at -131) */
    act__fexp_t o = act__fexpf_core_k(-2.0f * act__fclamp(ax, -1.0f, 9.1f), -0.0f, 0);
    float s = act__u2f(o.n23); /* 2^n */
    float e = ACT_FMAF(o.v, s, s);
    float big = 1.0f - (e + e) / (1.0f + e);
    /* |x| < 0.75: x + x^3 P(x^2), own minimax fit (relative error 2^-27.0 with the coefficients
     * rounded to float); exact for tiny x (x^3 P underflows below x itself) */
    float z = x * x;
    float p = 0x1.c75390p-10f;
    p = ACT_FMAF(p, z, -0x1.f5d358p-8f);
    p = ACT_FMAF(p, z, 0x1.5f7858p-6f);
    p = ACT_FMAF(p, z, -0x1.b97d3cp-5f);
    p = ACT_FMAF(p, z, 0x1.110db8p-3f);
    p = ACT_FMAF(p, z, -0x1.55554ap-2f);
    float small = ACT_FMAF(x * z, p, x);
    /* NaN: the negated compare is true, and small is NaN */
    return !(ax >= 0.75f) ? small : act__signf(big, x);
}

/* tanh x = F/(F + 1), F = expm1(2|x|)/2 = 2^(n-1)(1 + v) - 1/2 (one fma, as in act_fexpm1f),
 * the sign put back, for every |x| >= 2^-13: one exp, one division and no second path.  The
 * errors: F's (~1 ulp) weighs 1/(F + 1) <= 1 in the result, the rounding of F + 1 and the
 * quotient's a full ulp and half of one, so 2.57 ulp at most (x = 0.06236, just below the
 * binade edge 2^-4; all floats, table above).  Below 2^-13 F + 1 would round away the -x^3/3
 * of tanh x = x - x^3/3 (tanh(1e-7) one ulp above 1e-7), and x itself is within 0.1 ulp.
 * |x| is clamped at 9.1, where F/(F + 1) already rounds to 1 (2^(n-1) stays normal).
 * The version before (|x| < 0.75: x + x^3 P(x^2), P degree 5; else 1 - 2e/(1 + e), e = e^-2|x|;
 * both on every lane and a select) was 1.28 ulp but ~40 vector ops: 0.357 -> 0.281 ns/element
 * (AVX-512) and 0.498 -> 0.384 (AVX2), in cache, one thread, best of 2000 calls of 16384
 * floats (development harness); the A/B of the two builds is bench/results/ab_2026-12-05n.md.
 * Tried and rejected before that: a reciprocal by Newton steps in place of the division (no
 * faster, ab_2026-12-05j.md); one rational x P(x^2)/Q(x^2) of degrees 5 and 4 on |x| clamped
 * to 9.1 (0.236 ns/element but 5.3 ulp at x = 8.07: near saturation P ~ 30 and Q ~ 270 carry
 * their Horner roundings into a result just below 1); a (3, 2) rational below |x| = 2 and
 * 1 - 2e(1 - e + e^2 - e^3) above, both on every lane (slower, and 3.5 ulp). */
ACT_INLINE float act_ftanhf(float x)
{
    float ax = act__absf(x);
    act__fexp_t o = act__fexpf_core_k(2.0f * act__fclamp(ax, -1.0f, 9.1f), -0.0f, -1);
    float h = act__u2f(o.n23); /* 2^(n-1): n - 1 in [-1, 26] */
    float F = ACT_FMAF(h, o.v, h - 0.5f);
    float t = act__u2f(act__f2u(F / (F + 1.0f)) | (act__f2u(x) & 0x80000000u));
    return !(ax >= 0x1p-13f) ? x : t; /* NaN: x (the clamp made it finite in t) */
}

/* log1p(e) for e in [0, 1] or NaN (softplus and log_sigmoid's log1p(e^-|x|)) with no division
 * and no range reduction: e + e^2 Q(e), Q degree 8, own minimax fit of (log1p(e) - e)/e^2 on
 * [0, 1] (relative error of log1p 2^-26.5 with the coefficients rounded to float).  log1p's
 * singularity at e = -1 lies 3 half-widths from the centre of [0, 1], as it does for the usual
 * reduction to u in [sqrt(1/2), sqrt(2)], so that reduction (an exponent split, f/(2+f) and a
 * c/u correction: two divisions) buys no lower degree.  Estrin's scheme, 8 fma and 2 multiplies
 * four deep where Horner is nine (in-cache microbenchmark: log_sigmoid 0.92 -> 0.85 ns/element),
 * then one fma that adds e once, to a rest at most half of it, so the roundings damp. */
ACT_INLINE float act_flog1p_unitf(float e)
{
    float e2 = e * e, e4 = e2 * e2;
    float p01 = ACT_FMAF(e, -0x1.ff26d4p-3f, 0x1.554deep-2f);
    float p23 = ACT_FMAF(e, -0x1.3a79ccp-3f, 0x1.935c60p-3f);
    float p45 = ACT_FMAF(e, -0x1.d85e7cp-5f, 0x1.b57762p-4f);
    float p67 = ACT_FMAF(e, -0x1.b2ecdcp-9f, 0x1.4b034ap-6f);
    float lo = ACT_FMAF(e2, p23, p01), hi = ACT_FMAF(e2, p67, p45);
    float q = ACT_FMAF(ACT_FMAF(e4, hi, lo), e, -0x1.ffffd2p-2f);
    return ACT_FMAF(e * q, e, e);
}

#endif /* ACTCORE_VMATHF_H */
