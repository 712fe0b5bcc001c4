/* vmath.h -- header-only, branch-free, libm-free, vectorisable elementary functions
 * for actcore (C99, every function ACT_INLINE = static inline + always_inline).
 *
 * DESIGN RULES (why the code looks the way it does)
 *  - No branches: every piece of a piecewise function is evaluated and selected with
 *    ternaries (gcc 12 turns them into blends).  No fmaxf/rintf/floorf (they block
 *    vectorisation without -ffast-math): clamps are compares, rounding to integer is the
 *    1.5*2^23 / 1.5*2^52 add-and-subtract trick, bit casts go through memcpy.
 *  - No FMA anywhere and every expression is written in the evaluation order we want, so
 *    with -ffp-contract=off all ISAs give bit-identical results (checked: SSE2 build, AVX2+FMA
 *    build and an -O0 scalar build produce identical outputs on 2^20 random + range inputs per
 *    function).  Exact products are Veltkamp/Dekker splits (2^12+1 / 2^27+1), exact sums 2Sum /
 *    Fast2Sum.
 *  - No 64-bit arithmetic right shift, 64-bit compare, int64<->double conversion or 64-bit
 *    multiply (SSE2/AVX2 lack them): int64 <-> double goes through the 1.5*2^52 magic, and
 *    the log decomposition is biased so a logical shift suffices.
 *  - Over/underflow: exp-type results are m * 2^n1 * 2^n2 with both factors normal, so the
 *    only rounding is the last multiply: overflow gives +inf and subnormal results are rounded
 *    once from m (m itself carries <= 0.5 ulp, hence the ~0.75 ulp worst cases in the
 *    subnormal range).  Out-of-range lanes compute garbage that is discarded by a select (FP
 *    flags are not preserved, by contract).
 *
 * METHODS
 *  exp:   n = round(x/ln2) (magic add), r = x - n*LN2HI - n*LN2LO (Cody-Waite; LN2HI has 15 / 32
 *         significant bits so n*LN2HI is exact for the clamped |n|), r kept as r + rlo (2Sum);
 *         exp(r) = 1 + r + r^2 P(r), P a Chebyshev (near-minimax) fit of (e^r-1-r)/r^2 on
 *         [-ln2/2, ln2/2]: degree 5 float (abs err 2^-32.5), degree 10 double (2^-62.4).
 *         1 + r by Fast2Sum so only the final addition rounds.  Clamp |x| to 120 / 800.
 *  expm1: same reduction; expm1 = 2*[(2^(n-1)-1/2) + 2^(n-1) r + 2^(n-1)(q + ...)], the first
 *         two terms summed exactly (Fast2Sum; |a| >= |b| for every n) so the n = +-1 cancellation
 *         is free; the half scaling keeps 2^(n-1) finite up to n = 1024.  |x| < 2^-25 / 2^-54
 *         returns x (also keeps -0 and subnormals).
 *  log:   x = 2^k m, m in [sqrt2/2, sqrt2), f = m-1, s = f/(2+f) (the classic atanh-series
 *         reduction), log = k*ln2_hi - ((hfsq - (s*(hfsq+R(s^2)) + k*ln2_lo)) - f), hfsq = f^2/2,
 *         R(z) ~ (2 atanh(s) - 2s)/s: own minimax fits (mpmath Remez on z in [0, 0.02944], abs
 *         error, coefficients rounded one at a time with refits): 4 coeffs float (2^-34.2), 7
 *         double (2^-58.5).  Subnormals pre-scaled by 2^25 / 2^54.
 *  log1p: u = 1+x with its exact rounding error c (2Sum); log1p = log(u) + c/u, using the
 *         log core above (u is never subnormal).
 *  tanh:  t = expm1(2|x|) as a double-word hi+lo, tanh = t/(t+2) by double-word division
 *         (q1 = th/dh, exact residual with a Dekker product, one correction division); sign
 *         copied back; |x| clamped at 9.5 / 22 where tanh rounds to 1.  Tiny x: exactly x.
 *  exp_neg_half_sq: |x| = xh + xl (Veltkamp, xh has 12 / 26 bits), -x^2/2 = -xh^2/2 (exact)
 *         + tail -(xh*xl + xl^2/2); the exp reduction takes the exact part and the tail
 *         separately, so x*x is never rounded (exact lattice argument: xh^2/2 - n*LN2HI is
 *         representable).  |x| clamped at 15 / 40 (result 0 beyond).
 *  erff/erfcf (float): computed in double, rounded once.  erfc(a) = exp(-a^2) H(t)/(a+3),
 *         a = |x|, t = (a-3)/(a+3): ONE degree-10 polynomial H for all a in [0, 10.25] (H is
 *         smooth and bounded in t: the a+3 factor cancels erfcx's 1/a decay), one division.
 *         a*a is exact in double (24-bit a), so exp(-a^2) needs no hi/lo split: n = round(-a^2/
 *         ln2), r = (-a^2 - n*LN2HI) [exact] - n*LN2LO, degree-6 e^r, 2^n added to the exponent
 *         field.  erfc(-a) = 2 - erfc(a); erf = x*P(x^2) (degree 5) for |x| < 0.5, else
 *         sign*(1 - erfc(a)).  All own minimax fits (mpmath Remez, relative error): H 2^-29.2,
 *         e^r 2^-29.0, P 2^-36.3, so < 2^-28 before the final rounding.  (Was: 3 rational pieces,
 *         all evaluated, ~5 divisions, 16 ns.  Degree 11 H + degree 7 e^r gave 0.501 ulp at
 *         2.93 ns; the chosen degrees give 0.556 at 2.73 ns.)
 *  erf/erfc (double): |x| < 0.84375 A: erf = x + x*y(x^2), y a degree-11 polynomial;
 *         |x| < 1.25 B: erf = ERX + c0 + c1 s + s^2 M(s), s = |x|-1, degree 13; |x| >= 1.25 C:
 *         erfc = exp(-z^2 - 0.5625 + (z-x)(z+x) + R/S(1/x^2))/|x| with z = |x| truncated to 21
 *         bits so z^2 is exact, R/S degree 7/8 on [1.25, 1/0.35), 6/7 beyond (coefficients
 *         selected per lane, one division).  All own fits (polynomials: mpmath Remez; rationals:
 *         own linearised rational Remez, S rounded first then R refitted).  A and B share one
 *         Horner (per-lane coefficients).  The exponent goes into a two-part exp reduction
 *         (-z^2 exact, -0.5625 added exactly after Cody-Waite, tail recovered with 2Sums), the
 *         mantissa stays double-word and is divided by |x| with a double-word division BEFORE the
 *         2^n scaling, so deep-tail subnormal results (to x~27.2) round once.  erfc where results
 *         are small and cancellation-prone: A for x in [0.25,0.84375): 0.5 - ((x-0.5) + x*y)
 *         with y's last two Horner steps y0 + z*(c1 + z*R2(z)) and y0 itself in double-word
 *         (1.43 -> 0.77 ulp), Dekker x*y, 2Sums; B for x > 0:
 *         (1-ERX-c0) - c1*s - s^2 M(s) with c1 = 26-bit hi + lo so c1*s is exact.
 *
 * MEASURED ACCURACY (max error in ulps of the exact result)
 *  float: EXHAUSTIVE over all 2^32 inputs vs glibc double libm (exp(-0.5*x*x) with x*x exact
 *  for exp_neg_half_sq) = error vs the exact value up to ~2^-29 ulp; NaN/inf/+-0/sign checked.
 *  double: 16M samples per function (1/4 random bit patterns, 1/4 uniform on the interesting
 *  range, 1/4 log-uniform magnitudes 2^-1074..2^12 both signs, 1/4 nudged by one ulp) + edge
 *  list, vs x87 long double libm (expl, expm1l, logl, log1pl, tanhl, erfl, erfcl; exp(-x^2/2)
 *  with an exact split of x^2), NaN/inf/+-0/sign checked.
 *                      float (exhaustive)   double (16M sampled)
 *    exp               0.764                0.750   (worst cases: subnormal results)
 *    expm1             1.003 (never >1 from the correctly rounded value)   0.884
 *    log               0.835                0.843
 *    log1p             0.863                0.837
 *    tanh              0.817                0.784
 *    erf               0.525          0.908
 *    erfc              0.556          1.482   (by region, 2M each: [0.25,0.84) 0.77, [0.84,1.25)
 *                                                     1.00, [1.25,2.86) 1.37 (1.48 in 16M), >2.86 0.75)
 *    exp_neg_half_sq   0.767 (worst: subnormal results)          0.759
 *
 * THROUGHPUT (ns/element, 1 thread, 4096-element in-cache array, AVX2 build,
 *  -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -mavx2 -mfma, AMD EPYC VM; min over 3000 single calls, machine shared with other jobs)
 *                      float    double
 *    exp               0.97     2.90
 *    expm1             1.09     3.08
 *    log               0.81     2.12
 *    log1p             0.93     2.28
 *    tanh              2.29     6.10    (two divisions + Dekker product)
 *    erf               3.40     26.4    (float: P + the erfc path, one division; double: all
 *    erfc              2.83     31.9     pieces evaluated, ~9 divisions; float was 15.7 / 16.6)
 *    exp_neg_half_sq   1.40     3.86
 */
#ifndef ACTCORE_VMATH_H
#define ACTCORE_VMATH_H

#include "act.h"
#include <stdint.h>
#include <string.h>
#include <math.h> /* INFINITY and NAN only: no libm function is called */

/* ---------------------------------------------------------------- fused multiply-add
 * A real fma on the FMA targets (AVX2+FMA, AVX-512, aarch64), a*b+c elsewhere (the baseline
 * SSE2 build).  The float32 kernels use it in their arithmetic (vmathf.h) and the float64
 * elementwise kernels in their exp, expm1 and tanh (act__exp_reduce_fma), where SPEC §5 lets
 * the no-FMA path differ; elsewhere the double code uses it only where both forms give the
 * same number (act__two_prod), so the float64 softmax family keeps the same bits on every
 * target. */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA) || defined(ACT_HAVE_FMA)
#define ACT_HAS_FMA 1
#if defined(_MSC_VER) && !defined(__clang__)
#define ACT_FMAF(a, b, c) fmaf(a, b, c)
#define ACT_FMA(a, b, c) fma(a, b, c)
#else
#define ACT_FMAF(a, b, c) __builtin_fmaf(a, b, c)
#define ACT_FMA(a, b, c) __builtin_fma(a, b, c)
#endif
#else
#define ACT_HAS_FMA 0
#define ACT_FMAF(a, b, c) ((a) * (b) + (c))
#define ACT_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* ---------------------------------------------------------------- bit casts */
ACT_INLINE uint32_t act__f2u(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
ACT_INLINE float act__u2f(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }
ACT_INLINE uint64_t act__d2u(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
ACT_INLINE double act__u2d(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
ACT_INLINE float act__absf(float x) { return act__u2f(act__f2u(x) & 0x7fffffffu); }
ACT_INLINE double act__abs(double x) { return act__u2d(act__d2u(x) & 0x7fffffffffffffffull); }
/* |m| with the sign bit of s (s sign only) */
ACT_INLINE float act__signf(float m, float s) {
    return act__u2f(act__f2u(m) | (act__f2u(s) & 0x80000000u));
}
ACT_INLINE double act__sign(double m, double s) {
    return act__u2d(act__d2u(m) | (act__d2u(s) & 0x8000000000000000ull));
}

/* p + e == a*b exactly: the product's rounding error by one fma where the target has one,
 * else by Veltkamp's split (2^12 + 1 for float, 2^27 + 1 for double) and Dekker's product.
 * Both are exact, so both give the same two numbers wherever the split cannot overflow and no
 * partial product falls into the subnormals (double: |a|, |b| < 2^995, |a b| >= 2^-969 or
 * so): every caller keeps its operands there.  The fma is 2 operations where the split is 17
 * (float64 softmax's pass B product, tanh's quotient, erf's products). */
#define ACT__TWO_PROD(name, T, FMA, SPLIT)                                                      \
    ACT_INLINE void name(T a, T b, T *p, T *e)                                                 \
    {                                                                                          \
        *p = a * b;                                                                            \
        if (ACT_HAS_FMA) {                                                                     \
            *e = FMA(a, b, -*p);                                                               \
        }                                                                                      \
        else {                                                                                 \
            T ca = (T)(SPLIT) * a, ah = ca - (ca - a), al = a - ah;                            \
            T cb = (T)(SPLIT) * b, bh = cb - (cb - b), bl = b - bh;                            \
            *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;                               \
        }                                                                                      \
    }
ACT__TWO_PROD(act__two_prodf, float, ACT_FMAF, 4097.0)
ACT__TWO_PROD(act__two_prod, double, ACT_FMA, 134217729.0)
#undef ACT__TWO_PROD

/* ===================================================================== exp core
 * exp(xh + xa + xl) = (1 + r + q) * 2^n, with n = round((xh+xa+xl)/ln2),
 * r + rlo = xh + xa + xl - n*ln2 (|r| <= ln2/2).  Requirements (checked by the callers'
 * design): xh - n*LN2HI and then + xa are exact (xa = 0 for plain exp; the lattice argument
 * for erfc / exp(-x^2/2) is in the top comment); xl is the small tail.
 * q = r^2 * P(r) ~ exp(r) - 1 - r, P: Chebyshev (near-minimax) fit on [-ln2/2, ln2/2]. */
#define ACT__F_MAGIC 0x1.8p23f
#define ACT__D_MAGIC 0x1.8p52
#define ACT__F_LN2HI 0x1.62e4p-1f            /* 0x3f317200: 15 significant bits        */
#define ACT__F_LN2LO 1.42860682030941723212e-6f /* ln2 - LN2HI                         */
#define ACT__D_LN2HI 6.93147180369123816490e-01 /* 0x3fe62e42fee00000: 32 sig. bits     */
#define ACT__D_LN2LO 1.90821492927058770002e-10 /* 0x3dea39ef35793c76                   */

typedef struct { float r, rlo, q, kd; int32_t n1, n2; } act__redf;
typedef struct { double r, rlo, q, kd; int64_t n1, n2; } act__redd;

ACT_INLINE act__redf act__expf_reduce(float xh, float xa, float xl)
{
    act__redf o;
    float t = (xh + (xa + xl)) * 0x1.715476p0f + ACT__F_MAGIC;
    float kd = t - ACT__F_MAGIC;
    int32_t n = (int32_t)(act__f2u(t) - act__f2u(ACT__F_MAGIC));
    float t1 = kd * 0.5f + ACT__F_MAGIC;          /* n1 = round(n/2): two-step scaling */
    o.n1 = (int32_t)(act__f2u(t1) - act__f2u(ACT__F_MAGIC));
    o.n2 = n - o.n1;
    float hi = (xh - kd * ACT__F_LN2HI) + xa;     /* exact */
    float lo = kd * ACT__F_LN2LO - xl;
    float r = hi - lo;                            /* 2Sum: r + rlo = hi - lo exactly */
    float bv = r - hi;
    o.rlo = (hi - (r - bv)) - (lo + bv);
    float p = 0.00019891000780597316737f;
    p = p * r + 0.0013933658961533570694f;
    p = p * r + 0.0083333109165102384316f;
    p = p * r + 0.041666464844507487889f;
    p = p * r + 0.16666666681632211591f;
    p = p * r + 0.5f;
    o.q = (r * r) * p;
    o.r = r;
    o.kd = kd;
    return o;
}

/* act_exp's P (e^r - 1 - r = r^2 P(r) on [-ln2/2, ln2/2]), Horner steps p = STEP(p, r, c):
 * a multiply and an add (act__exp_reduce), or one fma (act__exp_reduce_fma) */
#define ACT__MULADD(a, b, c) ((a) * (b) + (c))
#define ACT__D_EXP_P(STEP, p, r)                                                               \
    do {                                                                                       \
        p = 2.0914694560351591584e-9;                                                          \
        p = STEP(p, r, 2.5105227636551759138e-8);                                              \
        p = STEP(p, r, 2.7557273624866476327e-7);                                              \
        p = STEP(p, r, 2.7557255374658742054e-6);                                              \
        p = STEP(p, r, 0.000024801587325562125808);                                            \
        p = STEP(p, r, 0.00019841269874840768638);                                             \
        p = STEP(p, r, 0.001388888888888374419);                                               \
        p = STEP(p, r, 0.0083333333333261293636);                                              \
        p = STEP(p, r, 0.041666666666666669758);                                               \
        p = STEP(p, r, 0.16666666666666670995);                                                \
        p = STEP(p, r, 0.5);                                                                   \
    } while (0)
ACT_INLINE act__redd act__exp_reduce(double xh, double xa, double xl)
{
    act__redd o;
    double t = (xh + (xa + xl)) * 1.4426950408889634074 + ACT__D_MAGIC;
    double kd = t - ACT__D_MAGIC;
    int64_t n = (int64_t)(act__d2u(t) - act__d2u(ACT__D_MAGIC));
    double t1 = kd * 0.5 + ACT__D_MAGIC;
    o.n1 = (int64_t)(act__d2u(t1) - act__d2u(ACT__D_MAGIC));
    o.n2 = n - o.n1;
    double hi = (xh - kd * ACT__D_LN2HI) + xa;
    double lo = kd * ACT__D_LN2LO - xl;
    double r = hi - lo;
    double bv = r - hi;
    o.rlo = (hi - (r - bv)) - (lo + bv);
    double p;
    ACT__D_EXP_P(ACT__MULADD, p, r);
    o.q = (r * r) * p;
    o.r = r;
    o.kd = kd;
    return o;
}

/* 1 + r + rlo + q, with 1 + r done as Fast2Sum so only the final addition rounds */
ACT_INLINE float act__expf_mant(act__redf o)
{
    float s = 1.0f + o.r;
    float e = (1.0f - s) + o.r;
    return s + (o.q + (e + (o.rlo + o.rlo * o.r)));
}
ACT_INLINE double act__exp_mant(act__redd o)
{
    double s = 1.0 + o.r;
    double e = (1.0 - s) + o.r;
    return s + (o.q + (e + (o.rlo + o.rlo * o.r)));
}
/* m * 2^n1 * 2^n2: both factors are normal numbers, so the only rounding is the last
 * multiply -> correctly handles overflow to inf and gradual underflow. */
ACT_INLINE float act__scalef(float m, int32_t n1, int32_t n2)
{
    float s1 = act__u2f((uint32_t)(n1 + 127) << 23);
    float s2 = act__u2f((uint32_t)(n2 + 127) << 23);
    return (m * s1) * s2;
}
ACT_INLINE double act__scale(double m, int64_t n1, int64_t n2)
{
    double s1 = act__u2d((uint64_t)(n1 + 1023) << 52);
    double s2 = act__u2d((uint64_t)(n2 + 1023) << 52);
    return (m * s1) * s2;
}

/* Variant for erfc: the tail comes as xl + xl2 (both O(0.2) or less); the rounding error of
 * xl + xl2 and of
 * kd*LN2LO - xl is recovered by 2Sum so no O(2^-54) absolute error enters the exponent
 * (erfc(2.04) was 1.9 ulp without this). */
ACT_INLINE act__redf act__expf_reduce2(float xh, float xa, float xl, float xl2)
{
    float xs = xl + xl2, xb = xs - xl;               /* 2Sum: xs + xe == xl + xl2 */
    float xe = (xl - (xs - xb)) + (xl2 - xb);
    xl = xs; xl2 = xe;
    act__redf o = act__expf_reduce(xh, xa, xl);
    float pl = o.kd * ACT__F_LN2LO;
    float lo = pl - xl;
    float bv = lo - pl;
    float le = (pl - (lo - bv)) + (-xl - bv);    /* pl - xl == lo + le */
    o.rlo = (o.rlo - le) + xl2;
    return o;
}
ACT_INLINE act__redd act__exp_reduce2(double xh, double xa, double xl, double xl2)
{
    double xs = xl + xl2, xb = xs - xl;               /* 2Sum: xs + xe == xl + xl2 */
    double xe = (xl - (xs - xb)) + (xl2 - xb);
    xl = xs; xl2 = xe;
    act__redd o = act__exp_reduce(xh, xa, xl);
    double pl = o.kd * ACT__D_LN2LO;
    double lo = pl - xl;
    double bv = lo - pl;
    double le = (pl - (lo - bv)) + (-xl - bv);
    o.rlo = (o.rlo - le) + xl2;
    return o;
}
/* (nh + nl) / d rounded once (up to ~2^-2p): q1 = nh/d, exact residual nh - q1*d by
 * Veltkamp/Dekker two-product (no fma), corrected by a second division. */
ACT_INLINE float act__ddivf(float nh, float nl, float d)
{
    float q1 = nh / d;
    float cq = q1 * 4097.0f, qh = cq - (cq - q1), ql = q1 - qh;
    float cd = d * 4097.0f, dh = cd - (cd - d), dl = d - dh;
    float p = q1 * d;
    float pe = ((qh * dh - p) + qh * dl + ql * dh) + ql * dl;
    return q1 + (((nh - p) - pe) + nl) / d;
}
ACT_INLINE double act__ddiv(double nh, double nl, double d)
{
    double q1 = nh / d, p, pe;
    act__two_prod(q1, d, &p, &pe);
    return q1 + (((nh - p) - pe) + nl) / d;
}

/* ========================================================================= exp */
ACT_INLINE float act_expf(float x)
{
    x = x > 120.0f ? 120.0f : x;      /* NaN passes both compares unchanged */
    x = x < -120.0f ? -120.0f : x;
    act__redf o = act__expf_reduce(x, 0.0f, 0.0f);
    return act__scalef(act__expf_mant(o), o.n1, o.n2);
}
ACT_INLINE double act_exp(double x)
{
    x = x > 800.0 ? 800.0 : x;
    x = x < -800.0 ? -800.0 : x;
    act__redd o = act__exp_reduce(x, 0.0, 0.0);
    return act__scale(act__exp_mant(o), o.n1, o.n2);
}
/* e^(x + xl) for a small tail xl (the rounding error of an argument carried in double-word) */
ACT_INLINE double act_exp_tail(double x, double xl)
{
    x = x > 800.0 ? 800.0 : x;
    x = x < -800.0 ? -800.0 : x;
    act__redd o = act__exp_reduce(x, 0.0, xl);
    return act__scale(act__exp_mant(o), o.n1, o.n2);
}

/* ---------------------------------------------------------- exp, float64, FMA targets
 * e^(x + xl) for the elementwise float64 kernels (formulas.h EXP, EXPNEG, EXP_TAIL) where the
 * target has fma: act_exp's reduction and polynomial with each step fused, so ~36 vector
 * operations where act_exp's no-fma arithmetic is ~60.  n = round(x/ln2) as there (one fma
 * with the 1.5 2^52 magic); r = x - n LN2HI is exact in one fma (LN2HI has 32 bits), and
 * r - n LN2LO rounds once, 2^-55.5 absolute at most (0.18 ulp of the result), an error
 * act_exp carries with a 2Sum and this does not.  Measured against expl over 20M samples
 * (development harness, normal results): 0.76 ulp (act_exp 0.62), with a tail 0.91, and
 * 0.82 where the result is subnormal.  The tail xl (the rounding error of a double-word
 * argument, |xl| <= 2^-43) enters as xl e^r, e^(r + xl) to first order.  2^n is applied as
 * two normal factors, so a subnormal result rounds once.  SPEC §5 lets the path without fma
 * differ: the baseline build keeps act_exp (act_exp_fast below), whose bits it had before.
 * act__exp_reduce_fma is act__exp_reduce's result for xa = xl = 0 with fma: rlo = 0 and
 * q = r^2 P(r) by fused Horner steps (expm1 and tanh take it too: act_expm1_fast). */
ACT_INLINE act__redd act__exp_reduce_fma(double x)
{
    act__redd o;
    double t = ACT_FMA(x, 1.4426950408889634074, ACT__D_MAGIC);
    double kd = t - ACT__D_MAGIC;
    int64_t n = (int64_t)(act__d2u(t) - act__d2u(ACT__D_MAGIC));
    double t1 = ACT_FMA(kd, 0.5, ACT__D_MAGIC); /* n1 = round(n/2): two-step scaling */
    o.n1 = (int64_t)(act__d2u(t1) - act__d2u(ACT__D_MAGIC));
    o.n2 = n - o.n1;
    double rh = ACT_FMA(kd, -ACT__D_LN2HI, x); /* exact */
    double r = ACT_FMA(kd, -ACT__D_LN2LO, rh);
    double p;
    ACT__D_EXP_P(ACT_FMA, p, r); /* act__exp_reduce's P, fused */
    o.q = (r * r) * p; /* e^r - 1 - r */
    o.r = r;
    o.rlo = 0.0;
    o.kd = kd;
    return o;
}
ACT_INLINE double act__exp_fma(double x, double xl, int tail)
{
    x = x > 800.0 ? 800.0 : x;      /* NaN passes both compares unchanged */
    x = x < -800.0 ? -800.0 : x;
    act__redd o = act__exp_reduce_fma(x);
    double s = 1.0 + o.r, e = (1.0 - s) + o.r; /* s + e == 1 + r (Fast2Sum) */
    /* + xl e^r: xl r^2/2 alone is ~30 ulp at xl = 1e-13 */
    double q = tail ? ACT_FMA(xl, s + o.q, o.q) : o.q;
    return act__scale(s + (e + q), o.n1, o.n2);
}
#if ACT_HAS_FMA
ACT_INLINE double act_exp_fast(double x) { return act__exp_fma(x, 0.0, 0); }
ACT_INLINE double act_exp_tail_fast(double x, double xl) { return act__exp_fma(x, xl, 1); }
#else
#define act_exp_fast act_exp
#define act_exp_tail_fast act_exp_tail
#endif

/* ======================================================================= expm1
 * expm1(x) = 2 * [ (2^(n-1) - 1/2) + 2^(n-1) r + 2^(n-1) (q + rlo(1+r)) ]
 * the first two terms are exact and combined by Fast2Sum (|a| >= |b| for all n), so the
 * cancellation for n = 1 / n = -1 costs nothing.  The half-scaling keeps 2^(n-1) finite up to
 * n = 1024; the final *2 overflows to inf exactly when expm1 does.  Also gives a hi+lo pair
 * (used by tanh). */
ACT_INLINE void act__expm1f_hl(float x, float *yh, float *yl)
{
    act__redf o = act__expf_reduce(x, 0.0f, 0.0f);
    int32_t n = o.n1 + o.n2;
    float h = act__u2f((uint32_t)(n - 1 + 127) << 23);  /* 2^(n-1), n in [-37, 128] */
    float a = h - 0.5f;
    float ae = (h - a) - 0.5f;         /* = (h-1/2) - a exactly; nonzero once 2^(n-1)-1/2 is not representable */
    float b = h * o.r;
    float c = h * (o.q + (o.rlo + o.rlo * o.r)) + ae;
    float s = a + b;
    float e = b - (s - a);
    float ce = c + e;
    float hh = s + ce;
    *yh = hh;
    *yl = (s - hh) + ce;
}
/* fast: the reduction with fma (act__exp_reduce_fma), for the elementwise kernels */
ACT_INLINE void act__expm1_hl_impl(double x, double *yh, double *yl, int fast)
{
    act__redd o = fast ? act__exp_reduce_fma(x) : act__exp_reduce(x, 0.0, 0.0);
    int64_t n = o.n1 + o.n2;
    double h = act__u2d((uint64_t)(n - 1 + 1023) << 52);
    double a = h - 0.5;
    double ae = (h - a) - 0.5;
    double b = h * o.r;
    double c = h * (o.q + (o.rlo + o.rlo * o.r)) + ae;
    double s = a + b;
    double e = b - (s - a);
    double ce = c + e;
    double hh = s + ce;
    *yh = hh;
    *yl = (s - hh) + ce;
}
ACT_INLINE float act_expm1f(float x)
{
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -25.0f ? -25.0f : xc;
    float h, l;
    act__expm1f_hl(xc, &h, &l);
    h = h * 2.0f;
    /* |x| < 2^-25: expm1(x) rounds to x; also keeps -0 and subnormals (the 2^(n-1) = 1/2
       half-scaling would drop their last bit) */
    return act__absf(x) < 0x1p-25f ? x : h;
}
ACT_INLINE void act__expm1_hl(double x, double *yh, double *yl)
{
    act__expm1_hl_impl(x, yh, yl, 0);
}
ACT_INLINE double act__expm1_impl(double x, int fast)
{
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -45.0 ? -45.0 : xc;
    double h, l;
    act__expm1_hl_impl(xc, &h, &l, fast);
    h = h * 2.0;
    return act__abs(x) < 0x1p-54 ? x : h;
}
ACT_INLINE double act_expm1(double x) { return act__expm1_impl(x, 0); }

/* ======================================================================== tanh
 * tanh|x| = t / (t + 2), t = expm1(2|x|) as hi+lo; the quotient is a double-word division:
 * Q1 = th/Dh, exact residual via Dekker/Veltkamp two-product (no fma), Q = Q1 + res/Dh.
 * Tiny x: t = 2x exactly, Q1 = x exactly, residual 0 -> tanh(x) = x. */
ACT_INLINE float act_tanhf(float x)
{
    float ax = act__absf(x);
    ax = ax > 9.5f ? 9.5f : ax;        /* tanhf(9.5) rounds to 1 */
    float th, tl;
    act__expm1f_hl(ax + ax, &th, &tl);
    th = th * 2.0f; tl = tl * 2.0f;
    float dh = th + 2.0f;              /* 2Sum(th, 2) */
    float bv = dh - th;
    float de = (th - (dh - bv)) + (2.0f - bv);
    float dl = de + tl;
    float q1 = th / dh;
    /* two-product q1*dh, Veltkamp split with 2^12+1 */
    float cq = q1 * 4097.0f, qh = cq - (cq - q1), ql = q1 - qh;
    float cd = dh * 4097.0f, dhh = cd - (cd - dh), dhl = dh - dhh;
    float p = q1 * dh;
    float pe = ((qh * dhh - p) + qh * dhl + ql * dhh) + ql * dhl;
    float res = (((th - p) - pe) + tl) - q1 * dl;
    float y = q1 + res / dh;
    return act__signf(y, x);
}
ACT_INLINE double act__tanh_impl(double x, int fast)
{
    double ax = act__abs(x);
    ax = ax > 22.0 ? 22.0 : ax;        /* tanh(22) rounds to 1 */
    double th, tl;
    act__expm1_hl_impl(ax + ax, &th, &tl, fast);
    th = th * 2.0; tl = tl * 2.0;
    double dh = th + 2.0;
    double bv = dh - th;
    double de = (th - (dh - bv)) + (2.0 - bv);
    double dl = de + tl;
    /* (th + tl)/(dh + dl) from one division: q1 = th (1/dh) is within ~1 ulp, the residual
     * th + tl - q1 (dh + dl) is exact to its last terms (p + pe = q1 dh), and the correction
     * res/dh, a few ulp of q1, needs only a product by 1/dh.  The second division cost ~10%
     * of float64 tanh in cache (2.24 -> 2.00 ns/element, bench/results/ab_2026-12-05f.md) */
    double r0 = 1.0 / dh;
    double q1 = th * r0, p, pe;
    act__two_prod(q1, dh, &p, &pe);
    double res = (((th - p) - pe) + tl) - q1 * dl;
    double y = q1 + res * r0;
    return act__sign(y, x);
}
ACT_INLINE double act_tanh(double x) { return act__tanh_impl(x, 0); }
/* the elementwise float64 kernels' expm1 and tanh (formulas.h): the reduction with fma where
 * the target has one (act__exp_reduce_fma), as act_exp_fast; the baseline build's are
 * act_expm1's and act_tanh's */
ACT_INLINE double act_expm1_fast(double x) { return act__expm1_impl(x, ACT_HAS_FMA); }
ACT_INLINE double act_tanh_fast(double x) { return act__tanh_impl(x, ACT_HAS_FMA); }

/* ============================================================== exp(-x*x/2)
 * x = xh + xl (Veltkamp split, xh has 12 / 26 bits so xh*xh is exact), then
 * -x^2/2 = -xh^2/2 (exact) - (xh*xl + xl^2/2) (tail) goes to the two-part exp reduction. */
ACT_INLINE float act_exp_neg_half_sq_f(float x)
{
    float ax = act__absf(x);
    ax = ax > 15.0f ? 15.0f : ax;
    float c = ax * 4097.0f;
    float xh = c - (c - ax);
    float xl = ax - xh;
    float hi = -0.5f * (xh * xh);
    float lo = -(xh * xl + 0.5f * (xl * xl));
    act__redf o = act__expf_reduce(hi, 0.0f, lo);
    return act__scalef(act__expf_mant(o), o.n1, o.n2);
}
ACT_INLINE double act_exp_neg_half_sq(double x)
{
    double ax = act__abs(x);
    ax = ax > 40.0 ? 40.0 : ax;
    double c = ax * 134217729.0;
    double xh = c - (c - ax);
    double xl = ax - xh;
    double hi = -0.5 * (xh * xh);
    double lo = -(xh * xl + 0.5 * (xl * xl));
    act__redd o = act__exp_reduce(hi, 0.0, lo);
    return act__scale(act__exp_mant(o), o.n1, o.n2);
}

/* ========================================================================= log
 * x = 2^k * m, m in [sqrt2/2, sqrt2), f = m-1, s = f/(2+f),
 * log(1+f) = f - hfsq + s*(hfsq+R(s^2)), R our own minimax fit (top comment; float abs err
 * 2^-34.2, double 2^-58.5).  Decomposition is pure integer (subtract the bits of sqrt2/2 so
 * the exponent field gives k, biased so only logical shifts are needed: AVX2 has no 64-bit
 * arithmetic shift); subnormals are pre-scaled by 2^25 / 2^54.  log1p adds the exact rounding
 * error c of
 * u = 1+x (2Sum) as c/u. */
ACT_INLINE float act__logf_core(float u, float kadj, float corr)
{
    uint32_t iu = act__f2u(u);
    uint32_t tmp = iu - 0x3f3504f3u + 0x40000000u;
    uint32_t k = (tmp >> 23) - 128u;
    float m = act__u2f(iu - (k << 23));
    float kd = (float)(int32_t)k - kadj;
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s, w = z * z;
    float t1 = w * (0x1.999c26p-2f + w * 0x1.f13b22p-3f);
    float t2 = z * (0x1.555554p-1f + w * 0x1.23d3e0p-2f);
    float R = t2 + t1;
    float hfsq = 0.5f * f * f;
    return kd * ACT__F_LN2HI - ((hfsq - (s * (hfsq + R) + (kd * ACT__F_LN2LO + corr))) - f);
}
ACT_INLINE double act__log_core(double u, double kadj, double corr)
{
    uint64_t iu = act__d2u(u);
    uint64_t tmp = iu - 0x3fe6a09e667f3bcdull + 0x4000000000000000ull;
    uint64_t k = (tmp >> 52) - 1024u;
    double m = act__u2d(iu - (k << 52));
    double kd = (act__u2d(act__d2u(ACT__D_MAGIC) + k) - ACT__D_MAGIC) - kadj;
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (0x1.999999997ff04p-2 + w * (0x1.c71c521255e5ep-3 +
                     w * 0x1.39a1dabf62f64p-3));
    double t2 = z * (0x1.5555555555592p-1 + w * (0x1.24924941e33a5p-2 +
                     w * (0x1.74663d6867427p-3 + w * 0x1.2f04565c2ad89p-3)));
    double R = t2 + t1;
    double hfsq = 0.5 * f * f;
    return kd * ACT__D_LN2HI - ((hfsq - (s * (hfsq + R) + (kd * ACT__D_LN2LO + corr))) - f);
}
ACT_INLINE float act_logf(float x)
{
    int sub = x < 0x1p-126f;
    float u = sub ? x * 0x1p25f : x;
    float y = act__logf_core(u, sub ? 25.0f : 0.0f, 0.0f);
    y = x < INFINITY ? y : x + x;      /* NaN -> NaN, +inf -> +inf */
    y = x == 0.0f ? -INFINITY : y;
    y = x < 0.0f ? NAN : y;
    return y;
}
ACT_INLINE double act_log(double x)
{
    int sub = x < 0x1p-1022;
    double u = sub ? x * 0x1p54 : x;
    double y = act__log_core(u, sub ? 54.0 : 0.0, 0.0);
    y = x < INFINITY ? y : x + x;
    y = x == 0.0 ? -INFINITY : y;
    y = x < 0.0 ? NAN : y;
    return y;
}
ACT_INLINE float act_log1pf(float x)
{
    float u = 1.0f + x;
    float bv = u - x;
    float c = (x - (u - bv)) + (1.0f - bv);   /* 2Sum: u + c == 1 + x exactly */
    float y = act__logf_core(u, 0.0f, c / u);
    y = x < INFINITY ? y : x + x;
    y = x == 0.0f ? x : y;                    /* keeps -0 */
    y = x == -1.0f ? -INFINITY : y;
    y = x < -1.0f ? NAN : y;
    return y;
}
ACT_INLINE double act_log1p(double x)
{
    double u = 1.0 + x;
    double bv = u - x;
    double c = (x - (u - bv)) + (1.0 - bv);
    double y = act__log_core(u, 0.0, c / u);
    y = x < INFINITY ? y : x + x;
    y = x == 0.0 ? x : y;
    y = x == -1.0 ? -INFINITY : y;
    y = x < -1.0 ? NAN : y;
    return y;
}

/* ==================================================================== erf/erfc
 * (methods and fits: see the top comment; float first, then double) */
#define ACT__SEL(c, a, b) ((c) ? (a) : (b))
/* ---------------------------------------------------------------- float erf/erfc
 * Computed in double (a float |x| is exact in double, and so is a*a: 48 bits), rounded to float
 * once at the end:
 *   erfc(a) = exp(-a^2) * H(t) / (a + 3),  t = (a - 3)/(a + 3) in [-1, 1),  a = |x| <= 10.25
 * H(t) = (a+3) exp(a^2) erfc(a) is smooth and bounded in t on [-1, 1) (erfcx(a) ~ 1/(a sqrt(pi))
 * at infinity, the a+3 factor cancels that decay), so ONE polynomial covers a in [0, 10.1]
 * (results for a > 10.06 are 0 in float anyway):
 * degree 10, own minimax fit (mpmath Remez, relative error, coefficients rounded to double one
 * at a time with refits) on a in [0, 10.1]: rel err 2^-29.2.  exp(-a^2): -a^2 is exact, n =
 * round(-a^2/ln2), r = (-a^2 - n*LN2HI) - n*LN2LO with the first difference exact (both
 * multiples of 2^-48, |diff| < 0.35), e^r by an own degree-6 minimax fit (rel err 2^-29.0), and
 * 2^n added to the exponent field (the double product is normal down to n = -147).  One
 * division (1/(a+3)).  erfc(-a) = 2 - erfc(a) in double.  erf: |x| < 0.5 x*P(x^2) (own degree-5
 * minimax fit of erf(x)/x in x^2, rel err 2^-36.3), else sign*(1 - erfc(a)) (erf(a) >= 0.52
 * there, so the subtraction loses at most a factor 0.92 of erfc's relative accuracy).
 * Total relative error before the final rounding < 2^-28 -> 0.556 ulp in float (exhaustive). */
/* e^(a^2) erfc(a) = H(t)/(a+3) for a in [0, 10.25] (float accuracy) */
ACT_INLINE double act__erfcx_d(double a)
{
    double d = 1.0 / (a + 3.0);
    double t = (a - 3.0) * d;
    double h = 0x1.d67e7de74bbaep-18;
    h = h * t + -0x1.494905a6b01c1p-12;
    h = h * t + -0x1.fcb1a7bf8881ap-12;
    h = h * t + 0x1.928e000e1488dp-9;
    h = h * t + -0x1.41b4de13b54f3p-10;
    h = h * t + -0x1.b7b3a3cd52a39p-6;
    h = h * t + 0x1.e997962020f9cp-4;
    h = h * t + -0x1.3deae01ba7781p-2;
    h = h * t + 0x1.2e3266cc1e90bp-1;
    h = h * t + -0x1.c44c47ef726b8p-1;
    h = h * t + 0x1.12f21de0cb67bp+0;
    return h * d;
}
ACT_INLINE double act__erfc_pos_d(double a)     /* erfc(a), a >= 0 or NaN, float accuracy */
{
    a = a > 10.25 ? 10.25 : a;                  /* erfcf(10.25) < 2^-150 -> 0; NaN kept */
    double hd = act__erfcx_d(a);
    double e = -(a * a);                        /* exact */
    double tk = e * 1.4426950408889634074 + ACT__D_MAGIC;
    double kd = tk - ACT__D_MAGIC;
    uint64_t nb = (act__d2u(tk) - act__d2u(ACT__D_MAGIC)) << 52;   /* n in the exponent field */
    double r = (e - kd * ACT__D_LN2HI) - kd * ACT__D_LN2LO;
    double p = 0x1.6ab94b0b0e12ap-10;
    p = p * r + 0x1.126d1d3bf6408p-7;
    p = p * r + 0x1.55589ace92960p-5;
    p = p * r + 0x1.55540a5d871a3p-3;
    p = p * r + 0x1.fffffaae351c0p-2;
    p = p * r + 0x1.0000009c17c7fp+0;
    p = p * r + 0x1.0000000261e56p+0;
    return act__u2d(act__d2u(p * hd) + nb);
}
ACT_INLINE float act_erfcf(float x)
{
    double xd = (double)x;
    double ec = act__erfc_pos_d((double)act__absf(x));
    float y = (float)(xd < 0.0 ? 2.0 - ec : ec);
    return x == x ? y : x + x;   /* NaN: x's own payload, so the NaN sign/payload cannot depend
                                    on how the compiler ordered commutative operands (it did:
                                    SSE2 and AVX2 builds differed in the NaN sign bit) */
}
ACT_INLINE float act_erff(float x)
{
    double xd = (double)x;
    double z = xd * xd;
    double P = -0x1.9348dfd9a0aeep-11;
    P = P * z + 0x1.54cdedff20a96p-8;
    P = P * z + -0x1.b8200dc10fb17p-6;
    P = P * z + 0x1.ce2ef17af7ce3p-4;
    P = P * z + -0x1.8127466de9f1ep-2;
    P = P * z + 0x1.20dd75041ade8p+0;
    double a = (double)act__absf(x);
    double eb = 1.0 - act__erfc_pos_d(a);
    eb = xd < 0.0 ? -eb : eb;
    float y = (float)(a < 0.5 ? xd * P : eb);
    return x == x ? y : x + x;                  /* NaN: x's own payload (see act_erfcf) */
}
ACT_INLINE double act__erf_impl(double x, int want_erfc)
{
    double ax = act__abs(x);
    int inA = ax < 0.84375;
    int inB = ax < 1.25;
    double v = inA ? x * x : ax - 1.0;
    /* A: y(z) = erf(x)/x - 1, z = x^2, degree 11 (own minimax fit, abs err 2^-56.1 = the
       rounding of y(0) = 2/sqrt(pi) - 1).  B: erf(1+s) - ERX = c0 + c1*s + s*w, w = s*M(s),
       degree 13 in s (own minimax fit, error 2^-57.1 relative to erfc(1+s); c1 kept as
       26-bit hi + double lo so that c1*s is exact to 2^-80 in erfc_B = C0 - c1*s - s*w).
       Both share one degree-12 Horner with per-lane coefficients. */
    double P = ACT__SEL(inA, 0.0, 0x1.13bcc10637e8cp-15);
    P = P * v + ACT__SEL(inA, -0x1.e82d8d8e306f1p-31, -0x1.a679e05b9ee05p-13);
    P = P * v + ACT__SEL(inA, 0x1.e81ae19ac55a2p-27, 0x1.631b4681e623fp-14);
    P = P * v + ACT__SEL(inA, -0x1.5e1b61cd0b30fp-23, 0x1.418329d24e568p-10);
    P = P * v + ACT__SEL(inA, 0x1.b9c9f3bdb3374p-20, -0x1.ee2fcf3457744p-10);
    P = P * v + ACT__SEL(inA, -0x1.f4d0c217433e0p-17, -0x1.3911602d89b65p-8);
    P = P * v + ACT__SEL(inA, 0x1.f9a317b980e52p-14, 0x1.f096fd638c499p-7);
    P = P * v + ACT__SEL(inA, -0x1.c02db3a081334p-11, 0x1.2e45a5c02ccb7p-8);
    P = P * v + ACT__SEL(inA, 0x1.565bcd0ceccd8p-8, -0x1.1b614b0f70f25p-4);
    P = P * v + ACT__SEL(inA, -0x1.b82ce31281b1dp-6, 0x1.1b614b0f497a5p-4);
    P = P * v + ACT__SEL(inA, 0x1.ce2f21a042ad1p-4, 0x1.1b614b0f529e8p-3);
    P = P * v + ACT__SEL(inA, -0x1.812746b0379e6p-2, -0x1.a911f096fbc10p-2);
    P = P * v + ACT__SEL(inA, 0x1.06eba8214db69p-3, 0.0);
    double w = P;                            /* A: y ; B: s*M(s) */
    const double b0 = -0x1.d5d5041303a5ap-56, b1 = 0x1.a911f096fbc25p-2;
    const double b1h = 0x1.a911f08p-2, b1l = 0x1.6fbc2552de046p-30;  /* b1h: 26 bits */
    double sw = v * w;
    double y = inA ? w : (b0 + b1 * v) + sw;
    const double erx = 0x1.af767a741088bp-1;   /* erf(1) rounded to double */
    /* C: erfc = exp(-x^2 - 0.5625 + R/S(1/x^2))/x, R/S = log(x erfc(x)) + x^2 + 0.5625: own
       rational minimax fits (linearised rational Remez, mpmath; S rounded first, then R
       refitted and rounded term by term): [1.25, 1/0.35] degree 7/8, abs err 2^-59.9;
       [1/0.35, 28.5] degree 6/7, 2^-59.3 */
    double xc = inB ? 2.0 : ax;
    xc = xc > 28.0 ? 28.0 : xc;                 /* erfc(28) < 2^-1075 -> 0 */
    double sv = 1.0 / (xc * xc);
    int inCa = xc < 2.857142857142857;
    double R = ACT__SEL(inCa, -0x1.39f2548b8e116p+3, 0.0);
    R = R * sv + ACT__SEL(inCa, -0x1.4512a6f90513dp+6, -0x1.e379a50e63fe8p+8);
    R = R * sv + ACT__SEL(inCa, -0x1.7127f8613920dp+7, -0x1.0043b70dbc981p+10);
    R = R * sv + ACT__SEL(inCa, -0x1.44c43ce5cc3a1p+7, -0x1.3ec816870e6e8p+9);
    R = R * sv + ACT__SEL(inCa, -0x1.f2fb8867bb18fp+5, -0x1.41468df3c75e4p+7);
    R = R * sv + ACT__SEL(inCa, -0x1.51def0af2f50ap+3, -0x1.1c2154f8fae6ap+4);
    R = R * sv + ACT__SEL(inCa, -0x1.634121f2d6dd2p-1, -0x1.993c0ad66d7ffp-1);
    R = R * sv + ACT__SEL(inCa, -0x1.434126004312dp-7, -0x1.4341239e86f49p-7);
    double S = ACT__SEL(inCa, -0x1.eeb68d6f5c8c1p-5, 0.0);
    S = S * sv + ACT__SEL(inCa, 0x1.a454d7a7af331p+2, -0x1.66f92d7b9a355p+4);
    S = S * sv + ACT__SEL(inCa, 0x1.b26add5b77a40p+6, 0x1.da798290a56b8p+8);
    S = S * sv + ACT__SEL(inCa, 0x1.aced098fcd6fdp+8, 0x1.3f1c7703d6cf6p+11);
    S = S * sv + ACT__SEL(inCa, 0x1.42a786a3c3aa1p+9, 0x1.8ff8e7b39a7b3p+11);
    S = S * sv + ACT__SEL(inCa, 0x1.b28913dadce99p+8, 0x1.802e93f198e6ep+10);
    S = S * sv + ACT__SEL(inCa, 0x1.134e5b103eaabp+7, 0x1.45cbb6e150e05p+8);
    S = S * sv + ACT__SEL(inCa, 0x1.3a6aa9fb5ab5ap+4, 0x1.e569ee7ee0541p+4);
    S = S * sv + 1.0;
    double z = act__u2d(act__d2u(xc) & 0xffffffff00000000ull);
    act__redd o = act__exp_reduce2(-(z * z), -0.5625, R / S, (z - xc) * (z + xc));
    double ms = 1.0 + o.r, me = (1.0 - ms) + o.r;          /* 1 + r + q as hi + lo */
    double mt = o.q + (me + (o.rlo + o.rlo * o.r));
    double mh = ms + mt, ml = (ms - mh) + mt;
    double ec = act__scale(act__ddiv(mh, ml, xc), o.n1, o.n2); /* one rounding, then 2^n */
    if (want_erfc) {
        /* A, x >= 1/4: 0.5 - ((x-0.5) + x*y) with x*y exact (act__two_prod) and 2Sum, and y itself
           rebuilt in double-word for its last Horner step y = y0 + z*R1(z), because y0 + z*R1
           cancels (0.128 - 0.24) near x = 0.84 */
        double zh, zl;
        act__two_prod(x, x, &zh, &zl); /* x^2 exact */
        double R2 = -0x1.e82d8d8e306f1p-31;
        R2 = R2 * zh + 0x1.e81ae19ac55a2p-27;
        R2 = R2 * zh + -0x1.5e1b61cd0b30fp-23;
        R2 = R2 * zh + 0x1.b9c9f3bdb3374p-20;
        R2 = R2 * zh + -0x1.f4d0c217433e0p-17;
        R2 = R2 * zh + 0x1.f9a317b980e52p-14;
        R2 = R2 * zh + -0x1.c02db3a081334p-11;
        R2 = R2 * zh + 0x1.565bcd0ceccd8p-8;
        R2 = R2 * zh + -0x1.b82ce31281b1dp-6;
        R2 = R2 * zh + 0x1.ce2f21a042ad1p-4;
        /* R1 = c1 + z*R2 as double-word too (its rounding was ~0.5 ulp of erfc at x = 0.84) */
        double q2, q2e;
        act__two_prod(zh, R2, &q2, &q2e);
        q2e += zl * R2;
        const double a1 = -0x1.812746b0379e6p-2;
        double R1 = a1 + q2, R1l = ((a1 - R1) + q2) + q2e;    /* Fast2Sum, |a1| > |q2| */
        double pr, pre;
        act__two_prod(zh, R1, &pr, &pre);
        const double y0 = 0x1.06eba8214db69p-3, y0l = -0x1.27911dd6363bbp-57; /* fitted y0
                                   as double-word: its rounding alone was 0.4 ulp at x = 0.84 */
        double yq = y0 + pr, rb = yq - y0;                     /* y = yq + yl */
        double yl = ((y0 - (yq - rb)) + (pr - rb)) + (pre + ((zl * R1 + zh * R1l) + y0l));
        double ph, pe;
        act__two_prod(x, yq, &ph, &pe);
        pe += x * yl;
        double xm = x - 0.5;
        double s1 = xm + ph, bb = s1 - xm;
        double e1 = (xm - (s1 - bb)) + (ph - bb);
        double h1 = 0.5 - s1, l1 = (0.5 - h1) - s1;
        double rA = x < 0.25 ? 1.0 - (x + x * y) : h1 + (l1 - (e1 + pe));
        /* B, x > 0: C0 - b1*s - s*w, b1*s exact */
        double mh1, me1;
        act__two_prod(b1h, v, &mh1, &me1);
        me1 += b1l * v;
        const double C0h = 0x1.4226162fbddd5p-3, C0l = -0x1.5157df67e2d30p-59; /* 1-erx-b0 */
        double h2 = C0h - mh1, l2 = (C0h - h2) - mh1;          /* Fast2Sum, C0h > b1*s */
        double rBp = h2 + (((l2 + C0l) - me1) - sw);
        double rB = x > 0.0 ? rBp : 1.0 + (erx + y);
        double rC = x > 0.0 ? ec : 2.0 - ec;
        return inA ? rA : (inB ? rB : rC);
    } else {
        double rA = x + x * y;
        double rB = erx + y;
        double rC = 1.0 - ec;
        rB = x < 0.0 ? -rB : rB;       /* (sign-bit OR blocked SSE2 vectorisation here) */
        rC = x < 0.0 ? -rC : rC;
        return inA ? rA : (inB ? rB : rC);
    }
}
ACT_INLINE double act_erf(double x) { return act__erf_impl(x, 0); }
ACT_INLINE double act_erfc(double x) { return act__erf_impl(x, 1); }
#undef ACT__SEL

#endif /* ACTCORE_VMATH_H */
