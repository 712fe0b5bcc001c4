/* Axis activations: softmax / log_softmax / logsumexp and their gradients, the GLU family and
 * maxout.  Compiled once per CPU target through isa_<target>.c (after eltwise.c), like the
 * elementwise kernels; axis.h has the table, dispatch.c picks it (act_axis_current).
 *
 * The reduction order (why results are the same bits for any thread count and any layout):
 * a reduced row of length L is cut into fixed blocks of AX_B elements.  For each block, pass A
 * finds the block max m_b and s_b = sum e^(x - m_b) in double, element i of the block adding
 * into lane i % AX_K, lanes combined in a fixed order (ax_lanes).  The row then takes
 * M = max m_b and S = sum_b s_b e^(m_b - M), blocks in order.  Pass B writes the outputs
 * elementwise from M and S.  Blocks are the unit of threading for a few long rows (a (1, 2^22)
 * row runs on every thread) and rows are the unit otherwise; a non-last axis (inner > 1) runs
 * the same per-column arithmetic vectorised across AX_J adjacent columns.  None of this depends
 * on the number of threads, and strided inputs are made contiguous by the glue first.
 *
 * Accuracy (SPEC §5): pass A works in double for float32 too, so S and log S carry ~1e-16
 * relative error; float32 logsumexp is rounded once from a double result, float32 log_softmax is
 * (x - M) - log S in float (no cancellation, <= 1.5 ulp: see ax_lsm_f).
 * x - M is carried exactly (2Sum hi + lo) into e^(hi + lo) for softmax, so the shift does not
 * cost the |x - M| * 2^-24 relative error a rounded difference would.
 */
#ifndef ACT_ISA
#error "compile axis.c through isa_<target>.c, which defines ACT_ISA"
#endif
#include "act.h"
#include "axis.h"
#include "formulas.h"
#include "ntstore.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* gcc leaves act_exp & co. (static inline, but large) as out-of-line calls inside these big
 * loop bodies, which stops vectorisation: measured 16x slower than the memory floor.  flatten
 * inlines every call in the kernel bodies, so the loops vectorise like eltwise.c's. */
#if defined(__GNUC__)
#define AX_FLAT __attribute__((flatten))
#else
#define AX_FLAT
#endif

/* for (q = 0; q < n; q++) TASK(q): on nthreads threads when that is over 1, statically
 * scheduled (a task's result never depends on which thread ran it), else serially; BEGIN and
 * END run once per thread around its tasks (BEGIN may declare what TASK and END use) */
#define AX_FOR_TASKS_IN(nthreads, n, BEGIN, TASK, END)                                         \
    do {                                                                                       \
        const int ax_nt_ = (nthreads);                                                         \
        const ptrdiff_t ax_n_ = (n);                                                           \
        if (ax_nt_ > 1) {                                                                      \
            _Pragma("omp parallel num_threads(ax_nt_)")                                        \
            {                                                                                  \
                BEGIN                                                                          \
                _Pragma("omp for schedule(static) nowait")                                     \
                for (ptrdiff_t ax_q_ = 0; ax_q_ < ax_n_; ax_q_++) TASK(ax_q_)                 \
                END                                                                            \
            }                                                                                  \
        }                                                                                      \
        else {                                                                                 \
            BEGIN                                                                              \
            for (ptrdiff_t ax_q_ = 0; ax_q_ < ax_n_; ax_q_++) TASK(ax_q_)                     \
            END                                                                                \
        }                                                                                      \
    } while (0)

/* A staged block of n bytes streamed out to d one cache line per ax_pipe_step, between other
 * work, instead of in one burst (F(sm_short): a group's rows go out during the next group's
 * exp loop).  A step writes up to the next line boundary of d: where d is not line-aligned
 * the first writes only the bytes before it, and the last the bytes after the last whole line,
 * both with plain stores, as act_nt_copy does. */
typedef struct {
    const unsigned char *s;
    unsigned char *d;
    size_t n, i;
} ax_pipe;
static inline void ax_pipe_start(ax_pipe *p, void *d, const void *s, size_t n)
{
    p->s = (const unsigned char *)s;
    p->d = (unsigned char *)d;
    p->n = n;
    p->i = 0;
}
static inline void ax_pipe_step(ax_pipe *p)
{
    if (p->i >= p->n) return;
    size_t e = ((uintptr_t)(p->d + p->i) & ~(uintptr_t)63) + 64 - (uintptr_t)p->d; /* next line */
    if (e > p->n) e = p->n;
    act_nt_copy(p->d + p->i, p->s + p->i, e - p->i);
    p->i = e;
}
static inline void ax_pipe_flush(ax_pipe *p)
{
    if (p->i < p->n) act_nt_copy(p->d + p->i, p->s + p->i, p->n - p->i);
    p->i = p->n;
}

/* Shared once per translation unit (each isa_*.c includes this file once). */
#define AX_K 16  /* accumulation lanes: 4 AVX2 / 2 AVX-512 double vectors, short add chains */
#define AX_B 1024 /* block: 4 KB of float32 read twice by pass A from L1 */
#define AX_CH 256 /* exp buffer of pass A (a multiple of AX_K) */
/* columns per task when the axis is not the last one (AX_J, per type below): float 256, double
 * 64.  A task reads AX_J * sizeof(T) bytes of each row; at 64 floats (4 lines per row, rows a
 * stride apart) the hardware prefetcher did not follow and the lanes' fixed costs weighed on
 * short axes.  One process, alternating, 4096^2 float32 along axis 0, 1 / 2 threads: softmax
 * 52.7 / 28.2 -> 35.0 / 21.1 ms (prefetch of the next task's lines included), log_softmax 78.0
 * / 42.8 -> 39.0 / 21.2; float64 at 128 or 256 (its lanes and their compensations, 2 x 16 x
 * AX_J doubles, no longer fit L1) was 5-10% slower on 16 x 21 x 128 x 128 along axis 1 */
#define AX_JF 256
#define AX_JD 64
#define AX_RG 8   /* one-block rows per task (F(sm_rows1)): 8 double lanes of AVX-512 */
/* the shortest one-block float32 softmax rows whose terms F(sm_rows1) stages in L1 and streams
 * out far beyond the caches (snt), against storing them in y: bench/results/ab_2026-12-05e.md,
 * 1 / 2 threads, 16384 x 1000 0.92 / 0.93x the time, but 32768 x 512 0.99 / 1.06x and 65536 x
 * 256 1.06 / 1.07x (staged at 128 and up in that run) */
#define AX_SNT_MIN 768

/* Pass A alternates a memory phase (the block max streams x in) with a compute phase (the
 * exponentials, from L1), and the hardware prefetcher stays idle in the second: measured 15.5
 * ms for a 4096x4096 float32 softmax at 2 threads against 6.7 + 7.5 ms for memory and compute
 * alone, i.e. no overlap.  So the exp loop asks for the next block of x, one cache line per 64
 * bytes, AX_B elements ahead: the next block of the row or the start of the next row.  Only x:
 * prefetching y for writing as well cost 13-23% (4096x4096 float32, AVX-512, old and new builds
 * timed in one process: softmax 8.59 -> 7.44 ms at 2 threads, 14.06 -> 10.81 at 1; log_softmax
 * 10.24 -> 8.80 at 2); no prefetch at all was slower too (8.05, 11.98 ms), and prefetching x
 * further ahead (4 or 16 blocks) or into L2 only was no better.  A prefetch never faults, so
 * running past the array is harmless. */
#if defined(__GNUC__)
#define AX_PREFETCH_AT(p) __builtin_prefetch((p), 0)
#else
#define AX_PREFETCH_AT(p) ((void)0)
#endif
#define AX_PREFETCH(xp) AX_PREFETCH_AT((xp) + AX_B)

/* the short-row kernel's longest row (F(sm_short)).  Up to 128 it beat the one-block rows'
 * kernel (sm_rows1) in cache (2 threads, one process: 8192 x 100 softmax 0.37 -> 0.27 ms,
 * log_softmax 0.40 -> 0.27; 8192 x 80 0.28 -> 0.21).  From memory it lost at rows of 100
 * (7.0-7.9 ms against 5.9, 131072 x 100) until its prefetches were spread over the exp loop,
 * its buffers shrunk and its streamed output spread over the next group (sm_short); since
 * then, 2 threads, one process, against sm_rows1: 131072 x 80 4.54 -> 3.87 ms, x 100 5.97 ->
 * 4.72, x 128 6.60 -> 6.14 (log_softmax 6.57 -> 6.53). */
#define AX_SL 128
/* The short-row kernel's transposes (F(sm_short)): 16 rows of n <= AX_SL floats, row stride ld,
 * to and from column-major d[j][g].  As scalar copies they were ~50-60% of a 65536 x 16 or x
 * 40 float32 softmax (perf, one thread); on AVX-512 they go through registers, 16 x 16 tiles
 * (unpacks within 128-bit lanes, then lane shuffles).  Data movement only: the same values on
 * every target.  ax_tr_out stores row g only where keep[g]. */
#if defined(__AVX512F__)
static inline void ax_tr16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#define AX_PD(v) _mm512_castps_pd(v)
#define AX_PS(v) _mm512_castpd_ps(v)
    for (int i = 0; i < 4; i++) { /* r[4i + c], lane l: column 4l + c of rows 4i..4i+3 */
        r[4 * i] = AX_PS(_mm512_unpacklo_pd(AX_PD(t[4 * i]), AX_PD(t[4 * i + 2])));
        r[4 * i + 1] = AX_PS(_mm512_unpackhi_pd(AX_PD(t[4 * i]), AX_PD(t[4 * i + 2])));
        r[4 * i + 2] = AX_PS(_mm512_unpacklo_pd(AX_PD(t[4 * i + 1]), AX_PD(t[4 * i + 3])));
        r[4 * i + 3] = AX_PS(_mm512_unpackhi_pd(AX_PD(t[4 * i + 1]), AX_PD(t[4 * i + 3])));
    }
#undef AX_PD
#undef AX_PS
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);       /* lanes 0, 1: rows 0-7 */
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xee);   /* lanes 2, 3 */
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44); /* rows 8-15 */
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xee);
    }
    for (int c = 0; c < 4; c++) { /* column 4l + c */
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd);
    }
}
/* seq (the call's data far beyond the caches: F(softmax)'s streaming flag): the 16 rows
 * (contiguous) copied into an L1 buffer in order first, the tiles loaded from there: 16 rows
 * read a vector each in turn missed in a pattern the prefetchers did not follow (2 threads,
 * one process: 262144 x 40 softmax 5.1 -> 4.3 ms, 65536 x 64 2.0 -> 1.6; in cache the copy
 * cost 5-7%, hence only there) */
static inline void ax_tr_in(const float *s0, ptrdiff_t ld, float (*d)[16], ptrdiff_t n,
                            int seq, float *sb)
{
    const float *s = s0;
    if (seq && ld == n) {
        for (ptrdiff_t i = 0; i < 16 * n; i += 16)
            _mm512_storeu_ps(sb + i, _mm512_loadu_ps(s0 + i));
        s = sb;
    }
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 16) {
        const ptrdiff_t w = n - j0 < 16 ? n - j0 : 16;
        const __mmask16 m = (__mmask16)((1u << w) - 1u);
        __m512 r[16];
        /* full pieces with a constant store count: a variable one became a memcpy of the
         * spilled tile (rep movsq, perf) */
        if (w == 16) {
            for (int g = 0; g < 16; g++) r[g] = _mm512_loadu_ps(s + g * ld + j0);
            ax_tr16(r);
            for (int c = 0; c < 16; c++) _mm512_storeu_ps(d[j0 + c], r[c]);
            continue;
        }
        for (int g = 0; g < 16; g++) r[g] = _mm512_maskz_loadu_ps(m, s + g * ld + j0);
        ax_tr16(r);
        for (ptrdiff_t c = 0; c < w; c++) _mm512_storeu_ps(d[j0 + c], r[c]);
    }
}
static inline void ax_tr_out(float (*d)[16], float *s, ptrdiff_t ld, ptrdiff_t n,
                             const int *keep)
{
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 16) {
        const ptrdiff_t w = n - j0 < 16 ? n - j0 : 16;
        const __mmask16 m = (__mmask16)((1u << w) - 1u);
        __m512 r[16];
        for (ptrdiff_t c = 0; c < 16; c++)
            r[c] = c < w ? _mm512_loadu_ps(d[j0 + c]) : _mm512_setzero_ps();
        ax_tr16(r);
        if (w == 16) {
            for (int g = 0; g < 16; g++)
                if (keep[g]) _mm512_storeu_ps(s + g * ld + j0, r[g]);
        }
        else
            for (int g = 0; g < 16; g++)
                if (keep[g]) _mm512_mask_storeu_ps(s + g * ld + j0, m, r[g]);
    }
}
#else
static inline void ax_tr_in(const float *s, ptrdiff_t ld, float (*d)[16], ptrdiff_t n,
                            int seq, float *sb)
{
    (void)seq, (void)sb;
    for (int g = 0; g < 16; g++)
        for (ptrdiff_t j = 0; j < n; j++) d[j][g] = s[g * ld + j];
}
static inline void ax_tr_out(float (*d)[16], float *s, ptrdiff_t ld, ptrdiff_t n,
                             const int *keep)
{
    for (int g = 0; g < 16; g++)
        if (keep[g])
            for (ptrdiff_t j = 0; j < n; j++) s[g * ld + j] = d[j][g];
}
#endif

/* time per element relative to relu's (csrc/ops.def `cost`, for the serial threshold of
 * act_threads_for): float32 in cache, one thread, softmax 0.53 and log_softmax 0.64 ns against
 * relu's 0.09-0.10; the GLU family ~0.45 (swiglu) per output element */
#define AX_COST_SOFTMAX 6
#define AX_COST_GLU 5
/* the 16 lanes' adds of a pass-A chunk as one vector loop: gcc left float64's compensated adds
 * (ax_add2 through pointers) scalar, ~31% of a float64 log_softmax in cache (perf annotate, 64 x
 * 1024); lane-wise the same operations, so the same bits */
#define AX_LANES_SIMD _Pragma("omp simd")

/* max(v, m) keeping a NaN of either: two selects, no ||, so gcc emits blends, not branches */
#define AX_MAX(v, m) ((v) != (v) ? (v) : ((v) > (m) ? (v) : (m)))

typedef struct {
    double ms;  /* the shift: M, with -inf -> 0 and -0 -> +0 */
    double s;   /* S (gradients: the row sum) */
    double r;   /* 1/S (0 when S == 0: fully masked or all -inf) */
    double lg;  /* log S (0 when S == 0) */
    double lse; /* M + log S (-inf when S == 0) */
} ax_stats;

/* s + c += v, with the rounding error of s + v added into c (2Sum, no branch) */
static inline void ax_add2(double *s, double *c, double v)
{
    double t = *s + v, bb = t - *s;
    *c += (*s - (t - bb)) + (v - bb);
    *s = t;
}

/* -inf (an empty, fully masked or all -inf block/row) shifts by 0 so -inf - M is not NaN; +0 for
 * -0 so which zero a max kept cannot change a later sign.  -inf is tested as m < -DBL_MAX: gcc
 * 12 did not vectorise a loop holding `m == -INFINITY ? 0.0 : m` (F(sm_rows1)'s combine) */
ACT_INLINE double ax_norm_max(double m) { return m < -DBL_MAX ? 0.0 : m + 0.0; }

/* the lanes' sum, in a fixed order (lane 0 first) with every rounding error kept (2Sum) and
 * the lanes' own compensations added in: a plain pairwise tree of the 16 partial sums rounded
 * four times, up to 2 ulp of S, which float64 softmax passed on (outputs 2.3 ulp off, relative,
 * on rows of 100) */
static inline double ax_lanes(const double *acc, const double *comp)
{
    double s = 0.0, c = 0.0;
    for (int k = 0; k < AX_K; k++) {
        ax_add2(&s, &c, acc[k]);
        c += comp[k];
    }
    return s + c;
}
/* float32's lanes: plain double sums of float terms (comp is zero), so a pairwise tree, four
 * rounds of vector adds: its ~2^-51 of S is nothing at float's 2^-24, where ax_lanes' chain of
 * sixteen 2Sums was a fixed ~60 cycles per block, most of a short row's time (perf, 4096 x 16) */
static inline double ax_lanes_tree(const double *acc)
{
    double t[AX_K / 2];
    for (int k = 0; k < AX_K / 2; k++) t[k] = acc[k] + acc[k + AX_K / 2];
    for (int w = AX_K / 4; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) t[k] += t[k + w];
    return t[0];
}

/* ax_lanes and ax_lanes_tree of each of J columns (lane k of column j in acc[k][j]), the same
 * operations in the same order per column, vectorised across the columns (F(col_a)) */
static inline void ax_lanes_cols(double (*acc)[AX_JD], double (*comp)[AX_JD], ptrdiff_t J,
                                 double *out)
{
    double s[AX_JD], c[AX_JD];
#pragma omp simd
    for (ptrdiff_t j = 0; j < J; j++) s[j] = c[j] = 0.0;
    for (int k = 0; k < AX_K; k++)
#pragma omp simd
        for (ptrdiff_t j = 0; j < J; j++) {
            double t = s[j] + acc[k][j], bb = t - s[j];
            c[j] += (s[j] - (t - bb)) + (acc[k][j] - bb); /* ax_add2 */
            s[j] = t;
            c[j] += comp[k][j];
        }
#pragma omp simd
    for (ptrdiff_t j = 0; j < J; j++) out[j] = s[j] + c[j];
}
static inline void ax_lanes_tree_cols(double (*acc)[AX_JF], ptrdiff_t J, double *out)
{
    for (int k = 0; k < AX_K / 2; k++)
#pragma omp simd
        for (ptrdiff_t j = 0; j < J; j++) acc[k][j] += acc[k + AX_K / 2][j];
    for (int w = AX_K / 4; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
#pragma omp simd
            for (ptrdiff_t j = 0; j < J; j++) acc[k][j] += acc[k + w][j];
#pragma omp simd
    for (ptrdiff_t j = 0; j < J; j++) out[j] = acc[0][j];
}

/* 2^d for |d| <= 1022, built from its bits (ldexp was a libm call per block) */
static inline double ax_pow2(int d)
{
    uint64_t u = (uint64_t)(1023 + d) << 52;
    double r;
    memcpy(&r, &u, sizeof r);
    return r;
}

/* float32 softmax whose top block (the first holding M) took the K ln2 shift: its outputs are
 * e_i f_b / S, so any factor common to every block cancels, and relative to the top block's
 * e^(K ln2) the factors of the other K-shifted blocks are 2^(K_b - K), exact, with no exp
 * (e^(K ln2 - M) per row was ~20% of a 64 x 128 softmax, one thread).  A block shifted by
 * its max m_b (outside ax_kshift_ok's range) takes e^(m_b - K ln2), K LN2HI exact.  Softmax
 * counts no max terms (c_b = 0) and needs no log S.  Returns 0 (the general path) where the
 * top block has no K: M is -inf, +inf, NaN or outside the range. */
static int ax_combine_softmax_k(const double *m, const double *s, const double *c, double *k,
                                ptrdiff_t nb, ptrdiff_t stride, double M, ax_stats *st)
{
    double kr = NAN;
    for (ptrdiff_t b = 0; b < nb; b++)
        if (m[b * stride] == M) {
            kr = k[b * stride];
            break;
        }
    if (kr != kr) return 0;
    double R = 0.0, Rc = 0.0;
    for (ptrdiff_t b = 0; b < nb; b++) {
        double v = m[b * stride], kb = k[b * stride], g;
        if (kb == kb)
            g = ax_pow2((int)(kb - kr));
        else
            g = v == -INFINITY ? 0.0
                               : act_exp((ax_norm_max(v) - kr * ACT__D_LN2HI) - kr * ACT__D_LN2LO);
        ax_add2(&R, &Rc, (c[b * stride] + s[b * stride]) * g);
        k[b * stride] = g;
    }
    double S = R + Rc;
    st->ms = ax_norm_max(M);
    st->s = S;
    st->r = 1.0 / S; /* S >= the top block's max term, e^(M - K ln2) >= 2^-1/2 */
    st->lg = 0.0;
    st->lse = 0.0; /* logsumexp's, unused by softmax */
    return 1;
}

/* A row of one block (the usual row, L <= AX_B): ax_combine_strided's arithmetic (below) and
 * ax_combine_softmax_k's for that case, with no branch, so that a loop over rows vectorises it
 * (F(sm_rows1): its act_exp and act_log1p per row in double were a third of a 1024 x 100
 * log_softmax, perf).  ax_combine_strided calls it for every one-block row, so one row takes
 * the same bits on either path.  M = m; the block holds the max unless m is NaN or -inf; with
 * the K ln2 shift softmax's factor is 2^0 (ax_pow2) and C is 0.  Both sides of every select
 * are computed: the exp of a NaN shift (a block without K), thrown away, raises no flag NumPy
 * reads (the axis calls are not ufunc loops). */
ACT_INLINE void ax_combine1_eg(int op, int need_eg, double m, double s, double c, double *k,
                               double *ms, double *sum, double *r, double *lg, double *lse)
{
    double kb = *k, Ms = ax_norm_max(m);
    int top = m >= -DBL_MAX; /* not NaN, not -inf (see ax_norm_max) */
    int sk = op == ACT_AX_SOFTMAX && kb == kb && m == m; /* ax_combine_softmax_k's case */
    /* e^(m_b - M) is 1 for the block holding the max, 0 for an all -inf block, NaN for a NaN
     * (m itself); the exp unconditionally, then selects (a call inside a select was not
     * if-converted) */
    double eg = need_eg ? act_exp((kb * ACT__D_LN2HI - Ms) + kb * ACT__D_LN2LO) : 1.0;
    double f = top ? 1.0 : (m < -DBL_MAX ? 0.0 : m);
    double g = sk ? 1.0 : (kb == kb ? eg : f);
    double w = sk ? (c + s) * g
                  : (top ? s * g : (kb == kb ? c * f + s * g : (c + s) * f));
    /* ax_add2 into R = Rc = 0, by value: an address taken in an omp simd body makes gcc
     * keep the variable in memory per lane */
    double R = 0.0 + w, bb = R - 0.0;
    double Rc = 0.0 + ((0.0 - (R - bb)) + (w - bb));
    R += Rc;
    double C = top && !sk ? 0.0 + c : 0.0, S = C + R;
    double l1 = act_log1p((C - 1.0) + R);
    *ms = Ms;
    *sum = S;
    *r = S == 0.0 ? 0.0 : 1.0 / S; /* S NaN (NaN or +inf in the row): r NaN */
    /* softmax needs no log S */
    *lg = S == 0.0 || op == ACT_AX_SOFTMAX ? 0.0 : l1;
    /* +inf in the row: the limit of logsumexp is +inf, where S is NaN (e^(inf - inf)) */
    *lse = m > DBL_MAX ? INFINITY : (S == 0.0 ? -INFINITY : Ms + *lg);
    *k = g;
}
/* need_eg = 0 where the caller knows that the softmax K shift applies (sk below: every block's
 * g is 1), so that the exp is not computed to be thrown away */
ACT_INLINE void ax_combine1(int op, double m, double s, double c, double *k, double *ms,
                            double *sum, double *r, double *lg, double *lse)
{
    ax_combine1_eg(op, 1, m, s, c, k, ms, sum, r, lg, lse);
}

/* ax_combine1 for n one-block rows (or columns), vectorised across them, with op a constant in
 * each loop, so that what op does not need is not computed: softmax's log1p, thrown away,
 * was half of the combine (perf, 16 x 21 x 128 x 128 softmax along axis 1), and its exp for
 * g where every row took the K shift.  The same operations for what is kept, so the same
 * bits. */
static void ax_combine1_n(int op, ptrdiff_t n, const double *m, const double *s,
                          const double *c, double *k, double *ms, double *sum, double *r,
                          double *lg, double *lse)
{
#define AX_C1_LOOP(OP, EG)                                                                     \
    _Pragma("omp simd") for (ptrdiff_t g = 0; g < n; g++)                                      \
    {                                                                                          \
        double kg = k[g], o1, o2, o3, o4, o5;                                                  \
        ax_combine1_eg(OP, EG, m[g], s[g], c[g], &kg, &o1, &o2, &o3, &o4, &o5);                \
        k[g] = kg, ms[g] = o1, sum[g] = o2, r[g] = o3, lg[g] = o4, lse[g] = o5;                \
    }
    int allk = 1; /* every row took the K shift (ax_combine1's sk): no g to compute */
    for (ptrdiff_t g = 0; g < n; g++) allk &= k[g] == k[g] && m[g] == m[g];
    if (op == ACT_AX_SOFTMAX && allk)
        AX_C1_LOOP(ACT_AX_SOFTMAX, 0)
    else if (op == ACT_AX_SOFTMAX)
        AX_C1_LOOP(ACT_AX_SOFTMAX, 1)
    else if (op == ACT_AX_LOG_SOFTMAX)
        AX_C1_LOOP(ACT_AX_LOG_SOFTMAX, 1)
    else
        AX_C1_LOOP(op, 1)
#undef AX_C1_LOOP
}

/* The row's statistics from its blocks, in block order.  Each block gives m_b, the number c_b
 * of its terms equal to its max (e^0 relative to it) and s_b, the sum of the other terms; so
 * for the blocks holding the row max, S = C + R with C an exact count and R the rest, and
 * log S = log1p((C - 1) + R) keeps every bit of S - 1: a plain S ~ 1.02 rounded to double
 * would cost log_softmax ~30 ULP of float64 near 0 (measured, tests/test_axis.py).
 * k[b] says what block b's terms were shifted by: NaN for its normalised max (s_b = sum
 * e^(x - m_b)), else an integer K_b for K_b ln2 (s_b = sum e^(x - K_b ln2), ax_exp_k_f); on
 * return k[b] holds the block's factor to the row, e^(shift - M), for pass B
 * (ax_block_scale). */
static void ax_combine_strided(int op, const double *m, const double *s, const double *c,
                               double *k, ptrdiff_t nb, ptrdiff_t stride, ax_stats *st)
{
    double R = 0.0, Rc = 0.0, C = 0.0;
    if (nb == 1 && op < ACT_AX_SOFTMAX_GRAD) {
        ax_combine1(op, m[0], s[0], c[0], k, &st->ms, &st->s, &st->r, &st->lg, &st->lse);
        return;
    }
    if (op >= ACT_AX_SOFTMAX_GRAD) {
        for (ptrdiff_t b = 0; b < nb; b++) ax_add2(&R, &Rc, s[b * stride]);
        st->s = R + Rc;
        st->ms = st->r = st->lg = st->lse = 0.0;
        return;
    }
    double M = -INFINITY;
    for (ptrdiff_t b = 0; b < nb; b++) {
        double v = m[b * stride];
        M = AX_MAX(v, M);
    }
    double Ms = ax_norm_max(M);
    if (op == ACT_AX_SOFTMAX && ax_combine_softmax_k(m, s, c, k, nb, stride, M, st)) return;
    /* the blocks' factors AX_CB at a time, their exps as one vector loop (both computed, then
     * selected: the exp of a NaN or infinite shift is thrown away), then added in block
     * order.  One by one, two scalar exps per block were ~5% of a 64 x 262144 log_softmax
     * (perf, one thread). */
    enum { AX_CB = 32 };
    double fv[AX_CB], gv[AX_CB];
    for (ptrdiff_t b0 = 0; b0 < nb; b0 += AX_CB) {
        const ptrdiff_t nc = nb - b0 < AX_CB ? nb - b0 : AX_CB;
#pragma omp simd
        for (ptrdiff_t i = 0; i < nc; i++) {
            double v = m[(b0 + i) * stride], kb = k[(b0 + i) * stride];
            int top = v == M && M != -INFINITY;
            /* e^(m_b - M): 1 for a block holding the max */
            double ef = act_exp(ax_norm_max(v) - Ms);
            /* K ln2 - M in double-word: K LN2HI is exact (|K| < 2^9, 32-bit LN2HI), and the
             * rounding of the rest, <= 2^-53 |K ln2 - M|, only matters where g underflows */
            double eg = act_exp((kb * ACT__D_LN2HI - Ms) + kb * ACT__D_LN2LO);
            double f = top ? 1.0 : (v == -INFINITY ? 0.0 : ef);
            fv[i] = f;
            gv[i] = kb == kb ? eg : f;
        }
        for (ptrdiff_t i = 0; i < nc; i++) {
            const ptrdiff_t b = b0 + i;
            double v = m[b * stride], kb = k[b * stride], f = fv[i], g = gv[i];
            if (v == M && M != -INFINITY) { /* scale e^0 = 1: count and rest stay apart */
                C += c[b * stride];
                ax_add2(&R, &Rc, s[b * stride] * g);
            }
            else if (kb == kb)
                ax_add2(&R, &Rc, c[b * stride] * f + s[b * stride] * g);
            else
                ax_add2(&R, &Rc, (c[b * stride] + s[b * stride]) * f);
            k[b * stride] = g;
        }
    }
    R += Rc;
    double S = C + R;
    st->ms = Ms;
    st->s = S;
    st->r = S == 0.0 ? 0.0 : 1.0 / S; /* S NaN (NaN or +inf in the row): r NaN */
    /* softmax needs no log S (and a log1p per row shows on short rows) */
    st->lg = S == 0.0 || op == ACT_AX_SOFTMAX ? 0.0 : act_log1p((C - 1.0) + R);
    /* +inf in the row (M is NaN if the row has a NaN): the limit of logsumexp is +inf, where
     * S is NaN (e^(inf - inf)) */
    st->lse = M == INFINITY ? INFINITY : (S == 0.0 ? -INFINITY : Ms + st->lg);
}
static void ax_combine(int op, const double *m, const double *s, const double *c, double *k,
                       ptrdiff_t nb, ax_stats *st)
{
    ax_combine_strided(op, m, s, c, k, nb, 1, st);
}

/* float32 softmax pass B, y from e = e^(x - shift_b) / AX_ESCALE (pass A's stored term) and the
 * block's factor c = f_b AX_ESCALE / S (ax_combine, ax_combine_softmax_k): c split into floats
 * h + l and y = fma(e, h, e l), so c's own rounding is not added to e's and the quotient's
 * (float32 softmax on normal(0, 1) rows of 4096: 2.28 -> 1.58 ulp), and softmax of one
 * element is exactly 1, a uniform row exactly 1/n, although with the K ln2 shift the max
 * term is not a power of two (e h alone gave 1 - 2^-24 for one element and missed 1/n in
 * 14-38% of uniform rows: review, 2026-12-04).  Where c is below the normal floats (a tiny
 * block factor) the split flag is returned: y = (e h) l with h = f_b / S and l = AX_ESCALE, so
 * no bits are lost to c as a subnormal (one rounding more, for outputs below 2^-62 only).
 * Without fma the product e h is carried exactly (ax_scale_hl). */
static inline int ax_block_scale(double f, const ax_stats *st, double escale, double tmin,
                                 float *h, float *l)
{
    double c = f * st->r, ce = c * escale;
    int split = ce < tmin && ce != 0.0;
    *h = (float)(split ? c : ce);
    *l = (float)(split ? escale : ce - (double)*h);
    return split;
}
/* e (h + l): one fma; without one, e h carried exactly (p + pe) and p added last, so its one
 * rounding decides the result (act__fmaf_x adds p first, for sums that cancel; here nothing
 * cancels, and its order missed 1 and 1/n in the exact cases on the baseline build) */
static inline float ax_scale_hl(float e, float h, float l)
{
#if ACT_HAS_FMA
    return ACT_FMAF(e, h, e * l);
#else
    float p, pe;
    act__two_prodf(e, h, &p, &pe);
    return p + (pe + e * l);
#endif
}
#define AX_SCALED(e, h, l, split) ((split) ? ((e) * (h)) * (l) : ax_scale_hl(e, h, l))

/* float32 softmax and log_softmax shift a block whose max m_b lies in [-224, 344] (every row of
 * ordinary logits) by K ln2, K = round(m_b / ln2), not by m_b: e^(x - K ln2) 2^64 is exp's own
 * reduction of x (n = round(x / ln2), x - n LN2HI exact while |n| < 2^9, hence the range) with
 * 2^(n - K + 64) for 2^(n + 64), so there is no x - m_b to carry exactly (its 2Sum, the clamp of
 * its low part and the add into r were 8 of the exp loop's ~24 vector operations, perf
 * annotate).  x is clamped at m_b - 120, where a term is below e^-120 of the block's max
 * (nothing a float sum keeps) and the result still normal.  log_softmax counts the max terms,
 * not sums them, as with the m_b shift, so S - 1 stays exact (ax_combine turns K back into
 * the block's factor e^(K ln2 - M)); softmax needs only ratios, so its factors are taken
 * relative to the top block's e^(K ln2) (ax_combine_softmax_k), and pass B's split factor
 * keeps its exact cases (ax_block_scale).  softmax in cache, one thread, one process: 0.47-0.49
 * -> 0.39-0.43 ns/element (64 x 1024 and 16 x 4096); at 4096^2 and (64, 262144) on 2 threads,
 * where memory sets the pace, within run-to-run noise. */
static inline int ax_kshift_ok(float m) { return m >= -224.0f && m <= 344.0f; }
static inline int32_t ax_kshift_k(float m) /* round(m / ln2), as act__fexpf_core rounds n */
{
    return (int32_t)(act__f2u(ACT_FMAF(m, 0x1.715476p0f, ACT__F_MAGIC)) -
                     act__f2u(ACT__F_MAGIC));
}
/* adj = (127 + 64 - K) << 23: the exponent bits of 2^(64 - K), added to n << 23 */
static inline float ax_exp_k_f(float x, float lo, uint32_t adj)
{
    x = x < lo ? lo : x; /* NaN passes unchanged and stays NaN */
    act__fexp_t o = act__fexpf_core(x, -0.0f);
    float s = act__u2f(o.n23 + adj);
    return ACT_FMAF(o.v, s, s);
}

/* e^(x - ms) with x - ms carried as 2Sum hi + lo (exact).  An infinite x makes lo NaN: 0 then.
 * x <= ms (ms is the row maximum), so float uses vmathf.h's exp for arguments <= 0 (fma where the
 * target has it; the shift is clamped at -131, where the result is 0 either way); double: 0
 * below -800. */
static inline float ax_exp_shift_f(float x, float ms)
{
    float dh = x - ms, bb = dh - x;
    float dl = (x - (dh - bb)) + (-ms - bb);
    /* below -131 (and for x = -inf, whose dl is NaN) the result is 0 either way; a NaN dh (x
     * NaN, or x = ms = +inf) passes the compare and stays NaN */
    int c = dh < -131.0f;
    dh = c ? -131.0f : dh;
    dl = c ? 0.0f : dl;
    /* e^(x - ms) 2^64 (vmathf.h): AX_ESCALE = 2^-64 is applied to the double sums and folded
     * into pass B's factor, which saves a multiply per element and a rounding of subnormal
     * terms */
    return act__fexpneg64f_inrange(dh, dl);
}
/* e^(x - ms) as a double-word hi + lo, |lo| <= ulp(hi)/2: act_exp's arithmetic (hi is its
 * result, <= 0.77 ulp) with the rounding error of its last addition kept (Fast2Sum: 1 + r
 * outweighs the rest), so hi + lo carries ~2^-57 of relative error. */
typedef struct {
    double h, l;
} ax_dd;
static inline ax_dd ax_exp_shift_dd(double x, double ms)
{
    double dh = x - ms, bb = dh - x;
    double dl = (x - (dh - bb)) + (-ms - bb);
    dl = dl == dl ? dl : 0.0;
    int c = dh < -800.0;
    dh = c ? -800.0 : dh;
    dl = c ? 0.0 : dl;
#if ACT_HAS_FMA
    /* with fma, act_exp_fast's reduction (vmath.h act__exp_reduce_fma: ~36 vector operations
     * against ~60) and the tail dl as dl e^r, as act__exp_fma takes it; the FMA targets agree
     * bit for bit, the baseline build keeps the fma-free form below (SPEC §5) */
    act__redd o = act__exp_reduce_fma(dh);
    double s = 1.0 + o.r;
    double t = ACT_FMA(dl, s + o.q, o.q) + ((1.0 - s) + o.r);
#else
    act__redd o = act__exp_reduce(dh, 0.0, dl);
    double s = 1.0 + o.r; /* act__exp_mant: s + t, its last addition */
    double t = o.q + (((1.0 - s) + o.r) + (o.rlo + o.rlo * o.r));
#endif
    double mh = s + t, ml = t - (mh - s);
    ax_dd e = {act__scale(mh, o.n1, o.n2), act__scale(ml, o.n1, o.n2)};
    return e;
}
static inline double ax_exp_shift_d(double x, double ms) { return ax_exp_shift_dd(x, ms).h; }
/* float64 softmax's outputs, (hi + lo) / S for the double-word e^(x - ms), as (hi + lo)(rh + rl)
 * with rh + rl = 1/S to ~2^-106 (ax_recip_dd, once per row): hi rh carried exactly
 * (act__two_prod: the same two doubles with or without fma, so the product adds no difference
 * between targets) and the small terms added to its error, so the exponential's rounding (up
 * to 0.77 ulp) and the quotient's do not add up (float64 softmax 2.5 -> 1.8 ulp on the
 * docs/accuracy.md rows, once S's lanes were summed with their errors: ax_lanes; the same
 * 2.31 ulp before and
 * after on 200 rows of 4096 at scale 10).  It replaces two divisions per element (the
 * quotient and its correction): softmax in cache, one thread, 16 x 4096, 5.5 -> 5.3
 * ns/element, one process each, alternating.  The exponential is the rest of pass B's cost:
 * keeping pass A's terms in y as float32 does halves the time (3.1 ns/element) but
 * stores them rounded, and their rounding (up to 1.1 ulp of the output) with S's (up to 1)
 * measured 3.4 ulp on the same rows, over SPEC's aim of 2.  Below
 * 2^-968 (within 54 bits of the subnormals, where a split's partial products may underflow
 * and the error term would not be exact without fma) the product hi rh alone, on every
 * target.  S = 0 (nothing counted: a fully masked row) gives rh = rl = 0, so 0. */
static inline void ax_recip_dd(double S, double *rh, double *rl)
{
    double h = S == 0.0 ? 0.0 : 1.0 / S, p, pe;
    act__two_prod(h, S, &p, &pe); /* exact: S >= 1 unless 0 or NaN (the max term is e^0) */
    *rh = h;
    *rl = S == 0.0 ? 0.0 : ((1.0 - p) - pe) * h;
}
static inline double ax_softmax_q_d(double x, double ms, double rh, double rl)
{
    ax_dd e = ax_exp_shift_dd(x, ms);
    double p, pe;
    act__two_prod(e.h, rh, &p, &pe);
    return p < 0x1p-968 ? p : p + (pe + (e.h * rl + e.l * rh));
}

/* ---- float64 logsumexp where M + log S cancels ----
 * M < 0 < log S: the result M + log S is smaller than log S, whose own ~1 ulp then weighs
 * |log S| / |result| ulp of the result (1680 ULP measured on rows of 7, N(0, 10):
 * docs/accuracy.md before 2026-12-05).  Normalised log-probabilities cancel furthest: their
 * logsumexp is 0 but for their own roundings, ~2^-55, and a plain double result was off by up
 * to 1e16 ULP.  Such rows (|result| < 2 log S, M < 0: outside them the plain sum is <= 2 ulp,
 * see ax_lse_cancels) are redone here in triple-double: every term e^(x - M) from the exact
 * shift, their sum, and log S by one Newton step on that sum, to ~2^-150 log S absolute, so
 * a result is within 1 ulp down to ~2^-95 log S.  Double-double (~2^-104) was not enough: a
 * row of 50 log-probabilities with a result of 7e-19 came out 57 ULP off.  Only the rows that
 * cancel take this path (all log-probability rows do), at 6-8x a plain row's time (rows of 50
 * and 1000, one thread: 22.3 and 14.4 ns/element against 3.7 and 1.8,
 * bench/results/logsumexp_cancel.md). */

/* s0 + s1 + s2 += v: two 2Sums, every rounding error kept but s2's own (~2^-106 |s1|) */
#define AX_TD_ADD(s0, s1, s2, v)                                                               \
    do {                                                                                       \
        double t_ = (s0) + (v), b_ = t_ - (s0), e_ = ((s0) - (t_ - b_)) + ((v) - b_);          \
        (s0) = t_;                                                                             \
        t_ = (s1) + e_, b_ = t_ - (s1);                                                        \
        (s2) += ((s1) - (t_ - b_)) + (e_ - b_);                                                \
        (s1) = t_;                                                                             \
    } while (0)
typedef struct {
    double a, b, c;
} ax_td;
/* 2^(j/64), j = 0..63, as three doubles, each the nearest to what the others leave (mpmath at
 * 400 bits) */
static const double AX_EXP2_64[64][3] = {
    {0x1.0000000000000p+0, 0x0.0p+0, 0x0.0p+0},
    {0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56, -0x1.9085b0a3d74d5p-110},
    {0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55, 0x1.05ff94f8d257ep-110},
    {0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57, 0x1.15820d96b414fp-111},
    {0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54, -0x1.67c9bd6ebf74cp-108},
    {0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59, -0x1.5aa76994e9ddbp-113},
    {0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54, 0x1.9d58b988f562dp-109},
    {0x1.1429aaea92de0p+0, -0x1.32fbf9af1369ep-54, -0x1.2fe7bb4c76416p-108},
    {0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55, 0x1.4f2406aa13ff0p-109},
    {0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55, 0x1.ad36183926ae8p-111},
    {0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54, 0x1.ea62d0881b918p-110},
    {0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55, -0x1.781dbc16f1ea4p-111},
    {0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54, -0x1.4d89f9af532e0p-109},
    {0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55, 0x1.277393a461b77p-110},
    {0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55, 0x1.de54485604690p-111},
    {0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54, -0x1.ee9d8f8cb9307p-110},
    {0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55, 0x1.7b7b2f09cd0d9p-110},
    {0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54, -0x1.406a2ea6cfc6bp-108},
    {0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54, 0x1.87e3e12516bfap-108},
    {0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56, 0x1.9b0b1ff17c296p-111},
    {0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55, -0x1.808ba68fa8fb7p-109},
    {0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58, -0x1.32b43eafc6518p-114},
    {0x1.44e086061892dp+0, 0x1.89b7a04ef80d0p-59, -0x1.0ac312de3d922p-114},
    {0x1.486a2b5c13cd0p+0, 0x1.3c1a3b69062f0p-56, 0x1.e1eebae743ac0p-111},
    {0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56, 0x1.c06c7745c2b39p-113},
    {0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54, -0x1.1aa1fd7b685cdp-112},
    {0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55, 0x1.fa733951f214cp-111},
    {0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54, -0x1.ff86852a613ffp-111},
    {0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54, -0x1.744ee506fdafep-109},
    {0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54, -0x1.95f9ab75fa7d6p-108},
    {0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54, 0x1.5d8e757cfb991p-111},
    {0x1.6623882552225p+0, -0x1.bb60987591c34p-54, 0x1.4a337f4dc0a3bp-108},
    {0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54, 0x1.57d3e3adec175p-108},
    {0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57, 0x1.a59f88abbe778p-115},
    {0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55, -0x1.269796953a4c3p-109},
    {0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54, -0x1.8f8e7fa19e5e8p-108},
    {0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55, -0x1.4217a932d10d4p-113},
    {0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56, 0x1.70a1427f8fcdfp-112},
    {0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54, 0x1.0f6ad65cbbac1p-112},
    {0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54, -0x1.f16f65181d921p-109},
    {0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54, -0x1.30644a7836333p-110},
    {0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55, 0x1.3bf26d2b85163p-114},
    {0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57, 0x1.697e257ac0db2p-111},
    {0x1.97d829fde4e50p+0, -0x1.d185b7c1b85d1p-54, 0x1.7edb9d7144b6fp-108},
    {0x1.9c49182a3f090p+0, 0x1.c7c46b071f2bep-56, 0x1.6376b7943085cp-110},
    {0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54, 0x1.354084551b4fbp-109},
    {0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54, -0x1.bfd7adfd63f48p-111},
    {0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54, 0x1.8b16ae39e8cb9p-109},
    {0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54, 0x1.a7fbc3ae675eap-108},
    {0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57, 0x1.2babc0edda4d9p-111},
    {0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56, 0x1.aa64481e1ab72p-111},
    {0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55, 0x1.9a164050e1258p-109},
    {0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55, 0x1.99e51125928dap-110},
    {0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54, -0x1.fc44c329d5cb2p-109},
    {0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56, 0x1.d8765566b032ep-110},
    {0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54, -0x1.e7044039da0f6p-108},
    {0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55, -0x1.ab053b05531fcp-111},
    {0x1.da9e603db3285p+0, 0x1.c2300696db532p-54, 0x1.7f6246f0ec615p-108},
    {0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54, 0x1.b7225a944efd6p-108},
    {0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55, 0x1.1e92cb3c2d278p-109},
    {0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54, -0x1.fc0f242bbf3dep-109},
    {0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6b0p-54, 0x1.f6dd5d229ff69p-108},
    {0x1.f50765b6e4540p+0, 0x1.9d3e12dd8a18bp-54, -0x1.4019bffc80ef3p-110},
    {0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55, 0x1.dc060c36f7651p-112}
};
/* ln2/64 = A + B + C (+ 2^-163): A has 39 significant bits, so k A is exact for |k| < 2^14 */
#define AX_L64A 0x1.62e42fefa4000p-7
#define AX_L64B -0x1.8432a1b0e2634p-49
#define AX_L64C 0x1.f97b57a079a19p-109
#define AX_INV_L64 0x1.71547652b82fep+6 /* 64 / ln2 */
/* a + b * x in double-double, x a double (a Horner step of ax_exp_td) */
#define AX_DD_HORNER(vh, vl, ah, al, x)                                                        \
    do {                                                                                       \
        double p_, pe_;                                                                        \
        act__two_prod(vh, x, &p_, &pe_);                                                       \
        pe_ += (vl) * (x);                                                                     \
        double s_ = (ah) + p_, b_ = s_ - (ah), e_ = ((ah) - (s_ - b_)) + (p_ - b_);            \
        e_ += (al) + pe_;                                                                      \
        (vh) = s_ + e_, (vl) = e_ - ((vh) - s_);                                               \
    } while (0)
/* e^(dh + dl) for dh in [-120, 45], |dl| <= ulp(dh), in triple-double (~2^-150 relative).
 * k = round(dh 64 / ln2); r = dh + dl - k ln2/64 = r0 + rho, |r0| <= ln2/128 = 2^-7.5,
 * |rho| ~ 2^-60; e^r0 - 1 = r0 + r0^2/2 + r0^3 Q(r0), r0^2 exact (two_prod), Q = 1/6 +
 * r0/24 + ... in double-double (degrees 3-7; 8-14 in double: below 2^-75, their roundings
 * below 2^-128; the next term below 2^-150), and e^r - 1 = u0 + rho (1 + u0) + rho^2/2.  Then
 * 2^(k/64) e^r = T + T u with T from the table, the products kept exact where they reach
 * 2^-125.  Every operation is exact on every target (act__two_prod), so the same bits
 * everywhere; no branch, so a loop of it vectorises (the table's load is a gather). */
ACT_INLINE ax_td ax_exp_td(double dh, double dl)
{
    /* k in the low bits of kd (|k| < 2^14); integer steps only in 64-bit lanes, with the
     * floor of k / 64 from a logical shift of k + 2^17 (AVX2 has no 64-bit arithmetic shift
     * or double -> int64 conversion: with those the loop was not vectorised) */
    const double shifter = 0x1.8p52;
    double kd = dh * AX_INV_L64 + shifter, kf = kd - shifter, pb, eb;
    uint64_t kb = act__d2u(kd) - act__d2u(shifter) + (1u << 17);
    act__two_prod(kf, AX_L64B, &pb, &eb);
    double r0 = dh - kf * AX_L64A, r1 = 0.0, r2 = 0.0; /* dh - k A: exact (A's 39 bits) */
    AX_TD_ADD(r0, r1, r2, -pb);
    AX_TD_ADD(r0, r1, r2, dl);
    AX_TD_ADD(r0, r1, r2, -eb);
    AX_TD_ADD(r0, r1, r2, -kf * AX_L64C); /* k C: <= 2^-95, its rounding below 2^-148 */
    double rho = r1 + r2;
    /* e^r0 - 1 */
    double p2, e2, q3, q3e;
    act__two_prod(r0, r0, &p2, &e2);
    double q8 = ((((((0x1.93974a8c07c9dp-37 * r0 + 0x1.6124613a86d09p-33) * r0 +
                     0x1.1eed8eff8d898p-29) * r0 + 0x1.ae64567f544e4p-26) * r0 +
                   0x1.27e4fb7789f5cp-22) * r0 + 0x1.71de3a556c734p-19) * r0 +
                 0x1.a01a01a01a01ap-16);
    double vh = 0x1.a01a01a01a01ap-13, vl = 0x1.a01a01a01a01ap-73 + q8 * r0;
    AX_DD_HORNER(vh, vl, 0x1.6c16c16c16c17p-10, -0x1.f49f49f49f49fp-65, r0);
    AX_DD_HORNER(vh, vl, 0x1.1111111111111p-7, 0x1.1111111111111p-63, r0);
    AX_DD_HORNER(vh, vl, 0x1.5555555555555p-5, 0x1.5555555555555p-59, r0);
    AX_DD_HORNER(vh, vl, 0x1.5555555555555p-3, 0x1.5555555555555p-57, r0); /* Q */
    act__two_prod(p2, r0, &q3, &q3e); /* r0^3 = q3 + q3e, to 2^-106 */
    q3e += e2 * r0;
    double wh, wl; /* W = r0^3 Q <= 2^-25, to 2^-104 of it */
    act__two_prod(q3, vh, &wh, &wl);
    wl += q3 * vl + q3e * vh;
    double u0 = r0, u1 = 0.0, u2 = 0.0;
    AX_TD_ADD(u0, u1, u2, 0.5 * p2);
    AX_TD_ADD(u0, u1, u2, wh);
    AX_TD_ADD(u0, u1, u2, 0.5 * e2);
    AX_TD_ADD(u0, u1, u2, wl);
    /* rho (1 + u0) + rho^2/2: rho ~ 2^-60, so u0 to 2^-57 of itself and doubles suffice */
    double ua = r0 + (0.5 * p2 + wh);
    AX_TD_ADD(u0, u1, u2, rho);
    AX_TD_ADD(u0, u1, u2, rho * ua + 0.5 * rho * rho);
    /* T + T u, T = t0 + t1 + t2 */
    const uint64_t j = kb & 63;
    const double T[3] = {AX_EXP2_64[j][0], AX_EXP2_64[j][1], AX_EXP2_64[j][2]};
    double a, ae, b, be, c, ce;
    act__two_prod(T[0], u0, &a, &ae);
    act__two_prod(T[0], u1, &b, &be);
    act__two_prod(T[1], u0, &c, &ce);
    double x0 = T[0], x1 = 0.0, x2 = 0.0;
    AX_TD_ADD(x0, x1, x2, a);
    AX_TD_ADD(x0, x1, x2, T[1]);
    AX_TD_ADD(x0, x1, x2, ae);
    AX_TD_ADD(x0, x1, x2, b);
    AX_TD_ADD(x0, x1, x2, c);
    AX_TD_ADD(x0, x1, x2, T[2] + ((be + ce) + (T[0] * u2 + T[1] * u1 + T[2] * u0)));
    double s = act__u2d(((kb >> 6) + (1023 - 2048)) << 52); /* 2^floor(k/64), exact */
    ax_td e = {x0 * s, x1 * s, x2 * s};
    return e;
}
#undef AX_DD_HORNER

/* logsumexp of one float64 row (L elements, stride apart) with M = ms its shift and lg = log S
 * from the plain sum (the Newton step's start): the terms AX_LC at a time in a vector loop,
 * term i added into lane i % AX_LW of a triple-double sum, the lanes added in order at the
 * end.  One sum was a chain of ~20 dependent adds per term, most of the row's time. */
static double ax_lse_td(const double *x, ptrdiff_t L, ptrdiff_t stride, double M, double lg)
{
    enum { AX_LC = 64, AX_LW = 8 };
    double t0[AX_LC], t1[AX_LC], t2[AX_LC], s0[AX_LW], s1[AX_LW], s2[AX_LW];
    for (int w = 0; w < AX_LW; w++) s0[w] = s1[w] = s2[w] = 0.0;
    /* -120 that gcc cannot fold (0 M is NaN for an infinite M, which never comes here):
     * with a constant, it computed the clamped lanes' exp at compile time and kept the
     * others' under a mask */
    const double lo = -120.0 + 0.0 * M;
    for (ptrdiff_t i0 = 0; i0 < L; i0 += AX_LC) {
        const ptrdiff_t n = L - i0 < AX_LC ? L - i0 : AX_LC;
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[(i0 + i) * stride], dh = v - M, bb = dh - v;
            double dl = (v - (dh - bb)) + (-M - bb); /* dh + dl = x - M exactly (2Sum) */
            /* a term below e^-120 = 2^-173 is nothing to S >= 1: such shifts (and -inf) are
             * clamped to -120, whose term is added instead, so that every lane computes the
             * same thing (a select of the result made gcc mask the table's gather, which AVX2
             * cannot: the loop was not vectorised) */
            int keep = dh >= lo;
            ax_td e = ax_exp_td(keep ? dh : lo, keep ? dl : 0.0);
            t0[i] = e.a, t1[i] = e.b, t2[i] = e.c;
        }
        const ptrdiff_t nw = (n + AX_LW - 1) / AX_LW * AX_LW;
        for (ptrdiff_t i = n; i < nw; i++) t0[i] = t1[i] = t2[i] = 0.0; /* adds nothing */
        for (ptrdiff_t g = 0; g < nw; g += AX_LW)
#pragma omp simd
            for (int w = 0; w < AX_LW; w++) {
                double a = s0[w], b = s1[w], c = s2[w];
                AX_TD_ADD(a, b, c, t0[g + w]);
                AX_TD_ADD(a, b, c, t1[g + w]);
                c += t2[g + w];
                s0[w] = a, s1[w] = b, s2[w] = c;
            }
    }
    double S0 = s0[0], S1 = s1[0], S2 = s2[0];
    for (int w = 1; w < AX_LW; w++) {
        AX_TD_ADD(S0, S1, S2, s0[w]);
        AX_TD_ADD(S0, S1, S2, s1[w]);
        S2 += s2[w];
    }
    /* log S = lg + log1p(t), t = S / e^lg - 1 ~ 2^-52 as th + tl: log1p(t) = t - t^2/2 to
     * 2^-150.  S0 - E0 is exact (Sterbenz: S and E agree to a few ulp) */
    ax_td E = ax_exp_td(lg, 0.0);
    double d0 = S0 - E.a, d1 = 0.0, d2 = 0.0;
    AX_TD_ADD(d0, d1, d2, S1);
    AX_TD_ADD(d0, d1, d2, -E.b);
    AX_TD_ADD(d0, d1, d2, S2 - E.c);
    double th = d0 / E.a, p, pe;
    act__two_prod(th, E.a, &p, &pe);
    double tl = ((((d0 - p) - pe) + (d1 + d2)) - th * E.b) / E.a;
    double z0 = M, z1 = 0.0, z2 = 0.0;
    AX_TD_ADD(z0, z1, z2, lg);
    AX_TD_ADD(z0, z1, z2, th);
    AX_TD_ADD(z0, z1, z2, tl - 0.5 * th * th);
    double h = z0 + z1, hb = h - z0;
    return h + (((z0 - (h - hb)) + (z1 - hb)) + z2);
}

/* float64 logsumexp's output for a row with statistics st: the plain M + log S where it is
 * accurate, else ax_lse_td.  Plain: log S's error ~1.5 eps log S is at most 0.75 eps |result|
 * when |result| >= 2 log S, and nothing cancels when M >= 0; NaN, +-inf and S == 0 (lse
 * -inf) fail the test and stay as they are. */
ACT_INLINE int ax_lse_cancels(const ax_stats *st)
{
    return st->ms < 0.0 && act__abs(st->lse) < 2.0 * st->lg;
}
static double ax_lse_refine(const ax_stats *st, const double *x, ptrdiff_t L, ptrdiff_t stride)
{
    return ax_lse_cancels(st) ? ax_lse_td(x, L, stride, st->ms, st->lg) : st->lse;
}
/* log_softmax: float32 as (x - ms) - lg in float, lg = log S rounded to float: x - ms <= 0 and
 * -lg <= 0 (S >= 1, the max term is 1), so nothing cancels and the three roundings give
 * <= 1.5 ulp (x = ms, the row max: -lg, 0.5 ulp).  In double, rounded once, it was 0.5 ulp,
 * and its conversions were 11% of a 16 x 4096 row set in cache (1.14 -> 1.02 ns/element, C
 * harness, 1 thread).  float64 as (hi - lg) + lo so the shift adds no rounding of its own. */
static inline float ax_lsm_f(float x, float ms, float lg) { return (x - ms) - lg; }
static inline double ax_lsm_d(double x, double ms, double lg)
{
    double dh = x - ms, bb = dh - x;
    double dl = (x - (dh - bb)) + (-ms - bb);
    dl = dl == dl ? dl : 0.0;
    return (dh - lg) + dl;
}

/* Pass A's exponentials in the storage type (2Sum-exact shift, <= 1.05 ULP each) except float32
 * logsumexp, which works in double: M + log S can cancel (x = [-1, -1, -1]: -1 + log 3 keeps
 * a tenth of log S), so log S needs more than float's accuracy.  log_softmax does not:
 * |y_i| >= log S for every i, and the error of S is below eps*(S - 1) (the max term is exactly
 * 1), so log S is as accurate relative to every output as the exponentials are. */
/* Lane sums: float32 terms summed in double already carry ~2^-29 of slack per add, so a plain
 * add; float64 terms use a 2Sum-compensated add (a plain 16-lane sum of 70000 terms measured
 * 5 ULP on softmax, over SPEC's 4). */
#define T float
#define SFX f32
#define AX_J AX_JF
#define AX_CNT int32_t /* blk_a's count lanes (see there) */
#define AX_ADD(s, c, v) ((s) += (v))
#define AX_LANES(acc, comp) ax_lanes_tree(acc)
#define AX_LANES_COLS(acc, comp, J, out) ax_lanes_tree_cols(acc, J, out)
#define AX_COMP 0 /* no lane compensations */
/* float32 softmax stores its shifted terms in pass A and rescales them in pass B (one exp per
 * element; 2.4 ULP measured on random rows of 7 to 70000 at scales 1-100, ax_block_scale);
 * float64 recomputes e^(x - M) / S in pass B: its stored terms' rounding, S's and that of
 * e^(m_b - M) measured 3.4-4 ULP there (ax_softmax_q_d) */
#define AX_STORE_E 1
#define AX_KSHIFT 1 /* the K ln2 shift (ax_exp_k_f) for both */
#define AX_KSHIFT_OP(op) ((op) == ACT_AX_LOG_SOFTMAX || (op) == ACT_AX_SOFTMAX)
#define AX_ESCALE 0x1p-64 /* ax_exp_shift_f returns e^(x - ms) 2^64 */
#define AX_TMIN 0x1p-126  /* FLT_MIN */
#define AX_EXP_IN_T(op) ((op) == ACT_AX_SOFTMAX || (op) == ACT_AX_LOG_SOFTMAX)
#define EXP_SHIFTED(x, ms) ax_exp_shift_f(x, ms)
#define SOFTMAX_Q(x, ms, rh, rl) 0 /* unused: AX_STORE_E */
#define LOG_SOFTMAX(x, ms, lg) ax_lsm_f(x, ms, lg)
/* log_softmax_grad's dy - e^y s in float: vmathf.h's exp (<= 1.05 ulp), s rounded to float, one
 * fma: measured 1.15 eps of its terms (dy + e^y sum |dy|, docs/accuracy.md; the double form it
 * replaces: 0.5).  act_exp in double was 2.6 ns/element in cache, 4x PyTorch's time
 * (bench/results 2026-12-04) */
#define LSM_GRAD(dy, y, s) ACT_FMAF(-act_fexpf(y), (float)(s), dy)
/* softmax_grad's y (dy - s) in float, s rounded to float: measured 1.21 eps of its terms
 * (y |dy| + y sum |y dy|, docs/accuracy.md; the double form it replaces: 0.5, at the cost of
 * conversions that made pass B as slow as pass A, perf) */
#define SOFTMAX_GRAD(y, dy, s) ((y) * ((dy) - (float)(s)))
/* A row sum s near float's range would overflow those forms ((float)s, or dy - s) where the
 * result is finite: such rows (|s| >= 2^100, or NaN) take the double forms instead, the run's
 * choice made once per row (or per column set) */
#define AX_GRAD_NARROW(s) (fabs(s) < 0x1p100)
#define SOFTMAX_GRAD_WIDE(y, dy, s) ((float)((double)(y) * ((double)(dy) - (s))))
#define LSM_GRAD_WIDE(dy, y, s) ((float)((double)(dy) - (double)act_fexpf(y) * (s)))
#define FORM(op, kind) act_##op##_##kind##_wf
#define AX_LSE_CANCELS(st) 0 /* float32 logsumexp is rounded once from a double result */
#define AX_LSE_OUT(st, xr, L, stride) ((float)(st)->lse)
#include "axis_t.h"
#undef T
#undef AX_J
#undef AX_CNT
#undef SFX
#undef EXP_SHIFTED
#undef SOFTMAX_Q
#undef LOG_SOFTMAX
#undef LSM_GRAD
#undef SOFTMAX_GRAD
#undef AX_GRAD_NARROW
#undef SOFTMAX_GRAD_WIDE
#undef LSM_GRAD_WIDE
#undef FORM
#undef AX_LSE_CANCELS
#undef AX_LSE_OUT
#undef AX_EXP_IN_T
#undef AX_ADD
#undef AX_LANES
#undef AX_LANES_COLS
#undef AX_COMP
#undef AX_STORE_E
#undef AX_KSHIFT
#undef AX_KSHIFT_OP
#undef AX_ESCALE
#undef AX_TMIN

#define T double
#define SFX f64
#define AX_J AX_JD
#define AX_CNT double
#define AX_ADD(s, c, v) ax_add2(&(s), &(c), (v))
#define AX_LANES(acc, comp) ax_lanes(acc, comp)
#define AX_LANES_COLS(acc, comp, J, out) ax_lanes_cols(acc, comp, J, out)
#define AX_COMP 1
#define AX_STORE_E 0
#define AX_KSHIFT 0
#define AX_KSHIFT_OP(op) 0
#define AX_ESCALE 1.0
#define AX_TMIN 0x1p-1022 /* DBL_MIN */
#define AX_EXP_IN_T(op) ((op) <= ACT_AX_LOGSUMEXP)
#define EXP_SHIFTED(x, ms) ax_exp_shift_d(x, ms)
#define SOFTMAX_Q(x, ms, rh, rl) ax_softmax_q_d(x, ms, rh, rl)
#define LOG_SOFTMAX(x, ms, lg) ax_lsm_d(x, ms, lg)
#define LSM_GRAD(dy, y, s) ((dy) - act_exp_fast(y) * (s)) /* fma exp where the target has it */
#define SOFTMAX_GRAD(y, dy, s) ((y) * ((dy) - (s)))
#define AX_GRAD_NARROW(s) 1
#define SOFTMAX_GRAD_WIDE(y, dy, s) SOFTMAX_GRAD(y, dy, s)
#define LSM_GRAD_WIDE(dy, y, s) LSM_GRAD(dy, y, s)
#define FORM(op, kind) act_##op##_##kind##_wd
#define AX_LSE_CANCELS(st) ax_lse_cancels(st)
#define AX_LSE_OUT(st, xr, L, stride) ax_lse_refine(st, xr, L, stride)
#include "axis_t.h"
#undef T
#undef AX_J
#undef AX_CNT
#undef SFX
#undef EXP_SHIFTED
#undef SOFTMAX_Q
#undef LOG_SOFTMAX
#undef LSM_GRAD
#undef SOFTMAX_GRAD
#undef AX_GRAD_NARROW
#undef SOFTMAX_GRAD_WIDE
#undef LSM_GRAD_WIDE
#undef FORM
#undef AX_LSE_CANCELS
#undef AX_LSE_OUT
#undef AX_EXP_IN_T
#undef AX_ADD
#undef AX_LANES
#undef AX_LANES_COLS
#undef AX_COMP
#undef AX_STORE_E
#undef AX_KSHIFT
#undef AX_KSHIFT_OP
#undef AX_ESCALE
#undef AX_TMIN

/* ---- the dtype-dispatching entry points of this target ---- */
#define AXN_(n, i) act_ax_##n##_##i
#define AXN(n, i) AXN_(n, i)
#define AXT(n, s) AXN(n##_##s, ACT_ISA)

static int AXN(softmax, ACT_ISA)(int op, int dt, const void *x, const void *x2,
                                 const unsigned char *mk, void *y, ptrdiff_t outer, ptrdiff_t L,
                                 ptrdiff_t inner)
{
    if (dt == ACT_F32)
        return AXT(softmax, f32)(op, x, x2, mk, y, outer, L, inner);
    return AXT(softmax, f64)(op, x, x2, mk, y, outer, L, inner);
}
static void AXN(glu, ACT_ISA)(int op, int dt, const void *a, const void *b, ptrdiff_t istride,
                              void *y, ptrdiff_t outer, ptrdiff_t n)
{
    if (dt == ACT_F32)
        AXT(glu, f32)(op, a, b, istride, y, NULL, NULL, NULL, 0, outer, n);
    else
        AXT(glu, f64)(op, a, b, istride, y, NULL, NULL, NULL, 0, outer, n);
}
static void AXN(glu_grad, ACT_ISA)(int op, int dt, const void *dy, const void *a, const void *b,
                                   ptrdiff_t istride, void *da, void *db, ptrdiff_t ostride,
                                   ptrdiff_t outer, ptrdiff_t n)
{
    if (dt == ACT_F32)
        AXT(glu, f32)(op, a, b, istride, NULL, dy, da, db, ostride, outer, n);
    else
        AXT(glu, f64)(op, a, b, istride, NULL, dy, da, db, ostride, outer, n);
}
static void AXN(maxout, ACT_ISA)(int dt, const void *x, void *y, ptrdiff_t outer, ptrdiff_t G,
                                 ptrdiff_t pool, ptrdiff_t inner)
{
    if (dt == ACT_F32)
        AXT(maxout, f32)(x, y, NULL, NULL, outer, G, pool, inner);
    else
        AXT(maxout, f64)(x, y, NULL, NULL, outer, G, pool, inner);
}
static void AXN(maxout_grad, ACT_ISA)(int dt, const void *dy, const void *x, void *dx,
                                      ptrdiff_t outer, ptrdiff_t G, ptrdiff_t pool,
                                      ptrdiff_t inner)
{
    if (dt == ACT_F32)
        AXT(maxout, f32)(x, NULL, dy, dx, outer, G, pool, inner);
    else
        AXT(maxout, f64)(x, NULL, dy, dx, outer, G, pool, inner);
}

#define AX_TABLE_(i) act_axis_table_##i
#define AX_TABLE(i) AX_TABLE_(i)
const act_axis_fns AX_TABLE(ACT_ISA) = {
    AXN(softmax, ACT_ISA), AXN(glu, ACT_ISA), AXN(glu_grad, ACT_ISA), AXN(maxout, ACT_ISA),
    AXN(maxout_grad, ACT_ISA),
};
