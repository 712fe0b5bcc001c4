/* One scalar formula per op and kind: a template, included once per compute type.
 *
 * The includer defines, before each inclusion:
 *   W        the compute type (float or double)
 *   WS       the name suffix: wf (float, for float32 and float16 results), wd (double, for
 *            float64 results).  Both carry arguments in double-word arithmetic where a tail needs
 *            it and keep subnormal results exact.
 *   FAST     1 for wf: float32 results computed in float with vmathf.h (fma where the target
 *            has it, SPEC §5 lets the no-FMA path differ within the bounds); the formulas
 *            marked `#if FAST` are cheaper forms whose error budget float32 affords
 *   FMA(a,b,c)  a fused multiply-add where FAST and the target has one, else a*b+c
 *   EXP EXPNEG EXPM1 LOG1P TANH TANH_ACC LOG1P_UNIT EXP_TAIL  the math functions of that type
 *            (EXPNEG: for arguments <= 0; LOG1P_UNIT: for arguments in [0, 1]; EXP_TAIL(x, xl):
 *            e^(x+xl) for a small tail xl; TANH_ACC: a tanh whose error may be doubled, for
 *            tanh^2, where TANH trades accuracy for speed)
 *
 * Every formula has the uniform signature
 *   fwd : W act_<op>_fwd_<WS>(W x, W a, W b)          a, b: the op's parameters (unused ones 0)
 *   grad: W act_<op>_grad_<WS>(W dy, W x, W a, W b)   dL/dx
 *   gout: W act_<op>_gout_<WS>(W dy, W y, W a, W b)   dL/dx from the forward output y
 * so that eltwise.c can stamp out every kernel from ops.def with one macro.
 *
 * Rules every formula follows (see SPEC.md §1, §2):
 * - branch-free: `c ? a : b` only, so gcc turns it into a blend and vectorises the loop;
 *   no fmin/fmax (their NaN rules stop gcc vectorising without -ffinite-math-only);
 * - NaN in x gives NaN out, for forward and gradient alike: comparisons are written so that
 *   a NaN falls through to the arithmetic branch, or NZ() passes it on explicitly;
 * - ±inf give the limits: products whose factor underflows to 0 use MULZ so inf*0 is not NaN;
 * - the stable forms of SPEC §2 (e^-|x| for sigmoid, log1p/expm1 where they matter).
 * Kinks follow PyTorch (relu'(0)=0, hardtanh'=0 on the bounds, leaky'(0)=slope, elu'(0)=alpha).
 */
#ifndef W
#error "formulas_t.h is a template: define W, WS and the math macros first (see eltwise.c)"
#endif

#define F_CAT_(a, b, c) act_##a##_##b##_##c
#define F_CAT(a, b, c) F_CAT_(a, b, c)
#define FWD(op) ACT_INLINE W F_CAT(op, fwd, WS)(W x, W a, W b)
#define GRAD(op) ACT_INLINE W F_CAT(op, grad, WS)(W dy, W x, W a, W b)
#define GOUT(op) ACT_INLINE W F_CAT(op, gout, WS)(W dy, W y, W a, W b)
#define UNUSED_AB ((void)a, (void)b)
#define K(c) ((W)(c))
/* |v| by clearing the sign bit: one op where `v < 0 ? -v : v` is a compare, a negation and a
 * blend (ABS(-0) is +0 now, which no formula distinguishes: each takes e^-|v|, 1 + |v| or |v| < c) */
#if FAST
#define ABS(v) act__absf(v)
#else
#define ABS(v) act__abs(v)
#endif
/* NaN-preserving select: v unless x is NaN */
#define NZ(x, v) ((x) == (x) ? (v) : (x))
/* x*s where s may have underflowed to 0 and x may be infinite: the limit is a signed 0 */
#define MULZ(x, s) ((s) == 0 ? ((x) < 0 ? K(-0.0) : K(0.0)) : (x) * (s))

/* sigmoid and sigmoid(-x) from t = e^-|x| (never overflows), one division each:
 * s = 1/(1+t) for x >= 0, t/(1+t) below */
ACT_INLINE W F_CAT(sig, pos, WS)(W x)
{
    W t = EXPNEG(-ABS(x));
    return (x >= 0 ? K(1) : t) / (K(1) + t);
}
ACT_INLINE W F_CAT(sig, neg, WS)(W x) /* sigmoid(-x) */
{
    W t = EXPNEG(-ABS(x));
    return (x >= 0 ? t : K(1)) / (K(1) + t);
}
#define SIG(x) F_CAT(sig, pos, WS)(x)
#define SIGN_(x) F_CAT(sig, neg, WS)(x)
/* both, from one exp and one division: *s = sigmoid(u), *sn = sigmoid(-u) */
ACT_INLINE void F_CAT(sig, pair, WS)(W u, W *s, W *sn)
{
    W t = EXPNEG(-ABS(u));
    W rd = K(1) / (K(1) + t);
    *s = u >= 0 ? rd : t * rd;
    *sn = u >= 0 ? t * rd : rd;
}
#define SIG_PAIR(u, s, sn) F_CAT(sig, pair, WS)(u, s, sn)

/* Error-free transforms (fma or Dekker/Veltkamp for products, Knuth for sums), for the formulas whose
 * argument must be carried beyond working precision: p + e == a*b and s + e == a + b exactly
 * (for |a|, |b| well inside the range: callers clamp). */
ACT_INLINE void F_CAT(two, prod, WS)(W a, W b, W *p, W *e)
{
#if FAST
    act__two_prodf(a, b, p, e); /* fma where the target has one */
#else
    act__two_prod(a, b, p, e); /* the same: the exact error either way (vmath.h) */
#endif
}
ACT_INLINE void F_CAT(two, sum, WS)(W a, W b, W *s, W *e)
{
    *s = a + b;
    W bb = *s - a;
    *e = (a - (*s - bb)) + (b - bb);
}

/* x * sigmoid(u + du), with one exp.  du is the rounding error of the argument u, carried by
 * swish and gelu_tanh: sigmoid(u + du) = sigmoid(u)(1 + du sigmoid(-u)), and in the tail, where
 * sigmoid(u) ~ e^u, an unrounded u matters (1e-13 relative at u = -700).  Where sigmoid(u) = e^u
 * is subnormal (u < -80 in float,
 * -700 in double) x*sigmoid(u) would multiply its lost bits by |x|: there the exp is taken of
 * u - deep, exact by Sterbenz's lemma for deep/2 >= u >= 2 deep, and the product is scaled by
 * the normal constant e^deep last, so only the final product rounds into the subnormals. */
/* where the tail form starts (e^u subnormal) and e^deep, shared by XSIG and XSIG0 */
#define XSIG_DEEP (sizeof(W) == 4 ? K(-80) : K(-700))
#define XSIG_EDEEP (sizeof(W) == 4 ? K(1.8048513285848406e-35) : K(9.85967654375977e-305))
ACT_INLINE W F_CAT(xsig, dd, WS)(W x, W u, W du)
{
#if FAST
    /* the same in float with one exp and one division: e64 = e^-|u| 2^64 stays normal down to
     * u = -131 (vmathf.h), so for u < 0 the quotient x*e64/(1+e) is formed first and only the
     * final *2^-64 rounds into the subnormals.  Beyond u = -131, e^u is taken as 0 (|x| e^u
     * is below the smallest subnormal for |x| < 1e12) and x is clamped so inf*0 is not NaN.
     * du is applied where it matters, u < 0, with sigmoid(-u) ~ 1 - e: the correction itself
     * is a few ulp, so its first order is plenty; folded away for a constant du = 0. */
    W e64, e = act__fexpneg_pair(ABS(u), &e64);
    W xc = act__fclamp(x, K(-1e30), K(1e30)); /* a NaN x makes u, so e, NaN */
    W y = (u >= 0 ? x : xc * e64) / (K(1) + e);
    W yc = du == 0 ? y : FMA(y, du * (K(1) - e), y);
    return u >= 0 ? y : yc * K(0x1p-64);
#else
    const W deep = XSIG_DEEP, edeep = XSIG_EDEEP;
    /* one exp for both branches: e^-|u|, or e^(u - deep) in the tail */
    W e = EXP(u < deep ? u - deep : -ABS(u));
    W r = K(1) / (K(1) + e);
    W s = u >= 0 ? r : e * r;  /* sigmoid(u) */
    W sn = u >= 0 ? e * r : r; /* sigmoid(-u) */
    W y = MULZ(x, s * (K(1) + du * sn));
    /* the scale is 1 outside the tail: multiplying the discarded lanes by e^deep would make
     * them subnormal, and every subnormal product costs a microcode assist (silu ran 14.7
     * instead of 2.3 ns/element) */
    W scale = u < deep ? edeep : K(1);
    W yt = MULZ(MULZ(x * (K(1) + du), e), scale); /* x = -inf gives -0, not NaN */
    return u < deep ? yt : y;
#endif
}
#define XSIG(x, u, du) F_CAT(xsig, dd, WS)(x, u, du)
/* x sigmoid(x) (silu; swish at beta = 1): XSIG with u = x and du = 0, as one quotient
 * (x >= 0 ? x : x e) / (1 + e), e = e^-|x|, one rounding fewer than x (1/(1 + e)), and
 * without XSIG's du terms (0 du is not 0 to the compiler: it kept them) or its second MULZ.
 * The tail (x < -700, e subnormal) as in XSIG: e^(x - deep), the quotient's denominator 1,
 * scaled by e^deep last.  float64 silu in cache, one thread: 1.90 -> 1.25 ns/element
 * (bench/results/ab_2026-12-05m.md), max error 2.75 -> 2.38 ulp (docs/accuracy.md). */
ACT_INLINE W F_CAT(xsig0, dd, WS)(W x)
{
#if FAST
    return XSIG(x, x, K(0));
#else
    const W deep = XSIG_DEEP, edeep = XSIG_EDEEP;
    const int tail = x < deep;
    W e = EXP(tail ? x - deep : -ABS(x));
    W num = x >= 0 ? x : MULZ(x, e); /* x = -inf: e = 0, the limit -0 */
    W y = num / (K(1) + (tail ? K(0) : e));
    return tail ? y * edeep : y;
#endif
}
#define XSIG0(x) F_CAT(xsig0, dd, WS)(x)

/* (x sigmoid(u)) m, for the GLU family (glu: x = a, u = b, m = 1; swiglu: x = u = a, m = b).
 * Where sigmoid(u) is subnormal (u < -80 in float, -700 in double), x sigmoid(u) m with the
 * sigmoid rounded first would multiply its lost bits by |x m| (glu float32: 160 ULP off at
 * b = -95, a = 100), so there x e^u m is formed on a normal scale and scaled into place last:
 * float e^-|u| 2^64 (normal down to u = -131, beyond which the result is 0), double
 * e^(u + 700) with the 2^-600 of the scale applied before m, so that no product over- or
 * underflows on the way for the two uses (glu: m = 1; swiglu: x = u, so |x| <= 745).
 * Elsewhere x e^-|u| / (1 + e^-|u|) (or x / (...) for u >= 0), times m.  inf * 0 is NaN, as
 * in PyTorch (silu_mul keeps silu's limit at -inf). */
ACT_INLINE W F_CAT(mulsig, fwd, WS)(W x, W u, W m)
{
#if FAST
    W e64, e = act__fexpneg_pair(ABS(u), &e64);
    const W deep = K(-80), scale = K(0x1p-64);
    W num = u >= 0 ? x : x * (u < deep ? e64 : e);
    W y = (num / (K(1) + e)) * m;
#else
    const W deep = K(-700);
    const W scale = K(9.85967654375977e-305) * K(0x1p600); /* e^-700 2^600, exact */
    W e = EXP(u < deep ? u - deep : -ABS(u)); /* e^(u + 700) in the tail */
    W num = u >= 0 ? x : x * e;
    W y = (u < deep ? num * K(0x1p-600) : num / (K(1) + e)) * m;
#endif
    return u < deep ? y * scale : y;
}
/* silu(x) m (swiglu: m = b), as mulsig; silu(-inf) = -0, its limit, so -inf gives -0 * m rather
 * than the NaN of -inf * 0 */
ACT_INLINE W F_CAT(silu, mul, WS)(W x, W m)
{
    W y = F_CAT(mulsig, fwd, WS)(x, x, m);
    return x == -INFINITY ? K(-0.0) * m : y;
}

/* ---- sigmoid ---- */
FWD(sigmoid) { UNUSED_AB; return SIG(x); }
GRAD(sigmoid)
{
    UNUSED_AB;
    W t = EXPNEG(-ABS(x)); /* s' = t/(1+t)^2: no cancellation in either tail */
    W d = K(1) + t;
    return dy * (t / (d * d));
}
GOUT(sigmoid) { UNUSED_AB; return dy * ((K(1) - y) * y); }

/* ---- log_sigmoid = min(x,0) - log1p(e^-|x|) ---- */
FWD(log_sigmoid)
{
    UNUSED_AB;
    W m = x > 0 ? K(0) : x;
    return m - LOG1P_UNIT(EXPNEG(-ABS(x)));
}
GRAD(log_sigmoid) { UNUSED_AB; return dy * SIGN_(x); }

/* ---- tanh ---- */
FWD(tanh) { UNUSED_AB; return TANH(x); }
GRAD(tanh)
{
    UNUSED_AB;
    /* sech^2 x = 4t/(1+t)^2 with t = e^-2|x|: 1 - tanh^2 would cancel in saturation */
    W t = EXPNEG(K(-2) * ABS(x));
    W d = K(1) + t;
    return dy * ((K(4) * t) / (d * d));
}
GOUT(tanh) { UNUSED_AB; return dy * (K(1) - y * y); }

/* ---- relu ---- */
FWD(relu) { UNUSED_AB; return x <= 0 ? K(0) : x; }
GRAD(relu) { UNUSED_AB; return NZ(x, x > 0 ? dy : K(0)); }
GOUT(relu) { UNUSED_AB; return NZ(y, y > 0 ? dy : K(0)); }

/* ---- relu6 = hardtanh(x, 0, 6) as in PyTorch, so relu6'(0) = relu6'(6) = 0 ---- */
FWD(relu6) { UNUSED_AB; return x <= 0 ? K(0) : (x > 6 ? K(6) : x); }
GRAD(relu6) { UNUSED_AB; return NZ(x, (x <= 0 || x >= 6) ? K(0) : dy); }
GOUT(relu6) { UNUSED_AB; return NZ(y, (y <= 0 || y >= 6) ? K(0) : dy); }

/* ---- leaky_relu(x, slope) ---- */
FWD(leaky_relu) { (void)b; return x > 0 ? x : a * x; }
GRAD(leaky_relu) { (void)b; return NZ(x, x > 0 ? dy : dy * a); }
GOUT(leaky_relu) { (void)b; return NZ(y, y > 0 ? dy : dy * a); } /* needs slope >= 0 */

/* ---- elu(x, alpha) ---- */
FWD(elu)
{
    (void)b;
    W xn = x > 0 ? K(0) : x; /* keeps expm1 off the overflow side; NaN stays NaN */
    return x > 0 ? x : a * EXPM1(xn);
}
GRAD(elu)
{
    (void)b;
    W xn = x > 0 ? K(0) : x;
    /* e^xn is used in every lane (e^0 = 1 where x > 0): with `x > 0 ? dy : dy a e^xn` gcc took
     * e^xn as free there, merged the two selects into the exp's clamp and fed those lanes -131,
     * whose e^-131 underflows: a microcode assist per vector, 3x slower for positive x */
    return dy * ((x > 0 ? K(1) : a) * EXPNEG(xn));
}
GOUT(elu) { (void)b; return y > 0 ? dy : dy * (y + a); } /* needs alpha >= 0 */

/* ---- selu ---- */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
FWD(selu)
{
    UNUSED_AB;
    W xn = x > 0 ? K(0) : x;
    return x > 0 ? K(SELU_SCALE) * x : K(SELU_SCALE * SELU_ALPHA) * EXPM1(xn);
}
GRAD(selu)
{
    UNUSED_AB;
    W xn = x > 0 ? K(0) : x;
    return dy * ((x > 0 ? K(SELU_SCALE) : K(SELU_SCALE * SELU_ALPHA)) * EXPNEG(xn)); /* as elu' */
}

/* ---- celu(x, alpha) = max(0,x) + min(0, alpha*expm1(x/alpha)); alpha != 0 ---- */
FWD(celu)
{
    (void)b;
    W xn = x > 0 ? K(0) : x;
    return x > 0 ? x : a * EXPM1(xn / a);
}
GRAD(celu)
{
    (void)b;
    W xn = x > 0 ? K(0) : x;
    /* alpha = 1: elu' (e^0 = 1 for x > 0: the exp used in every lane, see elu'); see softplus
     * for the a == 1 branches */
    if (a == K(1)) return dy * EXPNEG(xn);
#if FAST
    /* as below, but the residual is taken of the unclamped q (q alpha ~ x cannot overflow) and
     * bounded instead of tested, and q clamped by integer min (act__fclamp): 2^16 elements on
     * 1 thread 3.35 -> 1.17 ns/element (bench/results), <= 1.2 ulp (alpha = 1, 0.3, 2; a third
     * of all float32 inputs) */
    W ra = K(1) / a;
    W q = xn * ra;
    W p, pe;
    F_CAT(two, prod, WS)(q, a, &p, &pe);
    W ql = act__fclamp(((xn - p) - pe) * ra, K(-0x1p-10), K(0x1p-10)); /* inf, NaN: bounded */
    act__fexp_t o = act__fexpf_core(act__fclamp(q, K(-104), K(89)), ql);
    W r = x > 0 ? dy : dy * act__fscale2(K(1) + o.v, o.n);
    return x == x ? r : x;
#else
    /* x/alpha carried as q + ql, q = x * (1/alpha) and ql from q's exact residual x - q*alpha:
     * e^(x/alpha) has |x/alpha| times the relative error of its argument (64 ULP at alpha = 0.3
     * with x/alpha merely rounded).  1/alpha is loop-invariant for a scalar alpha, so no division
     * per element. */
    W ra = K(1) / a;
    W q = xn * ra;
    W qc = q < K(-1e4) ? K(-1e4) : (q > K(1e4) ? K(1e4) : q);
    W p, pe;
    F_CAT(two, prod, WS)(qc, a, &p, &pe);
    W ql = ((xn - p) - pe) * ra;
    ql = ABS(q) < K(1e4) ? ql : K(0); /* clamped, infinite or NaN: no tail */
    return x > 0 ? dy : dy * EXP_TAIL(qc, ql);
#endif
}

/* ---- gelu, tanh approximation: 0.5x(1+tanh(u)) = x*sigmoid(2u), u = sqrt(2/pi)(x+0.044715x^3);
 * the sigmoid form has no 1+tanh cancellation in the negative tail ---- */
#define GELU_KBETA 0.79788456080286535587989211986876 /* sqrt(2/pi) */
#define GELU_KAPPA 0.044715
FWD(gelu_tanh)
{
    UNUSED_AB;
#if FAST
    return act__gelu_tanh_fwd_f(x); /* formulas.h */
#else
    /* u2 = C (x + kappa x^3), C = 2 sqrt(2/pi), in double-word arithmetic: the constants'
     * own rounding and that of x^3 would otherwise cost ~850 ULP at x = -21 (double) */
    W xc = x < K(-1e4) ? K(-1e4) : (x > K(1e4) ? K(1e4) : x);
    const W c_hi = K(1.5957691216057308), c_lo = K(-9.96930880911092e-17);
    const W k_hi = K(0.044715), k_lo = K(2.1960211427085595e-18);
    W x2, e2, x3, e3, t, et, s, es, u, eu;
    F_CAT(two, prod, WS)(xc, xc, &x2, &e2);
    F_CAT(two, prod, WS)(x2, xc, &x3, &e3);
    e3 += e2 * xc;
    F_CAT(two, prod, WS)(k_hi, x3, &t, &et);
    et += k_hi * e3 + k_lo * x3;
    F_CAT(two, sum, WS)(xc, t, &s, &es);
    es += et;
    F_CAT(two, prod, WS)(c_hi, s, &u, &eu);
    eu += c_hi * es + c_lo * s;
    return XSIG(x, u, eu);
#endif /* FAST */
}
GRAD(gelu_tanh)
{
    UNUSED_AB;
#if FAST
    return act__gelu_tanh_grad_f(dy, x); /* formulas.h */
#else
    /* d/dx x*s(2u) = s(2u) * (1 + 2x * s(-2u) * u'), u' = kbeta(1 + 3 kappa x^2).
     * |x| is clamped at 1e4 where s(+-2u) is exactly 0 or 1, so inf never meets 0. */
    W xc = x < K(-1e4) ? K(-1e4) : (x > K(1e4) ? K(1e4) : x);
    W u2 = K(2 * GELU_KBETA) * (xc + K(GELU_KAPPA) * xc * xc * xc);
    W du = K(GELU_KBETA) * (K(1) + K(3 * GELU_KAPPA) * xc * xc);
    return dy * (SIG(u2) * (K(1) + K(2) * xc * SIGN_(u2) * du));
#endif
}

/* ---- silu = x*sigmoid(x); swish(x, beta) = x*sigmoid(beta x) ---- */
FWD(silu) { UNUSED_AB; return XSIG0(x); }
/* s(u)(1 + u s(-u)) = d/dx x s(beta x) at u = beta x (silu: beta = 1), both sigmoids from one
 * exp and one division */
ACT_INLINE W F_CAT(xsig, grad, WS)(W dy, W u)
{
    W s, sn;
    SIG_PAIR(u, &s, &sn);
#if FAST
    /* u clamped instead of the MULZ tests (a NaN u makes s NaN) */
    return dy * (FMA(act__fclamp(u, K(-1e30), K(1e30)), sn, K(1)) * s);
#else
    /* MULZ keeps the infinite ends at their limits (1 and 0) */
    return dy * MULZ(K(1) + MULZ(u, sn), s);
#endif
}
GRAD(silu) { UNUSED_AB; return F_CAT(xsig, grad, WS)(dy, x); }
FWD(swish)
{
    (void)b;
    if (a == K(1)) return XSIG0(x); /* silu: see softplus for the a == 1 branches */
    /* beta*x carried exactly (u + du): see XSIG; |x| clamped so the split cannot overflow */
    W xc = x < K(-1e15) ? K(-1e15) : (x > K(1e15) ? K(1e15) : x);
    W u, du;
    F_CAT(two, prod, WS)(a, xc, &u, &du); /* a NaN x: u and du NaN, and so is the result */
    return XSIG(x, u, du);
}
GRAD(swish) { (void)b; return F_CAT(xsig, grad, WS)(dy, a * x); }

/* ---- mish = x*tanh(softplus(x)).  With n = e^x, tanh(log(1+n)) = n(n+2)/(n(n+2)+2): one exp,
 * no cancellation; x is clamped at 40 for n (tanh(softplus(40)) is 1 in double too). ---- */
FWD(mish)
{
    UNUSED_AB;
#if FAST
    /* one exp, one division, from m = e^-|x|: x >= 0: tanh(softplus x) = (1+2m)/(1+2m+2m^2);
     * x < 0: m(m+2)/(m(m+2)+2) with m*2^64 (vmathf.h) in the numerator and the 2^-64 applied
     * last, so x m (m+2)/... rounds once into the subnormals (the deep tail is x e^x) */
    W m64, m = act__fexpneg_pair(ABS(x), &m64);
    W xc = act__fclamp(x, K(-1e30), K(1e30)); /* -inf * 0 would be NaN; NaN: m is NaN */
    W q = FMA(m, m, m + m);             /* m^2 + 2m */
    W num = x >= 0 ? FMA(K(2), m, K(1)) : (xc * m64) * (m + K(2));
    W den = x >= 0 ? FMA(K(2), m * m, FMA(K(2), m, K(1))) : q + K(2);
    W y = num / den;
    return x >= 0 ? x * y : y * K(0x1p-64); /* NaN: x >= 0 is false, y is NaN */
#else
    W n = EXP(x > 40 ? K(40) : x);
    W N = n * (n + K(2));
    /* deep tail: tanh(softplus(x)) = e^x to working precision; x e^x as in XSIG */
    W yt = XSIG(x, x, K(0));
    return x < (sizeof(W) == 4 ? K(-80) : K(-700)) ? yt : MULZ(x, N / (N + K(2)));
#endif
}
GRAD(mish)
{
    UNUSED_AB;
#if FAST
    /* from m = e^-|x|, the general form below divided through by n^4 (x >= 0, n = 1/m) or with
     * n = m (x < 0), with dq = 1 + 2m + 2m^2 (x >= 0):
     *   x >= 0: 1 + m^2 (4x (1+m) - 2 dq) / dq^2   (a small correction to 1: its roundings damp)
     *   x < 0:  m ((m + 4) m + 6 + 4x) m + 4 + 4x) / (m^2 + 2m + 2)^2
     * The x < 0 numerator is one Horner in m whose last step adds 4 + 4x, so next to the root of
     * mish' (x = -1.1919), where it cancels, the error is that of its small rest and of m
     * (measured below 8e-9 per unit of dy; the form N D + 4 x n (1+n) in float: 5e-8, which had
     * kept this gradient in double).  The squared denominator is expanded, 4 + 8m + 8m^2 + 4m^3
     * + m^4, so that its roundings damp as well (squaring a rounded m^2 + 2m + 2 cost 2 ulp).
     * Measured over a third of all float32 inputs: <= 2.3 ulp for x >= 0, <= 3.8 ulp for
     * x < -1.25; 2^16 elements on 1 thread 1.71 ns/element (7.94 in double, bench/results). */
    W m64, m = act__fexpneg_pair(ABS(x), &m64);
    W x4 = K(4) * act__fclamp(x, K(-1e30), K(1e30)); /* inf * 0 would be NaN */
    W dq = FMA(FMA(K(2), m, K(2)), m, K(1));
    W cp = (m * m) * (FMA(x4, m, x4) - K(2) * dq);
    W nn = FMA(FMA(m + K(4), m, K(6) + x4), m, K(4) + x4) * m64;
    W d2 = FMA(FMA(FMA(m + K(4), m, K(8)), m, K(8)), m, K(4));
    W q = x >= 0 ? cp / (dq * dq) : nn / d2;
    W r = x >= 0 ? K(1) + q : q * K(0x1p-64);
    return dy * (x == x ? r : x);
#else
    /* tanh(sp) + x sech^2(sp) sigmoid(x) = N/D + 4 x n (1+n) / D^2, D = N + 2 */
    /* n is clamped where D^2 = e^(4 clamp) still fits: e^80 in float, e^160 in double; the
     * dropped term 4x/n^2 is then below half an ULP of 1 for |x| <= 1e4 */
    W xc = x < K(-1e4) ? K(-1e4) : (x > K(1e4) ? K(1e4) : x);
    W nclamp = sizeof(W) == 4 ? K(20) : K(40);
    W n = EXP(xc > nclamp ? nclamp : xc);
    W N = n * (n + K(2));
    W D = N + K(2);
    /* one fraction, (N D + 4 x n (n+1)) / D^2: the two terms of the sum cancel towards the
     * root of mish' at x = -1.19, and rounding them separately cost up to 14 ULP there */
    W g = ((N * D + K(4) * xc * n * (K(1) + n)) / D) / D;
    return dy * g;
#endif
}

/* ---- softplus(x, beta, threshold) = log1p(e^(beta x))/beta, x where beta x > threshold ---- */
/* u = beta*x rounded (it may overflow to +-inf) and ul its exact error (u + ul = beta x) where
 * |x| < 1e15, so that the error-free product's split cannot overflow; beyond, ul = 0, which
 * matters only where softplus ~ e^u (|u| < 104 in float, 745 in double: |beta| < 1e-13 there).
 * In the tail softplus(u) ~ e^u has |u| times the relative error of u: 64 ULP at beta = 1.7
 * with u merely rounded.  (x was clamped at 1e15 before: softplus(1e20, 1.0000001, inf) gave
 * 1e15, and an infinite x with a tiny beta a finite result.) */
ACT_INLINE W F_CAT(softplus, arg, WS)(W x, W a, W *ul)
{
    int big = ABS(x) >= K(1e15);
    W p, e;
    F_CAT(two, prod, WS)(a, big ? K(0) : x, &p, &e);
    *ul = big || !(e - e == 0) ? K(0) : e; /* e infinite or NaN: a beta x that overflows */
    return big ? a * x : p;
}
/* beta x = +inf: softplus is x (whatever the threshold; inf - inf would make the formula NaN) */
#define SP_POSINF(u) ((u) > (sizeof(W) == 4 ? K(3.4028234663852886e38) : K(1.7976931348623157e308)))
FWD(softplus)
{
    if (a == K(1)) {
        /* beta = 1 (PyTorch's default): u = x exactly, no tail, no division by beta.  The
         * kernels run a scalar first parameter of 1 as a constant (eltwise.c), so this branch
         * is the whole loop there and folds away from the other loop (whose condition A == 1
         * is known false); with a parameter array it is a per-lane select */
        W e = EXPNEG(-ABS(x));
        W l = LOG1P_UNIT(e);
        return x > b ? x : (x > 0 ? x + l : l); /* NaN: e and l are NaN */
    }
#if FAST
    /* no division per element: ul is folded into the exp's reduction, e = e^-|u + ul| (u < 0
     * is where it matters: there softplus ~ e^u has |u| times u's relative error), log1p(e) is
     * a polynomial (vmathf.h), and 1/beta is a loop-invariant reciprocal with one fma
     * correction (q + (t - q beta)/beta: the quotient to ~0.5 ulp; exact for beta = 1).  A
     * subnormal beta has no finite reciprocal, so beta below 2^-64 is scaled by 2^64 and the
     * quotient by 2^64 back (ln2/beta is a normal float for beta down to 2.0e-39).  The
     * tail is clamped to the exp's |xl| <= 2^-10: it is ~2^-24 |u| */
    W ul, u = F_CAT(softplus, arg, WS)(x, a, &ul);
    W tl = act__fclamp(u < 0 ? ul : -ul, K(-0x1p-10), K(0x1p-10));
    W e = act__fexpneg64f_tail(-ABS(u), tl) * K(0x1p-64);
    W t = u > 0 ? u + (ul + LOG1P_UNIT(e)) : LOG1P_UNIT(e);
    const W sc = ABS(a) < K(0x1p-64) ? K(0x1p64) : K(1); /* all loop-invariant */
    const W as = a * sc, ra = K(1) / as;
    W q = t * ra;
    W sp = FMA(FMA(-q, as, t), ra, q) * sc;
    return (u > b || SP_POSINF(u)) ? x : sp; /* NaN: u and sp are NaN */
#else
    /* softplus(u + ul) = softplus(u) + ul sigmoid(u) */
    W ul, u = F_CAT(softplus, arg, WS)(x, a, &ul);
    W e = EXPNEG(-ABS(u));
    W s = (u >= 0 ? K(1) : e) / (K(1) + e);
    W m = u > 0 ? u : K(0);
    W sp = (m + FMA(ul, s, LOG1P_UNIT(e))) / a;
    return (u > b || SP_POSINF(u)) ? x : sp;
#endif
}
GRAD(softplus)
{
    if (a == K(1)) return x > b ? dy : dy * SIG(x);
    /* sigmoid(u + ul) = sigmoid(u) (1 + ul sigmoid(-u)) */
    W s, sn, ul, u = F_CAT(softplus, arg, WS)(x, a, &ul);
    SIG_PAIR(u, &s, &sn);
    return u > b ? dy : dy * FMA(s, ul * sn, s);
}
#undef SP_POSINF

/* ---- softsign = x/(1+|x|) ---- */
FWD(softsign)
{
    UNUSED_AB;
    W r = x / (K(1) + ABS(x));
    /* only x = +-inf makes r NaN (inf/inf) while x is not: the limit is +-1 */
    return (r != r && x == x) ? (x > 0 ? K(1) : K(-1)) : r;
}
GRAD(softsign)
{
    UNUSED_AB;
    W d = K(1) + ABS(x);
    return dy / d / d; /* d*d would overflow for |x| > 1.8e19 (float) */
}

/* ---- hard variants, in PyTorch's operation order so results match it bit for bit ---- */
/* p/6 correctly rounded, float32 with no division: q = p c, c = 1/6 rounded, then
 * fma(r, c, q) with the residual r = p - 6q (exact by fma) rounds p/6 correctly wherever the
 * quotient is normal (Markstein's theorem; checked for every float32 |p| in [2^-123, 36]).
 * A division per vector was the loop's bound: hardswish 0.216 ns/element in cache against
 * PyTorch's 0.146.  float64 keeps the division: no fma there (formulas.h), and the correction
 * without one reached 1.86 ulp against the quotient's 1.45 (docs/accuracy.md). */
ACT_INLINE W F_CAT(div, 6, WS)(W p)
{
#if FAST
    W q = p * K(1.0 / 6.0);
    return FMA(FMA(-q, K(6), p), K(1.0 / 6.0), q);
#else
    return p / K(6);
#endif
}
FWD(hardsigmoid)
{
    UNUSED_AB;
    W t = x + K(3); /* 0 or >= 2^-22 in float32: t/6 is normal, act_div_6 is PyTorch's t/6 */
    /* two selects one after the other (NaN passes both).  As one nested select, gcc 12
     * evaluated div_6 for t, 0 and 6 alike and blended the three: 19 vector instructions a
     * vector (AVX-512), now 11; 0.182 -> 0.121 ns/element in cache, where hardswish, with
     * more arithmetic, takes 0.128 (bench/results/ab_2026-12-05ab.md) */
    t = t < 0 ? K(0) : t;
    t = t > 6 ? K(6) : t;
    return F_CAT(div, 6, WS)(t);
}
GRAD(hardsigmoid) { UNUSED_AB; return NZ(x, (x > -3 && x < 3) ? dy * K(1.0 / 6.0) : K(0)); }
FWD(hardswish)
{
    UNUSED_AB;
    /* x (x + 3) / 6 between the kinks (act_div_6: PyTorch's bits where the result is normal).
     * Outside: x for x >= 3 (x*6/6 would overflow above 5.7e37), 0 below -3 (PyTorch's
     * -inf*0 is NaN). */
    W mid = F_CAT(div, 6, WS)(x * (x + K(3)));
    return x <= -3 ? K(0) : (x >= 3 ? x : mid);
}
GRAD(hardswish)
{
    UNUSED_AB;
    /* (x + 1.5)/3 rather than PyTorch's x/3 + 0.5: the same value, but exact near the zero at
     * x = -1.5 where x/3 + 0.5 cancels */
    return NZ(x, x < -3 ? K(0) : (x <= 3 ? dy * ((x + K(1.5)) / K(3)) : dy));
}
/* the upper clamp, then the lower: one minps and one maxps, where the nested form compiled to
 * seven vector instructions (gcc 12, AVX-512); the same value as x < a ? a : (x > b ? b : x)
 * whenever a <= b, which the Python layer checks */
FWD(hardtanh)
{
    W t = x > b ? b : x;
    return t < a ? a : t;
}
GRAD(hardtanh) { return NZ(x, (x <= a || x >= b) ? K(0) : dy); }
GOUT(hardtanh) { return NZ(y, (y <= a || y >= b) ? K(0) : dy); }

/* ---- threshold(x, threshold, value) ---- */
FWD(threshold) { return x <= a ? b : x; }
GRAD(threshold) { (void)b; return NZ(x, x <= a ? K(0) : dy); }

/* ---- shrinks ---- */
/* |x| <= a, one compare on the cleared sign bit, for -a <= x && x <= a (two compares and an
 * and): the same for a >= 0, which the Python layer checks, and a NaN x still falls through */
FWD(hardshrink) { (void)b; return ABS(x) <= a ? K(0) : x; }
GRAD(hardshrink) { (void)b; return NZ(x, ABS(x) <= a ? K(0) : dy); }
FWD(softshrink) { (void)b; return ABS(x) <= a ? K(0) : (x > a ? x - a : x + a); }
GRAD(softshrink) { (void)b; return NZ(x, ABS(x) <= a ? K(0) : dy); }

/* ---- tanhshrink = x - tanh x.  Near 0 this cancels (x - tanh x ~ x^3/3), so small |x| takes
 * a polynomial x^3 P(x^2) and large |x| the sum of two terms >= 0 (see each path). ---- */
FWD(tanhshrink)
{
    UNUSED_AB;
#if FAST
    /* |x| < 1: x^3 P(x^2), own minimax fit (relative error 2^-23.8 with float coefficients);
     * |x| >= 1: (|x| - 1) + (1 - tanh|x|): both terms are >= 0, so nothing cancels, and
     * |x| - 1 is exact */
    W ax = ABS(x);
    W z = x * x;
    W p = K(-0x1.2b8948p-13);
    p = FMA(p, z, K(0x1.e43fe0p-11));
    p = FMA(p, z, K(-0x1.a458b8p-9));
    p = FMA(p, z, K(0x1.1d03f0p-7));
    p = FMA(p, z, K(-0x1.65a7f8p-6));
    p = FMA(p, z, K(0x1.ba1180p-5));
    p = FMA(p, z, K(-0x1.1110f2p-3));
    p = FMA(p, z, K(0x1.555556p-2));
    W ys = (x * z) * p;
    /* 1 - tanh|x| = 2/(e^2|x| + 1) = 1/(F + 1), F + 1 = 2^(n-1)(1 + v) + 1/2 in one fma (e^2|x|
     * = (1 + v) 2^n), so big = (|x| - 1) + 1/(F + 1).  |x| clamped at 9.1 as in tanh (vmathf.h):
     * beyond it 1/(F + 1) < 2.5e-8 is below half an ulp of |x| - 1; 2^(n-1) stays normal.  The
     * form before, (|x| - 1) + 2e/(1 + e) with e = e^-2|x| and a select on the sign, took ~4
     * vector ops more (bench/results/ab_2026-12-05r.md) */
    act__fexp_t o = act__fexpf_core_k(K(2) * act__fclamp(ax, K(-1), K(9.1)), K(-0.0), -1);
    W h = act__u2f(o.n23); /* 2^(n-1), n - 1 in [-1, 26] */
    W big = (ax - K(1)) + K(1) / FMA(h, o.v, h + K(0.5));
    return !(ax >= K(1)) ? ys : act__signf(big, x); /* NaN: ys, which is NaN */
#else
    /* |x| < 1: x^3 P(x^2), P a degree-15 Chebyshev fit (mpmath chebyfit) of (x - tanh x)/x^3
     * on x^2 in [0, 1], relative error 2^-57.6 (tanh's poles at +-i pi/2 lie 2.47 from 0 in
     * x^2, so the series converges like 11.8^-n there); the last Horner steps dominate (1/3 -
     * z/15 + ...), so the roundings stay near an ulp.  |x| >= 1: (|x| - 1) + 2e/(1 + e), e =
     * e^-2|x|, two terms >= 0 (tanh |x| = 1 - 2e/(1 + e)), |x| - 1 exact.  The form this
     * replaces (a Taylor series at x/8 and three doublings g(2h) = (2g + 2h t^2)/(1 + t^2),
     * then x - tanh x from |x| = 2) took five divisions per element: 4.99 -> 2.20 ns/element
     * in cache, one thread (bench/results/ab_2026-12-05k.md; PyTorch 1.57 in the full run,
     * bench/results/README.md), and its max error 3.58 -> 2.47 ulp (docs/accuracy.md; 2.67 on
     * 90000 samples against mpmath down to 1e-300, development harness). */
    W ax = ABS(x), z = x * x;
    W p = K(-0x1.b028f6cb72ebfp-26);
    p = p * z + K(0x1.1ab979c0ab58cp-22);
    p = p * z + K(-0x1.7238a0a7e22b6p-20);
    p = p * z + K(0x1.4eb911dcd9788p-18);
    p = p * z + K(-0x1.ea19b73b128d8p-17);
    p = p * z + K(0x1.42090e21d3d28p-15);
    p = p * z + K(-0x1.94981e5bdbe6fp-14);
    p = p * z + K(0x1.f5211730ee038p-13);
    p = p * z + K(-0x1.3551ae34bdfffp-11);
    p = p * z + K(0x1.7da2bdc3daa27p-10);
    p = p * z + K(-0x1.d6d3c538d0bbep-9);
    p = p * z + K(0x1.226e3519865dfp-7);
    p = p * z + K(-0x1.664f4880d2a47p-6);
    p = p * z + K(0x1.ba1ba1ba1453ep-5);
    p = p * z + K(-0x1.11111111110b9p-3);
    p = p * z + K(0x1.5555555555555p-2);
    W small = (x * z) * p;
    W e = EXP(K(-2) * ax); /* 0 for |x| > 373; NaN stays NaN */
    W big = (ax - K(1)) + (e + e) / (K(1) + e);
    return ax < 1 ? small : (x < 0 ? -big : big);
#endif
}
GRAD(tanhshrink)
{
    UNUSED_AB;
    W t = TANH_ACC(x);
    return dy * (t * t);
}

/* ---- step (Heaviside, step(0) = 0); its gradient is 0 (NaN for NaN) ---- */
FWD(step) { UNUSED_AB; return x > 0 ? K(1) : NZ(x, K(0)); }
GRAD(step) { UNUSED_AB; (void)dy; return NZ(x, K(0)); }

#undef FWD
#undef GRAD
#undef GOUT
#undef UNUSED_AB
#undef K
#undef ABS
#undef NZ
#undef MULZ
#undef SIG
#undef SIGN_
#undef SIG_PAIR
#undef XSIG
#undef XSIG0
#undef XSIG_DEEP
#undef XSIG_EDEEP
#undef F_CAT
#undef F_CAT_
