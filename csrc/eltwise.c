/* Elementwise kernels, stamped out for every op x kind x dtype from ops.def (float16, float32,
 * float64, bfloat16).
 *
 * This file is compiled once per CPU target through isa_<target>.c, which defines ACT_ISA
 * (baseline, avx2, avx512) and is built with that target's flags (setup.py).  The loops are
 * plain C that gcc/clang/MSVC vectorise; every target runs the same formulas in the same order
 * with -ffp-contract=off, so targets give the same bits, except that the float32 formulas use a
 * fused multiply-add where the target has one (vmathf.h): targets with FMA agree with each other,
 * baseline differs within the accuracy bounds (tests/test_runtime.py, tests/test_accuracy.py).
 */
#ifndef ACT_ISA
#error "compile eltwise.c through isa_<target>.c, which defines ACT_ISA"
#endif
#include "act.h"
#include "formulas.h"
#include "half.h"
#include "ntstore.h"

#define ACT_CAT2_(a, b) a##_##b
#define ACT_CAT2(a, b) ACT_CAT2_(a, b)
#define ISA_NAME(n) ACT_CAT2(n, ACT_ISA)

/* The expression an op computes for one element, per kind: float64 in double (wd), float32,
 * float16 and bfloat16 in float (wf). */
#define EX_fwd_wd(op, u, v, a, b) act_##op##_fwd_wd(u, a, b)
#define EX_grad_wd(op, u, v, a, b) act_##op##_grad_wd(u, v, a, b)
#define EX_gout_wd(op, u, v, a, b) act_##op##_gout_wd(u, v, a, b)
#define EX_fwd_wf(op, u, v, a, b) act_##op##_fwd_wf(u, a, b)
#define EX_grad_wf(op, u, v, a, b) act_##op##_grad_wf(u, v, a, b)
#define EX_gout_wf(op, u, v, a, b) act_##op##_gout_wf(u, v, a, b)
#define EX_F64(op, kind, u, v, a, b) EX_##kind##_wd(op, u, v, a, b)
#define EX_F32(op, kind, u, v, a, b) EX_##kind##_wf(op, u, v, a, b)

#define NX_fwd 1
#define NX_grad 2
#define NX_gout 2

/* Software prefetch for the longest loops (ops.def cost >= ACT_PF_COST: gelu_tanh): x (and dy)
 * ACT_PFD elements ahead, one line at a time, before each chunk of ACT_PFC elements.  With a
 * loop body of ~160 instructions per vector (gelu_tanh's gradient) the hardware prefetchers
 * left the loads of a 2^24 call waiting on memory: 14.7 -> 11.7 ms on 2 threads, 28.4 -> 22.8
 * on one (bench/results/ab_2026-12-05c.md).  The same prefetch in every op's loop cost the
 * others up to 1.2-1.3x (sigmoid_grad, silu_grad, gelu_grad, hardsigmoid), and gelu_tanh's
 * forward measured alike with and without it.  From cost 5 (log_sigmoid, tanh, gelu, silu,
 * mish, tanhshrink too) those ops took 1.04-1.19x their time at 2^24 (ab_2026-12-05l.md). */
#define ACT_PF_COST 12
#define ACT_PFC 1024
#define ACT_PFD 1024
#if defined(__GNUC__) /* `bytes` past p, as an integer: may lie past the array, where a
                       * prefetch never faults */
#define ACT_PF_AT(p, bytes) __builtin_prefetch((const void *)((uintptr_t)(p) + (bytes)), 0)
#else
#define ACT_PF_AT(p, bytes) ((void)0)
#endif
#define ACT_PF(p) ACT_PF_AT(p, ACT_PFD * sizeof(*(p)))
/* range kernel for float32 / float64: scalar parameters (pvec == 0) or parameter arrays */
#define DEF_RANGE(op, kind, np, T, EXPR, cost)                                                  \
    static void ISA_NAME(act_##op##_##kind##_##T)(ptrdiff_t lo, ptrdiff_t hi,                  \
                                                   const char *const *in, int pvec, char *out) \
    {                                                                                           \
        enum { NX = NX_##kind };                                                                \
        const T *i0 = (const T *)in[0];                                                         \
        const T *i1 = (const T *)in[NX > 1 ? 1 : 0];                                            \
        T *y = (T *)out;                                                                        \
        if (!pvec) {                                                                            \
            const T A = (np) > 0 ? *(const T *)in[NX] : (T)0;                                   \
            const T B = (np) > 1 ? *(const T *)in[NX + 1] : (T)0;                               \
            if ((np) > 0 && A == (T)1) {                                                        \
                /* a first parameter of 1 (beta of softplus and swish, alpha of elu and celu:   \
                 * their defaults) as a constant, so that the formulas' `a == 1` branches and   \
                 * products by a fold away: gcc does not unswitch loops this large itself */    \
                for (ptrdiff_t i = lo; i < hi; i++) y[i] = EXPR(i0[i], i1[i], (T)1, B);         \
            }                                                                                   \
            else if ((cost) >= ACT_PF_COST) {                                                   \
                for (ptrdiff_t c = lo; c < hi; c += ACT_PFC) {                                  \
                    ptrdiff_t ce = hi - c < ACT_PFC ? hi : c + ACT_PFC;                         \
                    for (ptrdiff_t p = c; p < ce; p += 64 / (ptrdiff_t)sizeof(T)) {             \
                        ACT_PF(i0 + p);                                                         \
                        if (NX > 1) ACT_PF(i1 + p);                                             \
                    }                                                                           \
                    for (ptrdiff_t i = c; i < ce; i++) y[i] = EXPR(i0[i], i1[i], A, B);         \
                }                                                                               \
            }                                                                                   \
            else {                                                                              \
                for (ptrdiff_t i = lo; i < hi; i++) y[i] = EXPR(i0[i], i1[i], A, B);            \
            }                                                                                   \
        }                                                                                       \
        else {                                                                                  \
            const T *pa = (const T *)in[(np) > 0 ? NX : 0];                                     \
            const T *pb = (const T *)in[(np) > 1 ? NX + 1 : 0];                                 \
            for (ptrdiff_t i = lo; i < hi; i++) {                                               \
                y[i] = EXPR(i0[i], i1[i], (np) > 0 ? pa[i] : (T)0, (np) > 1 ? pb[i] : (T)0);    \
            }                                                                                   \
        }                                                                                       \
    }

/* The same kernel with its output streamed from inside its own loop (ntstore.h), scalar
 * parameters only (pvec == 0, the caller's check): chunks of ACT_NTCH bytes computed into a
 * local array and streamed out at once, plain stores before y's first store-width boundary
 * and after the last whole chunk; the caller fences.  The bits are the direct kernel's (the
 * same EXPR).  This replaced the op's kernel run on 4 KB blocks into an L1 buffer and a
 * separate streaming copy (act_stream_range, kept for parameter arrays and the 16-bit types):
 * 2^24 float32 on 2 threads, tanh 4.05 -> 3.24 ms, gelu 5.24 -> 4.69, silu 4.53 -> 3.52, most
 * kinds 0.76-0.92x (bench/results/ab_2026-12-05t.md).  Short chunks keep each line's compute
 * and its store together; blocks that short made of separate kernel calls lost their gain to
 * the calls (512 B and 1 KB: ab_2026-12-05h/i.md).  gcc unrolls the 512-byte chunk's loop
 * fully, which the larger formulas need (kept rolled, gelu and silu were 1.1-1.2x slower than
 * the buffer; 1 KB chunks, which it leaves rolled, likewise); in a C harness (2^24 floats, 2
 * threads, 2 MB pages) gelu took 3.80 ms in 512-byte chunks, 4.84 through 4 KB blocks and
 * 6.38 in 256-byte chunks. */
#define ACT_NTCH 512
/* ... and each chunk first prefetches the lines ACT_NT_PFD bytes ahead of it (two chunks), one
 * prefetch per line, spread over the loop rather than in bursts.  Without it the time of a
 * chunk's arithmetic and of its loads' misses added up once the arithmetic outlasted the
 * memory: on one thread softplus's forward took 11.5 ms for 2^24 floats from memory, where its
 * in-cache speed makes ~7.5 ms of arithmetic (log_sigmoid: 7.5 and ~6.2; development
 * measurements).  2^24 float32, 1 and 2 threads: gelu 12.3 ->
 * 8.18 ms (t=1) and 5.03 -> 4.32 (t=2), softplus 11.2 -> 7.96 and 5.71 -> 4.32, mish 0.82x,
 * gelu_tanh's gradient 0.67-0.69x, the cheap kinds within 0.90-1.10x
 * (bench/results/ab_2026-12-05w.md, whose header has the development runs: 1 KB measured a
 * little ahead of 2 KB and 3 KB).  The prefetches that lost before were bursts ahead of
 * act_stream_range's buffer (a whole 4 KB block, or one line per page: ab_2026-12-05g/q/s.md)
 * and ACT_PF's blocks in the plain kernels of cost 5-8 (ab_2026-12-05l.md). */
#define ACT_NT_PFD 1024
#define ACT_NT_PF(p)                                                                            \
    do {                                                                                        \
        for (int q_ = 0; q_ < ACT_NTCH; q_ += 64) ACT_PF_AT(p, ACT_NT_PFD + q_);                \
    } while (0)
#define ACT_NT_BODY(T, EXPR, AV)                                                                \
    for (; i < i_h; i++) y[i] = EXPR(i0[i], i1[i], AV, B);                                      \
    for (; i + CH <= hi; i += CH) {                                                             \
        T t_[CH];                                                                               \
        ACT_NT_PF(i0 + i);                                                                      \
        if (NX > 1) ACT_NT_PF(i1 + i);                                                          \
        for (int j = 0; j < CH; j++) t_[j] = EXPR(i0[i + j], i1[i + j], AV, B);                 \
        act_nt_copy(y + i, t_, sizeof t_);                                                      \
    }                                                                                           \
    for (; i < hi; i++) y[i] = EXPR(i0[i], i1[i], AV, B);
#define DEF_RANGE_NT(op, kind, np, T, EXPR)                                                     \
    static void ISA_NAME(act_##op##_##kind##_##T##_nt)(ptrdiff_t lo, ptrdiff_t hi,             \
                                                        const char *const *in, int pvec,       \
                                                        char *out)                             \
    {                                                                                           \
        enum { NX = NX_##kind, CH = ACT_NTCH / (int)sizeof(T) };                                \
        const T *i0 = (const T *)in[0];                                                         \
        const T *i1 = (const T *)in[NX > 1 ? 1 : 0];                                            \
        T *y = (T *)out;                                                                        \
        const T A = (np) > 0 ? *(const T *)in[NX] : (T)0;                                       \
        const T B = (np) > 1 ? *(const T *)in[NX + 1] : (T)0;                                   \
        (void)pvec;                                                                             \
        ptrdiff_t i = lo, i_h = lo + (ptrdiff_t)((-(uintptr_t)(y + lo) & (ACT_NTW - 1)) /      \
                                                 sizeof(T));                                    \
        if (i_h > hi) i_h = hi;                                                                 \
        if ((np) > 0 && A == (T)1) {                                                            \
            ACT_NT_BODY(T, EXPR, (T)1)                                                          \
        }                                                                                       \
        else {                                                                                  \
            ACT_NT_BODY(T, EXPR, A)                                                             \
        }                                                                                       \
    }

/* float16 and bfloat16: blocks converted to float32, the float32 expression, rounded back once.
 * One macro for both: SFX names the kernel, LD/ST are the storage <-> float32 conversions
 * (half.h). */
#define ACT_HBLK 256
#define DEF_RANGE_H(op, kind, np, EXPR, SFX, LD, ST)                                            \
    static void ISA_NAME(act_##op##_##kind##_##SFX)(ptrdiff_t lo, ptrdiff_t hi,                \
                                                     const char *const *in, int pvec,          \
                                                     char *out)                                \
    {                                                                                           \
        enum { NX = NX_##kind };                                                                \
        const uint16_t *i0 = (const uint16_t *)in[0];                                           \
        const uint16_t *i1 = (const uint16_t *)in[NX > 1 ? 1 : 0];                              \
        const uint16_t *pa = (const uint16_t *)in[(np) > 0 ? NX : 0];                           \
        const uint16_t *pb = (const uint16_t *)in[(np) > 1 ? NX + 1 : 0];                       \
        uint16_t *y = (uint16_t *)out;                                                          \
        float b0[ACT_HBLK], b1[ACT_HBLK], ba[ACT_HBLK], bb[ACT_HBLK];                           \
        const float A = (np) > 0 ? LD(pa[0]) : 0.f;                                             \
        const float B = (np) > 1 ? LD(pb[0]) : 0.f;                                             \
        for (ptrdiff_t s = lo; s < hi; s += ACT_HBLK) {                                         \
            ptrdiff_t m = hi - s < ACT_HBLK ? hi - s : ACT_HBLK;                                \
            for (ptrdiff_t j = 0; j < m; j++) b0[j] = LD(i0[s + j]);                            \
            if (NX > 1)                                                                         \
                for (ptrdiff_t j = 0; j < m; j++) b1[j] = LD(i1[s + j]);                        \
            if ((np) > 0 && pvec) {                                                             \
                for (ptrdiff_t j = 0; j < m; j++) ba[j] = LD(pa[s + j]);                        \
                if ((np) > 1)                                                                   \
                    for (ptrdiff_t j = 0; j < m; j++) bb[j] = LD(pb[s + j]);                    \
            }                                                                                   \
            if (!pvec && (np) > 0 && A == 1.f) /* as in DEF_RANGE */                           \
                for (ptrdiff_t j = 0; j < m; j++)                                               \
                    b0[j] = EXPR(b0[j], b1[j], 1.f, B);                                         \
            else if (!pvec)                                                                     \
                for (ptrdiff_t j = 0; j < m; j++)                                               \
                    b0[j] = EXPR(b0[j], b1[j], A, B);                                           \
            else                                                                                \
                for (ptrdiff_t j = 0; j < m; j++)                                               \
                    b0[j] = EXPR(b0[j], b1[j], (np) > 0 ? ba[j] : 0.f, (np) > 1 ? bb[j] : 0.f); \
            for (ptrdiff_t j = 0; j < m; j++) y[s + j] = ST(b0[j]);                             \
        }                                                                                       \
    }

/* the streamed kernels (DEF_RANGE_NT) of float32 and float64, where the target has streaming
 * stores.  float64's measured slower than through act_stream_range's buffer until the chunks
 * prefetched (2^24 on 2 threads: tanh 18.8 -> 43.8 ms, silu 16.6 -> 26.3;
 * bench/results/ab_2026-12-05u.md); with ACT_NT_PF they beat the buffer, 0.80-0.96x (sigmoid
 * 12.4 -> 10.1 ms, tanh 18.8 -> 16.6, silu 14.4 -> 11.9: ab_2026-12-05x.md).  float16 and
 * bfloat16 convert through their own blocks and stream through the buffer. */
#if ACT_NTW > 1
#define DEF_NT(op, kind, np)                                                                    \
    DEF_RANGE_NT(op, kind, np, float, ISA_NAME(ex_##op##_##kind##_f))                           \
    DEF_RANGE_NT(op, kind, np, double, ISA_NAME(ex_##op##_##kind##_d))
#define TBL_NT(op, kind)                                                                        \
    {NULL, ISA_NAME(act_##op##_##kind##_float_nt), ISA_NAME(act_##op##_##kind##_double_nt), NULL}
#else
#define DEF_NT(op, kind, np)
#define TBL_NT(op, kind) {NULL, NULL, NULL, NULL}
#endif

/* stamp the four dtypes of one op and kind */
#define DEF_KIND(op, kind, np, cost)                                                            \
    DEF_KIND_(op, kind, np, cost)
#define DEF_KIND_(op, kind, np, cost)                                                           \
    ACT_INLINE double ISA_NAME(ex_##op##_##kind##_d)(double u, double v, double a, double b) \
    {                                                                                           \
        (void)v;                                                                                \
        return EX_F64(op, kind, u, v, a, b);                                                    \
    }                                                                                           \
    ACT_INLINE float ISA_NAME(ex_##op##_##kind##_f)(float u, float v, float a, float b)      \
    {                                                                                           \
        (void)v;                                                                                \
        return EX_F32(op, kind, u, v, a, b);                                                    \
    }                                                                                           \
    DEF_RANGE(op, kind, np, double, ISA_NAME(ex_##op##_##kind##_d), cost)                       \
    DEF_RANGE(op, kind, np, float, ISA_NAME(ex_##op##_##kind##_f), cost)                        \
    DEF_NT(op, kind, np)                                                                        \
    DEF_RANGE_H(op, kind, np, ISA_NAME(ex_##op##_##kind##_f), f16, act_h2f, act_f2h)          \
    DEF_RANGE_H(op, kind, np, ISA_NAME(ex_##op##_##kind##_f), bf16, act_bf2f, act_f2bf)

#define DEF_GOUT_0(op, np, cost)
#define DEF_GOUT_1(op, np, cost) DEF_KIND(op, gout, np, cost)
#define ACT_OP(op, np, gout, cost, stream)                                                      \
    DEF_KIND(op, fwd, np, cost)                                                                 \
    DEF_KIND(op, grad, np, cost)                                                                \
    DEF_GOUT_##gout(op, np, cost)
#include "ops.def"
#undef ACT_OP

/* ---- memory floors for the benchmark: the same loop shape, no arithmetic to speak of.
 * `+ 0` keeps the compiler from turning the loop into memcpy (whose non-temporal stores would
 * be a different floor). */
#define DEF_FLOOR(T, SFX)                                                                       \
    static void ISA_NAME(act_copy_##SFX)(ptrdiff_t lo, ptrdiff_t hi, const char *const *in,    \
                                         int pvec, char *out)                                  \
    {                                                                                           \
        (void)pvec;                                                                             \
        const T *x = (const T *)in[0];                                                          \
        T *y = (T *)out;                                                                        \
        for (ptrdiff_t i = lo; i < hi; i++) y[i] = x[i] + (T)0;                                 \
    }                                                                                           \
    static void ISA_NAME(act_add_##SFX)(ptrdiff_t lo, ptrdiff_t hi, const char *const *in,     \
                                        int pvec, char *out)                                   \
    {                                                                                           \
        (void)pvec;                                                                             \
        const T *a = (const T *)in[0], *b = (const T *)in[1];                                   \
        T *y = (T *)out;                                                                        \
        for (ptrdiff_t i = lo; i < hi; i++) y[i] = a[i] + b[i];                                 \
    }
DEF_FLOOR(float, f32)
DEF_FLOOR(double, f64)
DEF_FLOOR(uint16_t, f16) /* integer add: same traffic, nothing to convert; bfloat16 too */

/* ---- outputs beyond the caches where the kernel has no streaming form of its own (parameter
 * arrays, float16, bfloat16; act_stream_fn in act.h; loops.c decides when): blocks of ACT_NTBLK
 * bytes computed into an L1 buffer by the op's own kernel, so the bits are those of
 * the direct call, and streamed out.  Block ends fall on y's cache lines, so only the ends of a
 * call, up to the store width's alignment, take plain stores.  The buffer sits at the page
 * offset of the block's first input: NumPy's large arrays all start 16 bytes into a page, and
 * a buffer at another offset made the kernel's loads wait on its recent stores to the same
 * page offset (4K aliasing): 2^24 float32, 2 threads, relu 0.88x -> 0.80x the floor, selu
 * 1.22x -> 1.03x (interleaved in one process).  4 KB blocks: 1, 2, 4 and 8 KB measured alike
 * (and again 512 B and 1 KB on the Intel host, within +-10% either way: ab_2026-12-05h/i.md).
 * A software prefetch of the next block's inputs made every op 1.05-1.3x slower
 * (ab_2026-12-05g.md): the hardware prefetchers follow these streams already.  So did a
 * single prefetch per block, of the line two blocks ahead (to start each page's first DRAM
 * access early): 1.05-1.18x, relu too (ab_2026-12-05q.md); and a prefetcht1 of a whole block
 * two blocks ahead, 1.05-1.2x (ab_2026-12-05s.md), although in a standalone C harness it took
 * tanh 5.5 -> 4.7 ms on 4 KB pages: NumPy puts large arrays on 2 MB pages (MADV_HUGEPAGE),
 * where the same harness ran tanh in 3.85 ms without it and 4.77 with it.
 * Targets without streaming stores (ACT_NTW 1: aarch64) have no such function: a buffer and
 * a memcpy would gain nothing. */
#define ACT_NTBLK 4096
#if ACT_NTW > 1
static void ISA_NAME(act_stream_range)(act_range_fn f, ptrdiff_t lo, ptrdiff_t hi,
                                       const char *const *in, int nin, int nshift, int pvec,
                                       char *out, size_t isz)
{
    unsigned char area[ACT_NTBLK + 4096]; /* buf below: 4 KB at the input's page offset */
    const char *bin[ACT_MAXIN];
    const ptrdiff_t blk = (ptrdiff_t)(ACT_NTBLK / isz);
    for (ptrdiff_t s = lo; s < hi;) {
        ptrdiff_t e = s + blk;
        if (e >= hi)
            e = hi;
        else /* back to a line boundary of y: isz divides 64 and y's address */
            e -= (ptrdiff_t)(((uintptr_t)(out + e * (ptrdiff_t)isz) & 63) / isz);
        for (int k = 0; k < nin; k++)
            bin[k] = k < nshift ? in[k] + s * (ptrdiff_t)isz : in[k];
        unsigned char *buf = area + (((uintptr_t)bin[0] - (uintptr_t)area) & 4095);
        f(0, e - s, bin, pvec, (char *)buf);
        act_nt_copy(out + s * (ptrdiff_t)isz, buf, (size_t)(e - s) * isz);
        s = e;
    }
}
#define ACT_STREAM_FN ISA_NAME(act_stream_range)
#else
#define ACT_STREAM_FN NULL
#endif

/* ---- the table of this target ---- */
/* entries in ACT_F16, ACT_F32, ACT_F64, ACT_BF16 order (act.h) */
#define TBL_GOUT_0(op) {NULL, NULL, NULL, NULL}
#define TBL_GOUT_1(op) TBL_KIND(op, gout)
#define TBL_KIND(op, kind)                                                                      \
    {ISA_NAME(act_##op##_##kind##_f16), ISA_NAME(act_##op##_##kind##_float),                   \
     ISA_NAME(act_##op##_##kind##_double), ISA_NAME(act_##op##_##kind##_bf16)}

const act_isa_table ISA_NAME(act_table) = {
    ACT_STR(ACT_ISA),
    ACT_HAS_FMA,
    {
#define ACT_OP(op, np, gout, cost, stream)                                                      \
    {TBL_KIND(op, fwd), TBL_KIND(op, grad), TBL_GOUT_##gout(op)},
#include "ops.def"
#undef ACT_OP
    },
    {ISA_NAME(act_copy_f16), ISA_NAME(act_copy_f32), ISA_NAME(act_copy_f64),
     ISA_NAME(act_copy_f16)},
    {ISA_NAME(act_add_f16), ISA_NAME(act_add_f32), ISA_NAME(act_add_f64), ISA_NAME(act_add_f16)},
    ACT_STREAM_FN,
    {
#define TBL_NT_GOUT_0(op) {NULL, NULL, NULL, NULL}
#define TBL_NT_GOUT_1(op) TBL_NT(op, gout)
#define ACT_OP(op, np, gout, cost, stream)                                                      \
    {TBL_NT(op, fwd), TBL_NT(op, grad), TBL_NT_GOUT_##gout(op)},
#include "ops.def"
#undef ACT_OP
    },
};
