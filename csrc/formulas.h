/* The scalar formulas, instantiated for float and double compute types from formulas_t.h. */
#ifndef ACT_FORMULAS_H
#define ACT_FORMULAS_H
#include "vmath.h"

#define W float
#define WS wf
#define EXACT_TAILS 1
#define EXP act_expf
#define EXPM1 act_expm1f
#define LOG1P act_log1pf
#define TANH act_tanhf
#include "formulas_t.h"
#undef W
#undef WS
#undef EXACT_TAILS
#undef EXP
#undef EXPM1
#undef LOG1P
#undef TANH

#define W double
#define EXP act_exp
#define EXPM1 act_expm1
#define LOG1P act_log1p
#define TANH act_tanh
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
#undef W
#undef EXP
#undef EXPM1
#undef LOG1P
#undef TANH

/* ---- gelu (exact) = x*Phi(x), Phi(x) = erfc(-x/sqrt2)/2.  Deep in the negative tail erfc's
 * relative error grows like 2z^2 times the error of its argument z, so z = -x/sqrt2 is carried
 * as zh + zl (Dekker product, no fma) and erfc(zh + zl) ~ erfc(zh) - zl*(2/sqrt(pi))e^-zh^2.
 * float32 goes through this double path (ops.def: f32_in_double), which also keeps x*Phi(x)
 * exact where it lands in float32's subnormal range. ---- */
ACT_INLINE void act_two_prod(double a, double b, double *p, double *e)
{
    const double split = 134217729.0; /* 2^27 + 1, Veltkamp */
    double ca = split * a, ah = ca - (ca - a), al = a - ah;
    double cb = split * b, bh = cb - (cb - b), bl = b - bh;
    *p = a * b;
    *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}
ACT_INLINE double act_ncdf_wdf(double x) /* Phi(x) to float32 accuracy */
{
    /* vmath's float-accuracy erfc core in double (2.8 ns/element against 30 for the full double
     * erfc): a = |x|/sqrt2 is rounded in double, a relative 2a^2 * 2^-53 < 2^-45 at the float
     * underflow, far below float's half ULP; beyond a = 10.25, where the core clamps, Phi*x
     * is below half the smallest float subnormal, so 0 */
    double a = (x < 0 ? -x : x) * 0.70710678118654757;
    double ec = act__erfc_pos_d(a);
    ec = a > 10.25 ? 0.0 : ec;
    return 0.5 * (x < 0 ? ec : 2.0 - ec);
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
/* float32 results: the same in double with z merely rounded (relative error 2z^2 * 2^-53 stays
 * far below float32's half ULP for every z where Phi(x) is a normal float) */
ACT_INLINE double act_gelu_fwd_wdf(double x, double a, double b)
{
    (void)a, (void)b;
    double xc = x < -1e4 ? -1e4 : (x > 1e4 ? 1e4 : x);
    double p = act_ncdf_wdf(xc);
    return p == 0 ? (x < 0 ? -0.0 : 0.0) : x * p;
}
ACT_INLINE double act_gelu_grad_wdf(double dy, double x, double a, double b)
{
    (void)a, (void)b;
    double xc = x < -1e4 ? -1e4 : (x > 1e4 ? 1e4 : x);
    return dy * (act_ncdf_wdf(xc) + xc * 0.39894228040143267794 * act_exp(-0.5 * xc * xc));
}
/* never used (gelu is f32_in_double in ops.def) but the kernel stamping names it */
ACT_INLINE float act_gelu_fwd_wf(float x, float a, float b)
{
    return (float)act_gelu_fwd_wdf(x, a, b);
}
ACT_INLINE float act_gelu_grad_wf(float dy, float x, float a, float b)
{
    return (float)act_gelu_grad_wdf(dy, x, a, b);
}
#endif
