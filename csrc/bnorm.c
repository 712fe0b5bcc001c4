/* Batch-normalization kernels: statistics, apply with a fused activation, backward.
 *
 * Compiled once per CPU target: isa_<target>.c includes eltwise.c, then this file, with that
 * target's flags.  The per-dtype code is the template bnorm_t.h, stamped four times:
 * float16 and bfloat16 (computed in float32, statistics and parameters float32 as for float32),
 * float32 (float32 arithmetic, float64 partial sums) and float64.
 *
 * Numerics.  Statistics are blocked two-pass: each block (<= ACT_BN_BLK elements, in L1) is
 * summed for its mean, then read again for the sum of squared deviations from that mean
 * (blocks of float compute type: one pass of sums of d = x - K and d^2, K one of the block's
 * values, exact in double; bnorm_t.h col_shift and shift16); block partials (count, mean, M2)
 * are merged with Chan's formula in block order.  Never E[x^2]-E[x]^2: a constant channel at
 * 1e7 gives M2 = 0 exactly.  Sums use 16 fixed lanes, combined in a fixed
 * tree, so gcc vectorises them without -ffast-math and every ISA gives the same bits
 * (-ffp-contract=off; the lanes do not depend on the vector width).
 *
 * Threads.  Blocks depend on the shape only; each block's partial goes to its own slot and the
 * slots are merged serially in order, so results are bit-identical for any thread count.  NCHW
 * splits each channel into blocks (parallel within a channel when C < threads), and takes short
 * lines one at a time in memory order (bn_line); channels-last splits rows, row blocks folded
 * into super blocks.
 */
#ifndef ACT_ISA
#error "compile bnorm.c through isa_<target>.c, which defines ACT_ISA"
#endif
#include "bnorm.h"
#include "half.h"
#include <stdlib.h>
#include <string.h>

#ifndef ISA_NAME
#define ACT_CAT2_(a, b) a##_##b
#define ACT_CAT2(a, b) ACT_CAT2_(a, b)
#define ISA_NAME(n) ACT_CAT2(n, ACT_ISA)
#endif

#define BLK ACT_BN_BLK
/* a pass's time per element relative to relu's (csrc/ops.def `cost`), for the serial threshold
 * of act_threads_for: apply runs at about relu's speed, the statistics at ~2x in cache
 * (NHWC 32x56x56x64 float32, 1 thread: 1.1 ms against 0.75 for a read of x; 1.9 before the
 * one-pass form); 2 keeps the threshold near the 16K elements it had before ops.def's costs
 * were re-measured */
#define BN_COST 2
/* Channels-last apply and grad_apply take four rows per pass over the channels when a row has
 * at most this many bytes.  Four rows of 64 float32 channels interleave 16 cache lines of x
 * (and of dy, and of the output), and from memory that ran slower than row by row: NHWC
 * 32x56x56x64 grad_apply, 1 thread, 2.7 against 2.1 ms (C=128: 4.8 against 2.2); rows of 16
 * and 32 channels were faster four at a time (2.27 against 2.42 ms, 2.10 against 2.21). */
#define BN_ROWS4_MAX 128
/* When short INNER lines are taken one by one (bn_line): lines of BN_LINE_ANY elements or more
 * always; lines of BN_LINE_MIN or more when x has BN_LINE_BIG elements or more (16 MB of
 * float32, out of most caches; this VM's L3 is 32 MB, shared).  Each line costs a set-up and two lane trees; in cache, where the
 * 8 interleaved streams of a reduction block cost nothing, that made lines of 32 2x slower
 * (stats, 131072 elements, 1 thread: 100 vs 48 us) and inference 1.2-1.5x slower; out of cache,
 * every line length from 32 up was faster (2^24 elements, 2 threads: stats 7.2 vs 7.8 ms,
 * grad_reduce 6.6 vs 14.5 ms at 32; 2.8 vs 4.9 and 3.3 vs 8.4 ms at 256). */
#define BN_LINE_MIN 32
#define BN_LINE_ANY 256
#define BN_LINE_BIG ((ptrdiff_t)1 << 22)

/* ---- the block decomposition (shape only; shared by every dtype) ---- */
typedef struct {
    ptrdiff_t nblk;   /* blocks in all */
    ptrdiff_t per;    /* INNER: blocks per channel; CHAN: channel chunks per row block */
    ptrdiff_t chunk;  /* INNER: inner elements per block row; CHAN: channels per chunk */
    ptrdiff_t rows;   /* rows per block (INNER: outer indices; CHAN: outer*inner rows) */
    ptrdiff_t nchunk; /* INNER with inner >= BLK: chunks per line */
    ptrdiff_t nrb;    /* CHAN: row blocks */
    ptrdiff_t sbr;    /* CHAN: row blocks per super block (one reduction slot each) */
    ptrdiff_t nsb;    /* CHAN: super blocks */
    int split;        /* INNER: a line (o, c) is longer than a block and is cut */
    int lines;        /* INNER, short lines: every pass goes line by line (bn_line) */
} bn_plan;

typedef struct {
    ptrdiff_t c0, cw;   /* channel (INNER: cw = 1) or channel chunk (CHAN) */
    ptrdiff_t r0, rows; /* first row, rows */
    ptrdiff_t i0, len;  /* segment: INNER inner range; CHAN len = cw */
    ptrdiff_t slot;     /* partial slot: INNER c*per + b; CHAN the row block */
} bn_blk;

static inline ptrdiff_t bn_cdiv(ptrdiff_t a, ptrdiff_t b) { return (a + b - 1) / b; }

static bn_plan bn_make_plan(const act_bn_args *a)
{
    bn_plan p;
    memset(&p, 0, sizeof p);
    if (a->layout == ACT_BN_INNER) {
        p.split = a->inner >= BLK;
        if (p.split) {
            p.chunk = BLK;
            p.nchunk = bn_cdiv(a->inner, BLK);
            p.rows = 1;
            p.per = a->outer * p.nchunk;
        }
        else {
            p.chunk = a->inner;
            p.nchunk = 1;
            p.rows = BLK / (a->inner > 0 ? a->inner : 1);
            p.per = bn_cdiv(a->outer, p.rows);
            p.lines = p.rows > 1 &&
                      (a->inner >= BN_LINE_ANY ||
                       (a->inner >= BN_LINE_MIN && a->outer * a->C * a->inner >= BN_LINE_BIG));
        }
        p.nblk = a->C * p.per;
    }
    else {
        ptrdiff_t nr = a->outer * a->inner;
        p.chunk = a->C < BLK ? a->C : BLK;
        p.nchunk = bn_cdiv(a->C, p.chunk);
        p.rows = BLK / p.chunk;
        p.nrb = bn_cdiv(nr, p.rows);
        p.per = p.nchunk;
        p.nblk = p.nrb * p.nchunk;
        /* A slot per row block cost as much traffic as a quarter of x: 32x56x56x64 has 6272
         * row blocks of 32 rows, so (mean, M2) partials of 6.4 MB were written and read back
         * next to 25.7 MB of x, in stats and again in grad_reduce.  Super blocks of sbr row
         * blocks, folded in row-block order by the thread that owns them, keep at most ~256
         * slots per channel chunk (shape only, so the bits do not depend on threads). */
        p.sbr = p.nrb / 256 > 1 ? p.nrb / 256 : 1;
        p.nsb = bn_cdiv(p.nrb, p.sbr);
    }
    return p;
}

/* Block b, in memory order (so each thread streams through its part of memory: taking the
 * blocks channel by channel jumped 800 KB every 12.5 KB on NCHW 32x64x56x56 and ran 2x slower);
 * its partial goes to slot c*per + q (INNER), which fixes the merge order per channel. */
static bn_blk bn_block(const act_bn_args *a, const bn_plan *p, ptrdiff_t b)
{
    bn_blk k;
    if (a->layout == ACT_BN_INNER) {
        ptrdiff_t c, q;
        k.cw = 1;
        if (p->split) {
            ptrdiff_t ch = b % p->nchunk, t = b / p->nchunk, o = t / a->C;
            c = t - o * a->C;
            q = o * p->nchunk + ch;
            k.r0 = o;
            k.rows = 1;
            k.i0 = ch * BLK;
            k.len = a->inner - k.i0 < BLK ? a->inner - k.i0 : BLK;
        }
        else {
            ptrdiff_t rb = b / a->C;
            c = b - rb * a->C;
            q = rb;
            k.r0 = rb * p->rows;
            k.rows = a->outer - k.r0 < p->rows ? a->outer - k.r0 : p->rows;
            k.i0 = 0;
            k.len = a->inner;
        }
        k.c0 = c;
        k.slot = c * p->per + q;
    }
    else {
        ptrdiff_t nr = a->outer * a->inner;
        ptrdiff_t rb = b / p->per, cc = b - rb * p->per;
        k.c0 = cc * p->chunk;
        k.cw = a->C - k.c0 < p->chunk ? a->C - k.c0 : p->chunk;
        k.r0 = rb * p->rows;
        k.rows = nr - k.r0 < p->rows ? nr - k.r0 : p->rows;
        k.i0 = 0;
        k.len = k.cw;
        k.slot = rb;
    }
    return k;
}

/* Short INNER lines (p->lines) are taken one line (o, c) at a time, in memory order.  The
 * reduction blocks interleave p.rows lines of one channel, C*inner elements apart: at 16x16
 * images that is 8 streams in (and 8 out).  Old and new builds timed in one process,
 * 1024x64x16x16 float32, 2 threads: inference + ReLU 7.1 -> 3.8 ms, backward 20.7 -> 9.7 ms
 * (the committed full benchmark: NCHW 16x16 inference 1.71x -> 1.19x the floor).  The elementwise passes make each line a block of its own (the same
 * arithmetic per element, so the same bits).  The reductions keep their slots, one per
 * (row block, channel): a work item is a row block and a group of channels, walked line by
 * line, each line's partial folded into its channel's slot in line order, so every slot's value
 * is fixed by the shape whatever the group size or thread count. */
static bn_blk bn_line(const act_bn_args *a, ptrdiff_t o, ptrdiff_t c)
{
    bn_blk k;
    k.c0 = c;
    k.cw = 1;
    k.r0 = o;
    k.rows = 1;
    k.i0 = 0;
    k.len = a->inner;
    k.slot = -1; /* the caller knows the slot */
    return k;
}
static ptrdiff_t bn_elt_count(const bn_plan *p, const act_bn_args *a)
{
    return p->lines ? a->outer * a->C : p->nblk;
}
static bn_blk bn_elt_block(const act_bn_args *a, const bn_plan *p, ptrdiff_t b)
{
    if (!p->lines) return bn_block(a, p, b);
    ptrdiff_t o = b / a->C;
    return bn_line(a, o, b - o * a->C);
}
/* Work items of the line-order reductions: row blocks x channel groups, at least 4 per thread
 * when the shape allows it (N = 1 still splits over channels). */
typedef struct {
    ptrdiff_t ncg, G, n;
} bn_items;
static bn_items bn_line_items(const act_bn_args *a, const bn_plan *p, int nt)
{
    bn_items it;
    ptrdiff_t want = bn_cdiv(4 * (ptrdiff_t)nt, p->per);
    it.ncg = want < a->C ? want : a->C;
    if (it.ncg < 1) it.ncg = 1;
    it.G = bn_cdiv(a->C, it.ncg);
    it.ncg = bn_cdiv(a->C, it.G);
    it.n = p->per * it.ncg;
    return it;
}
/* work item w of the line-order reductions: row block *rb, outer indices [o0, o1), channels
 * [c0, c1) */
static void bn_line_item(const act_bn_args *a, const bn_plan *p, const bn_items *it, ptrdiff_t w,
                         ptrdiff_t *rb, ptrdiff_t *o0, ptrdiff_t *o1, ptrdiff_t *c0, ptrdiff_t *c1)
{
    *rb = w / it->ncg;
    *c0 = (w - *rb * it->ncg) * it->G;
    *c1 = *c0 + it->G < a->C ? *c0 + it->G : a->C;
    *o0 = *rb * p->rows;
    *o1 = *o0 + p->rows < a->outer ? *o0 + p->rows : a->outer;
}
/* work item w of the channels-last reductions: channel chunk *cc, row blocks [rb0, rb1) of
 * super block *sb */
static void bn_super_item(const bn_plan *p, ptrdiff_t w, ptrdiff_t *sb, ptrdiff_t *cc,
                          ptrdiff_t *rb0, ptrdiff_t *rb1)
{
    *sb = w / p->per;
    *cc = w - *sb * p->per;
    *rb0 = *sb * p->sbr;
    *rb1 = *rb0 + p->sbr < p->nrb ? *rb0 + p->sbr : p->nrb;
}

/* INNER: elements in a channel's q-th block (the merge needs the counts) */
static ptrdiff_t bn_inner_count(const act_bn_args *a, const bn_plan *p, ptrdiff_t q)
{
    if (p->split) {
        ptrdiff_t i0 = (q % p->nchunk) * BLK;
        return a->inner - i0 < BLK ? a->inner - i0 : BLK;
    }
    ptrdiff_t r0 = q * p->rows;
    return (a->outer - r0 < p->rows ? a->outer - r0 : p->rows) * a->inner;
}

/* address of a block's row: a contiguous segment of k->len elements */
static inline char *bn_seg(const act_bn_args *a, const act_bn_view *v, const bn_blk *k,
                           ptrdiff_t row)
{
    if (a->layout == ACT_BN_INNER)
        return v->p + k->c0 * v->sc + (k->r0 + row) * v->so + k->i0 * v->si;
    ptrdiff_t r = k->r0 + row, o = r / a->inner, i = r - o * a->inner;
    return v->p + o * v->so + i * v->si + k->c0 * v->sc;
}

/* The byte stride from one row of a block to the next when it is the same for every row (always
 * for INNER; for CHAN when there is no inner axis, as in the (N*H*W, C, 1) view the Python
 * layer gives a channels-last array, or when the outer stride is inner x the inner one), else
 * 0.  Saves bn_seg's division per row: on 64-channel rows that division cost more than the
 * row's arithmetic (NHWC 32x56x56x64 float32, grad_apply in cache, 1 thread: 58 us against
 * 27 for a two-read-one-write loop, ~40 cycles per row in idiv), and a row stride of 0 also
 * kept grad_apply and pre_act off their four-rows-at-a-time loops. */
static inline ptrdiff_t bn_row_stride(const act_bn_args *a, const act_bn_view *v)
{
    if (a->layout == ACT_BN_INNER || a->inner == 1) return v->so;
    return v->so == a->inner * v->si ? v->si : 0;
}
/* row `row` of the block, given row 0 and the uniform stride (0: compute it) */
static inline char *bn_row(const act_bn_args *a, const act_bn_view *v, const bn_blk *k,
                           char *row0, ptrdiff_t stride, ptrdiff_t row)
{
    return stride ? row0 + row * stride : bn_seg(a, v, k, row);
}

/* a view's rows in a block: row 0 and the uniform row stride (0: computed per row), or none */
typedef struct {
    char *p0;
    ptrdiff_t st;
} bn_rows;
static inline bn_rows bn_rows_of(const act_bn_args *a, const act_bn_view *v, const bn_blk *k)
{
    bn_rows r = {NULL, 0};
    if (v->p) {
        r.p0 = bn_seg(a, v, k, 0);
        r.st = bn_row_stride(a, v);
    }
    return r;
}
static inline char *bn_rows_at(const act_bn_args *a, const act_bn_view *v, const bn_blk *k,
                               const bn_rows *r, ptrdiff_t row)
{
    return r->p0 ? bn_row(a, v, k, r->p0, r->st, row) : NULL;
}

/* where the backward's dz comes from (bnorm_t.h: dz_mode): a block computed first, or, for a
 * fused ReLU, element by element from y or from x */
enum { BN_DZ_BLOCK = 0, BN_DZ_Y = 1, BN_DZ_X = 2 };

/* Chan's merge of (n, mean, M2) partials, in the caller's order */
static inline void bn_chan_merge(double *n, double *mean, double *m2, double nb, double mb,
                                 double m2b)
{
    if (*n == 0) {
        *n = nb;
        *mean = mb;
        *m2 = m2b;
        return;
    }
    double tot = *n + nb, d = mb - *mean;
    *mean += d * (nb / tot);
    *m2 += m2b + d * d * (*n * nb / tot);
    *n = tot;
}

/* ---- the four dtypes ---- */
#define BN_SFX f16
#define BN_FORM(op, kind) act_##op##_##kind##_wf /* the ufuncs' own formulas */
#define BN_S uint16_t
#define BN_T float
#define BN_LD(v) act_h2f(v)
#define BN_ST(v) act_f2h(v)
#define BN_ADT ACT_F32
#include "bnorm_t.h"

#define BN_SFX bf16
#define BN_FORM(op, kind) act_##op##_##kind##_wf /* the ufuncs' own formulas */
#define BN_S uint16_t
#define BN_T float
#define BN_LD(v) act_bf2f(v)
#define BN_ST(v) act_f2bf(v)
#define BN_ADT ACT_F32
#include "bnorm_t.h"

#define BN_SFX f32
#define BN_FORM(op, kind) act_##op##_##kind##_wf /* the ufuncs' own formulas */
#define BN_S float
#define BN_T float
#define BN_LD(v) (v)
#define BN_ST(v) (v)
#define BN_ADT ACT_F32
#include "bnorm_t.h"

#define BN_SFX f64
#define BN_FORM(op, kind) act_##op##_##kind##_wd /* the ufuncs' own formulas */
#define BN_S double
#define BN_T double
#define BN_LD(v) (v)
#define BN_ST(v) (v)
#define BN_ADT ACT_F64
#include "bnorm_t.h"

/* ---- dtype dispatch and the table of this target ---- */
static int ISA_NAME(bn_stats)(const act_bn_args *a, double *mean, double *m2)
{
    switch (a->dtype) {
    case ACT_F16: return ISA_NAME(bn_stats_f16)(a, mean, m2);
    case ACT_BF16: return ISA_NAME(bn_stats_bf16)(a, mean, m2);
    case ACT_F32: return ISA_NAME(bn_stats_f32)(a, mean, m2);
    default: return ISA_NAME(bn_stats_f64)(a, mean, m2);
    }
}
static void ISA_NAME(bn_apply)(const act_bn_args *a)
{
    switch (a->dtype) {
    case ACT_F16: ISA_NAME(bn_apply_f16)(a); break;
    case ACT_BF16: ISA_NAME(bn_apply_bf16)(a); break;
    case ACT_F32: ISA_NAME(bn_apply_f32)(a); break;
    default: ISA_NAME(bn_apply_f64)(a); break;
    }
}
static int ISA_NAME(bn_grad_reduce)(const act_bn_args *a, double *s1, double *s2)
{
    switch (a->dtype) {
    case ACT_F16: return ISA_NAME(bn_grad_reduce_f16)(a, s1, s2);
    case ACT_BF16: return ISA_NAME(bn_grad_reduce_bf16)(a, s1, s2);
    case ACT_F32: return ISA_NAME(bn_grad_reduce_f32)(a, s1, s2);
    default: return ISA_NAME(bn_grad_reduce_f64)(a, s1, s2);
    }
}
static void ISA_NAME(bn_grad_apply)(const act_bn_args *a)
{
    switch (a->dtype) {
    case ACT_F16: ISA_NAME(bn_grad_apply_f16)(a); break;
    case ACT_BF16: ISA_NAME(bn_grad_apply_bf16)(a); break;
    case ACT_F32: ISA_NAME(bn_grad_apply_f32)(a); break;
    default: ISA_NAME(bn_grad_apply_f64)(a); break;
    }
}

/* the read floor of the benchmark: 8 float lanes per block, no conversion */
static float ISA_NAME(bn_read_floor)(const float *const *arrs, int k, ptrdiff_t n)
{
    float tot = 0.f;
    ptrdiff_t nb = bn_cdiv(n, BLK);
    int nt = act_threads_for(n);
    (void)nt;
#pragma omp parallel for schedule(static) num_threads(nt) reduction(+ : tot)
    for (ptrdiff_t b = 0; b < nb; b++) {
        ptrdiff_t lo = b * BLK, hi = lo + BLK < n ? lo + BLK : n;
        float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int q = 0; q < k; q++) {
            const float *v = arrs[q];
            ptrdiff_t j = lo;
            for (; j + 8 <= hi; j += 8)
                for (int l = 0; l < 8; l++) s[l] += v[j + l];
            for (int l = 0; j + l < hi; l++) s[l] += v[j + l];
        }
        tot += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    return tot;
}

const act_bn_table ISA_NAME(act_bn_table) = {
    ACT_STR(ACT_ISA),     ISA_NAME(bn_stats),      ISA_NAME(bn_apply),
    ISA_NAME(bn_grad_reduce), ISA_NAME(bn_grad_apply), ISA_NAME(bn_read_floor),
};

#undef BLK
#undef BN_COST
#undef BN_LINE_MIN
#undef BN_LINE_ANY
#undef BN_LINE_BIG
