/* float16 and bfloat16 <-> float32, bit-exact and branch-free so the conversion loops vectorise.
 * Both are computed in float32 and rounded once (SPEC §1): round-to-nearest-even,
 * overflow to inf, NaN stays NaN (quiet), subnormals both ways. */
#ifndef ACT_HALF_H
#define ACT_HALF_H
#include "act.h"
#include "vmath.h" /* act__f2u, act__u2f: the bit casts */
#include <stdint.h>

ACT_INLINE float act_h2f(uint16_t h)
{
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t em = (uint32_t)h & 0x7fffu;
    uint32_t bits = (em << 13) + (112u << 23);        /* rebias exponent 15 -> 127 */
    bits = em >= 0x7c00u ? bits + (112u << 23) : bits; /* inf/NaN: exponent 31 -> 255 */
    float sub = (float)(int32_t)em * 5.9604644775390625e-08f; /* subnormal: em * 2^-24, exact */
    float f = em < 0x400u ? sub : act__u2f(bits);
    return act__u2f(act__f2u(f) | sign);
}

ACT_INLINE uint16_t act_f2h(float f)
{
    uint32_t x = act__f2u(f);
    uint32_t sign = x & 0x80000000u;
    x ^= sign;
    /* NaN -> quiet NaN, >= 65520 (rounds past max) -> inf */
    uint32_t special = x > 0x7f800000u ? 0x7e00u : 0x7c00u;
    /* subnormal results: add 0.5f so the FPU rounds the mantissa to 2^-24 steps (RNE) */
    uint32_t sub = act__f2u(act__u2f(x) + 0.5f) - 0x3f000000u;
    /* normal: rebias and round to nearest even on the 13 dropped bits */
    uint32_t odd = (x >> 13) & 1u;
    uint32_t nrm = (x + 0xc8000fffu + odd) >> 13; /* 0xc8000000 = (15-127) << 23 mod 2^32 */
    uint32_t o = x >= 0x47800000u ? special : (x < 0x38800000u ? sub : nrm);
    return (uint16_t)(o | (sign >> 16));
}

/* bfloat16 <-> float32.  bfloat16 is the upper half of a float32 (same exponent range), so
 * widening is a shift, exact for every value (subnormals, inf, NaN included).  Narrowing rounds
 * to nearest even on the 16 dropped bits; the carry rounds past the largest finite value to inf
 * and float32 subnormals to bfloat16 subnormals, as it must.  NaN becomes the quiet NaN
 * 0x7fc0 with its sign (the payload dropped, as act_f2h and ml_dtypes' own cast do): adding the
 * rounding bias to a NaN could carry it into inf or the sign bit. */
ACT_INLINE float act_bf2f(uint16_t b) { return act__u2f((uint32_t)b << 16); }

ACT_INLINE uint16_t act_f2bf(float f)
{
    uint32_t x = act__f2u(f);
    uint32_t sign = x & 0x80000000u;
    uint32_t a = x ^ sign;
    uint32_t nrm = (a + 0x7fffu + ((a >> 16) & 1u)) >> 16; /* a <= 0x7f800000: no wrap-around */
    uint32_t o = a > 0x7f800000u ? 0x7fc0u : nrm;
    return (uint16_t)(o | (sign >> 16));
}
#endif
