/* Batch-norm kernels for one dtype: a template included by bnorm.c with
 *   BN_SFX (f16/bf16/f32/f64), BN_S (storage type), BN_T (compute type), BN_LD/BN_ST (storage <->
 *   compute conversion), BN_ADT (the dtype index of the activation kernels run on BN_T),
 *   BN_FORM(op, kind) (the activations' scalar formulas on BN_T, formulas.h).
 * No include guard: it is included once per dtype and undefines its parameters at the end. */
#if !defined(BN_SFX) || !defined(BN_S) || !defined(BN_T) || !defined(BN_ADT) || !defined(BN_FORM)
#error "bnorm_t.h is a template: include it from bnorm.c with BN_SFX, BN_S, BN_T, BN_ADT, BN_FORM"
#endif

#define BN_C3_(a, b, c) a##_##b##_##c
#define BN_C3(a, b, c) BN_C3_(a, b, c)
#define BN_F(name) BN_C3(bn_##name, BN_SFX, ACT_ISA)

/* buf[row * len + j] = the block's elements of view v */
static void BN_F(load)(const act_bn_args *a, const act_bn_view *v, const bn_blk *k, BN_T *buf)
{
    ptrdiff_t len = k->len, st = bn_row_stride(a, v);
    char *p0 = bn_seg(a, v, k, 0);
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_S *s = (const BN_S *)bn_row(a, v, k, p0, st, row);
        BN_T *d = buf + row * len;
        ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) d[j] = BN_LD(s[j]); /* buf is ours */
    }
}

static void BN_F(store)(const act_bn_args *a, const act_bn_view *v, const bn_blk *k,
                        const BN_T *buf)
{
    ptrdiff_t len = k->len, st = bn_row_stride(a, v);
    char *p0 = bn_seg(a, v, k, 0);
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        BN_S *d = (BN_S *)bn_row(a, v, k, p0, st, row);
        const BN_T *s = buf + row * len;
        ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) d[j] = BN_ST(s[j]); /* buf is ours */
    }
}

/* The block of view v as one contiguous run in memory, or NULL (16-bit storage, or rows that
 * do not follow each other).  Lets float32/float64 blocks be read and written in place instead
 * of through a copy. */
static BN_S *BN_F(contig)(const act_bn_args *a, const act_bn_view *v, const bn_blk *k)
{
    if (sizeof(BN_S) != sizeof(BN_T) || !v->p) return NULL;
    ptrdiff_t isz = (ptrdiff_t)sizeof(BN_S);
    if (k->rows == 1) return (BN_S *)bn_seg(a, v, k, 0);
    if (a->layout == ACT_BN_CHAN && k->cw == a->C &&
        (a->inner == 1 ? v->so == a->C * isz : (v->si == a->C * isz && v->so == a->inner * v->si)))
        return (BN_S *)bn_seg(a, v, k, 0);
    return NULL;
}

/* the block of v: in place when contiguous, else loaded into buf */
static const BN_T *BN_F(src)(const act_bn_args *a, const act_bn_view *v, const bn_blk *k,
                             BN_T *buf)
{
    const BN_S *d = BN_F(contig)(a, v, k);
    if (d) return (const BN_T *)d;
    BN_F(load)(a, v, k, buf);
    return buf;
}

/* d = ((x - mh) - ml) * scale + shift (+ r): the pre-activation of the block, in block order,
 * or with relu != 0 its ReLU (bit for bit the relu kernel's, x <= 0 ? 0 : x), fused so the block
 * is not read and written a second time.
 * x and r are read in the same loop, so d may be x's or r's own memory (out=x, out=residual). */
#define BN_RELU(relu, v) ((relu) && (v) <= 0 ? (BN_T)0 : (v))
#define BN_ROWS4(len) ((len) * (ptrdiff_t)sizeof(BN_S) <= BN_ROWS4_MAX)
static void BN_F(pre_act)(const act_bn_args *a, const bn_blk *k, BN_T *buf, int relu)
{
    const BN_T *mh = (const BN_T *)a->mh + k->c0, *ml = (const BN_T *)a->ml + k->c0;
    const BN_T *sc = (const BN_T *)a->scale + k->c0, *sh = (const BN_T *)a->shift + k->c0;
    ptrdiff_t len = k->len;
    ptrdiff_t xst = bn_row_stride(a, &a->x), rst = a->r.p ? bn_row_stride(a, &a->r) : 0;
    char *x0 = bn_seg(a, &a->x, k, 0), *r0 = a->r.p ? bn_seg(a, &a->r, k, 0) : NULL;
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_S *xs = (const BN_S *)bn_row(a, &a->x, k, x0, xst, row);
        const BN_S *rs = r0 ? (const BN_S *)bn_row(a, &a->r, k, r0, rst, row) : NULL;
        BN_T *d = buf + row * len;
        if (a->layout == ACT_BN_INNER) {
            const BN_T h = mh[0], l = ml[0], s = sc[0], b = sh[0];
            if (rs)
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    BN_T v = (((BN_LD(xs[j]) - h) - l) * s + b) + BN_LD(rs[j]);
                    d[j] = BN_RELU(relu, v);
                }
            else
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    BN_T v = ((BN_LD(xs[j]) - h) - l) * s + b;
                    d[j] = BN_RELU(relu, v);
                }
        }
        else {
            if (rs)
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    BN_T v = (((BN_LD(xs[j]) - mh[j]) - ml[j]) * sc[j] + sh[j]) + BN_LD(rs[j]);
                    d[j] = BN_RELU(relu, v);
                }
            else if (xst && BN_ROWS4(len) && row + 4 <= k->rows) {
                /* four rows per pass over the channels: each parameter load serves four
                 * elements, and the loop's set-up is paid once per four rows of cw (rows of
                 * up to BN_ROWS4_MAX bytes: see bnorm.c) */
                const BN_S *x1 = (const BN_S *)((const char *)xs + xst);
                const BN_S *x2 = (const BN_S *)((const char *)xs + 2 * xst);
                const BN_S *x3 = (const BN_S *)((const char *)xs + 3 * xst);
                BN_T *d1 = d + len, *d2 = d + 2 * len, *d3 = d + 3 * len;
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    const BN_T h = mh[j], l = ml[j], s = sc[j], b = sh[j];
                    BN_T v0 = ((BN_LD(xs[j]) - h) - l) * s + b;
                    BN_T v1 = ((BN_LD(x1[j]) - h) - l) * s + b;
                    BN_T v2 = ((BN_LD(x2[j]) - h) - l) * s + b;
                    BN_T v3 = ((BN_LD(x3[j]) - h) - l) * s + b;
                    d[j] = BN_RELU(relu, v0);
                    d1[j] = BN_RELU(relu, v1);
                    d2[j] = BN_RELU(relu, v2);
                    d3[j] = BN_RELU(relu, v3);
                }
                row += 3;
            }
            else
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    BN_T v = ((BN_LD(xs[j]) - mh[j]) - ml[j]) * sc[j] + sh[j];
                    d[j] = BN_RELU(relu, v);
                }
        }
    }
}
#undef BN_RELU
static void BN_F(pre)(const act_bn_args *a, const bn_blk *k, BN_T *buf)
{
    BN_F(pre_act)(a, k, buf, 0);
}

/* run activation kernel `kind` of a->act_op on m elements: out = f(in0[, in1]) */
static void BN_F(act)(const act_bn_args *a, int kind, const BN_T *in0, const BN_T *in1,
                      BN_T *out, ptrdiff_t m)
{
    const BN_T pa = (BN_T)a->act_params[0], pb = (BN_T)a->act_params[1];
    const char *in[4];
    int nx = 0;
    in[nx++] = (const char *)in0;
    if (kind != ACT_FWD) in[nx++] = (const char *)in1;
    in[nx++] = (const char *)&pa;
    in[nx++] = (const char *)&pb;
    act_table->fn[a->act_op][kind][BN_ADT](0, m, in, 0, (char *)out);
}

/* prelu_grad's pass (a->pw): dx = leaky_relu_grad(dy, x, pw[c]) into out, bit for bit the
 * ufunc's formula, and dz = dy where x < 0 for the dweight sum (sum dz x, mean 0), both from one
 * read of the block: the former two passes (the ufunc, then this reduction) read dy and x twice,
 * 2.14x the three-stream floor in bench/results (2^24 float32, 2 threads).  tmp may hold x
 * (loaded) and then dx (stored from it); the caller reloads x after. */
static const BN_T *BN_F(prelu_dz)(const act_bn_args *a, const bn_blk *k, BN_T *dzb, BN_T *tmp)
{
    const BN_T *w = (const BN_T *)a->pw + k->c0;
    const BN_T *dy = BN_F(src)(a, &a->dy, k, dzb);
    const BN_T *xb = BN_F(src)(a, &a->x, k, tmp);
    BN_T *direct = (BN_T *)BN_F(contig)(a, &a->out, k);
    BN_T *ob = direct ? direct : tmp;
    ptrdiff_t len = k->len;
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_T *d = dy + row * len, *xr = xb + row * len;
        BN_T *z = dzb + row * len, *o = ob + row * len;
        /* each element is read before it is written at the same index (z may be d, o may be
         * xr or, in place on dy, d) */
        if (a->layout == ACT_BN_INNER) {
            const BN_T wc = w[0];
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                BN_T v = xr[j], g = d[j];
                o[j] = BN_FORM(leaky_relu, grad)(g, v, wc, 0);
                z[j] = v < 0 ? g : (v == v ? (BN_T)0 : v);
            }
        }
        else
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                BN_T v = xr[j], g = d[j];
                o[j] = BN_FORM(leaky_relu, grad)(g, v, w[j], 0);
                z[j] = v < 0 ? g : (v == v ? (BN_T)0 : v);
            }
    }
    if (!direct) BN_F(store)(a, &a->out, k, ob);
    return dzb;
}

/* A fused ReLU's gradient is computed inside the loops that read dy and x, element by element:
 * from dy and the forward output y (relu_gout), or from dy and the pre-activation recomputed
 * exactly as pre_act computes it (relu_grad), with the ufuncs' own formulas, so the bits are
 * those of the block path (BN_F(dz) below).  That path first writes a block of dz through the
 * activation kernel, a loop streaming dy and y from memory, then the reduction or apply loop
 * streams x: loops that each wait on their own streams.  NHWC 32x56x56x64 float32, 1 thread,
 * old and new builds in one process: the backward with ReLU from y 8.5 -> 6.1 ms, from x
 * 13.4 -> 6.7, against 4.6 without an activation (CHANGELOG).  Not for 16-bit storage
 * (its blocks go through conversion buffers anyway), other activations, prelu_grad, or a
 * residual, whose gradient dres grad_reduce writes and grad_apply reads back. */
static int BN_F(dz_mode)(const act_bn_args *a)
{
    /* the fused loops read the pre-activation's parameters (the glue always passes them; a
     * residual always comes with dres) */
    if (sizeof(BN_S) != sizeof(BN_T) || a->act_op != ACT_OP_relu || a->pw || a->dres.p ||
        a->r.p || !a->mh || !a->ml || !a->scale || !a->shift)
        return BN_DZ_BLOCK;
    return a->act_grad_kind == ACT_GOUT ? BN_DZ_Y : BN_DZ_X;
}

/* dz of element j: from the block's dz row d (BN_DZ_BLOCK), or from dy's row d and y's row yv,
 * or from d, x's value xv and the channel's parameters */
ACT_INLINE BN_T BN_F(dz1)(int mode, const BN_T *d, const BN_T *yv, ptrdiff_t j, BN_T xv, BN_T h,
                          BN_T l, BN_T s, BN_T b)
{
    if (mode == BN_DZ_BLOCK) return d[j];
    if (mode == BN_DZ_Y) return BN_FORM(relu, gout)(d[j], yv[j], 0, 0);
    return BN_FORM(relu, grad)(d[j], ((xv - h) - l) * s + b, 0, 0);
}

/* row `row` of view v in block k, as the compute type (fused modes only: storage is BN_T) */
#define BN_VROW(v, rs, row) ((const BN_T *)bn_rows_at(a, (v), k, (rs), (row)))

/* dz of an INNER block into dzb (fused modes), row by row: only INNER blocks of several rows
 * call BN_F(dz) in a fused mode (one-row blocks use zsums, CHAN blocks chan_sums and
 * grad_apply_blk, which compute dz in their own loops) */
static void BN_F(dz_fill)(const act_bn_args *a, const bn_blk *k, int mode, BN_T *dzb)
{
    const BN_T h = ((const BN_T *)a->mh)[k->c0], l = ((const BN_T *)a->ml)[k->c0];
    const BN_T s = ((const BN_T *)a->scale)[k->c0], b = ((const BN_T *)a->shift)[k->c0];
    bn_rows xr = bn_rows_of(a, &a->x, k), dr = bn_rows_of(a, &a->dy, k);
    bn_rows yr = bn_rows_of(a, &a->yin, k);
    ptrdiff_t len = k->len;
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_T *xs = BN_VROW(&a->x, &xr, row), *d = BN_VROW(&a->dy, &dr, row);
        const BN_T *yv = BN_VROW(&a->yin, &yr, row);
        BN_T *z = dzb + row * len;
#define BN_FILL(MODE)                                                                           \
    ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) z[j] =                                        \
        BN_F(dz1)(MODE, d, yv, j, xs[j], h, l, s, b);
        if (mode == BN_DZ_Y)
            BN_FILL(BN_DZ_Y)
        else
            BN_FILL(BN_DZ_X)
#undef BN_FILL
    }
}

/* dz for the block, the gradient after the activation (= dy without one): a pointer to dy's
 * or dres's own memory when that is contiguous, else to dzb */
static const BN_T *BN_F(dz)(const act_bn_args *a, const bn_blk *k, BN_T *dzb, BN_T *tmp)
{
    ptrdiff_t m = k->rows * k->len;
    if (a->pw) return BN_F(prelu_dz)(a, k, dzb, tmp);
    if (a->dres_ready) return BN_F(src)(a, &a->dres, k, dzb);
    int mode = BN_F(dz_mode)(a);
    if (mode != BN_DZ_BLOCK) {
        BN_F(dz_fill)(a, k, mode, dzb);
        return dzb;
    }
    const BN_T *dy = BN_F(src)(a, &a->dy, k, dzb);
    if (a->act_op < 0) return dy;
    const BN_T *t;
    if (a->act_grad_kind == ACT_GOUT)
        t = BN_F(src)(a, &a->yin, k, tmp);
    else {
        BN_F(pre)(a, k, tmp);
        t = tmp;
    }
    BN_F(act)(a, a->act_grad_kind, dy, t, dzb, m);
    return dzb;
}

/* Reductions over a block in 16 fixed float64 lanes, combined in a fixed tree: gcc vectorises
 * them without reassociating (4 ymm accumulators on AVX2, enough to hide the add latency; 8
 * lanes measured 1.5x slower), and the lanes do not depend on the vector width, so every ISA
 * gives the same bits.  Loops with two sums: written as sum16 is (the 16 lanes unrolled into
 * the block loop), gcc 12 leaves them scalar (measured 2.5-3x slower); with the lane loop as an
 * omp simd inner loop (shift16, zdot16) or the sums as halves of one array (zsums_m) it
 * vectorises them. */
#define BN_LANES 16
/* channels per register block of col_shift and col_sums: 64 (16 zmm of sums, 8 of K) where
 * there are 32 vector registers, else 16.  Reading a row's 64 channels in one go also keeps the
 * first touch of a block sequential: chunks of 16, which read 64 bytes of every 256, made the
 * statistics of NHWC 32x56x56x64 float32 from memory 10-15% slower than the old row-major loop. */
#if defined(__AVX512F__)
#define BN_CS_MAX (4 * BN_LANES)
#else
#define BN_CS_MAX BN_LANES
#endif
#define BN_TREE(s)                                                                              \
    ((((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) +                    \
     (((s[8] + s[9]) + (s[10] + s[11])) + ((s[12] + s[13]) + (s[14] + s[15]))))

/* sum of v */
static inline double BN_F(sum16)(const BN_T *v, ptrdiff_t m)
{
    double s[BN_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + BN_LANES <= m; j += BN_LANES)
        for (int l = 0; l < BN_LANES; l++) s[l] += (double)v[j + l];
    for (int l = 0; j + l < m; l++) s[l] += (double)v[j + l];
    return BN_TREE(s);
}

/* sum of (v - mu)^2 */
static inline double BN_F(ssd16)(const BN_T *v, ptrdiff_t m, double mu)
{
    double s[BN_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + BN_LANES <= m; j += BN_LANES)
        for (int l = 0; l < BN_LANES; l++) {
            double d = (double)v[j + l] - mu;
            s[l] += d * d;
        }
    for (int l = 0; j + l < m; l++) {
        double d = (double)v[j + l] - mu;
        s[l] += d * d;
    }
    return BN_TREE(s);
}

/* mean and M2 of a contiguous run of m values in one pass, as col_shift does for a channel
 * (see there for why it is exact enough): K = v[0] (0 if not finite), s1 = sum (v - K) and
 * s2 = sum (v - K)^2 in double over 16 lanes, then mean = K + s1/m, M2 = s2 - s1 (s1/m).  For
 * float compute types only.  The lane loop is vectorised as an inner loop (omp simd): written
 * like sum16, with two sums, gcc 12 left it scalar ("no vectype"), 2.5x slower than sum16 +
 * ssd16.  NCHW 32x64x56x56 float32 statistics, 1 thread: 1.43 -> 0.97 ms (a read of x 0.71);
 * in cache (1x64x56x56) 46 -> 32 us. */
static inline void BN_F(shift16)(const BN_T *v, ptrdiff_t m, double *mean, double *m2)
{
    double s[BN_LANES] = {0}, r[BN_LANES] = {0}, x0 = (double)v[0];
    const double K = x0 - x0 == 0.0 ? x0 : 0.0, n = (double)m;
    ptrdiff_t j = 0;
    for (; j + BN_LANES <= m; j += BN_LANES)
        _Pragma("omp simd") for (int l = 0; l < BN_LANES; l++)
        {
            double d = (double)v[j + l] - K;
            s[l] += d;
            r[l] += d * d;
        }
    for (int l = 0; j + l < m; l++) {
        double d = (double)v[j + l] - K;
        s[l] += d;
        r[l] += d * d;
    }
    double s1 = BN_TREE(s), s2 = BN_TREE(r), t = s1 / n, q = s2 - s1 * t;
    *mean = K + t;
    *m2 = q < 0.0 ? 0.0 : q; /* rounding; NaN stays */
}

/* sum16(dz) and the sum of dz (x - mu) in one pass (the lanes and order of sum16, and of the
 * dot16 it replaces, so the same bits): dz is read and converted once; the lane loop
 * vectorised as an inner loop (see shift16).
 * NCHW 32x64x56x56 float32 grad_reduce, 1 thread: see CHANGELOG. */
static inline void BN_F(zdot16)(const BN_T *dz, const BN_T *x, ptrdiff_t m, double mu,
                                double *s1, double *s2)
{
    double s[BN_LANES] = {0}, r[BN_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + BN_LANES <= m; j += BN_LANES)
        _Pragma("omp simd") for (int l = 0; l < BN_LANES; l++)
        {
            double z = (double)dz[j + l];
            s[l] += z;
            r[l] += z * ((double)x[j + l] - mu);
        }
    for (int l = 0; j + l < m; l++) {
        double z = (double)dz[j + l];
        s[l] += z;
        r[l] += z * ((double)x[j + l] - mu);
    }
    *s1 = BN_TREE(s);
    *s2 = BN_TREE(r);
}

/* prelu_grad over a block of one row: prelu_dz's dx and the second sum of zdot16 (above), sum
 * dz (x - mu), in one loop, with zdot16's lanes and order, so the same bits.  As two loops the
 * block was streamed in by the first and summed from L1 by the second, and the prefetcher idled
 * during the second: 2^24 float32 on 2 threads took 1.34x leaky_relu_grad's time (7.58 against
 * 5.56 ms, one process), the same dx without the sum.  mu is 0 (the glue checks), so the term
 * z x, z = x < 0 ? dy : (x is NaN ? x : 0), is the exact product dy x where x < 0 or NaN and
 * +0 elsewhere, which adds what zdot16's +-0 adds (a lane sum is never -0): selects on the
 * doubles had been most of the loop (perf annotate: 36 instructions per 16 elements, now 22). */
static double BN_F(prelu_dot)(const act_bn_args *a, const bn_blk *k, BN_T *dzb, BN_T *tmp)
{
    const BN_T wc = ((const BN_T *)a->pw)[k->c0];
    const BN_T *d = BN_F(src)(a, &a->dy, k, dzb);
    const BN_T *xr = BN_F(src)(a, &a->x, k, tmp);
    BN_T *direct = (BN_T *)BN_F(contig)(a, &a->out, k);
    BN_T *o = direct ? direct : tmp; /* x's values are read before dx is written at an index */
    double r[BN_LANES] = {0};
    ptrdiff_t m = k->len, j = 0;
#define BN_PRELU_DOT(i, l)                                                                      \
    {                                                                                           \
        BN_T v = xr[i], g = d[i];                                                               \
        o[i] = BN_FORM(leaky_relu, grad)(g, v, wc, 0);                                          \
        double p = (double)g * (double)v;                                                       \
        r[l] += !(v >= 0) ? p : 0.0; /* x < 0 or NaN */                                         \
    }
    for (; j + BN_LANES <= m; j += BN_LANES)
        _Pragma("omp simd") for (int l = 0; l < BN_LANES; l++) BN_PRELU_DOT(j + l, l)
    for (int l = 0; j + l < m; l++) BN_PRELU_DOT(j + l, l)
#undef BN_PRELU_DOT
    if (!direct) BN_F(store)(a, &a->out, k, o);
    return BN_TREE(r);
}

/* channels-last block of `rows` rows of cw channels (the float64 statistics' two passes):
 * acc[c] = the sum over rows, in row order from 0, of v[row][c] (sq = 0) or of
 * (v[row][c] - mu[c])^2 (sq = 1).  BN_CS_MAX channels at a time with their sums in registers
 * down the rows: with the sums in acc[] every row paid a load and a store per eight of them.
 * Same order per channel, so the same bits. */
ACT_INLINE void BN_F(col_sums)(const BN_T *v, ptrdiff_t rows, ptrdiff_t cw, const double *mu,
                               int sq, double *acc)
{
    const int w = BN_CS_MAX;
    ptrdiff_t c = 0;
    for (; c + w <= cw; c += w) {
        double s[BN_CS_MAX] = {0}, m[BN_CS_MAX];
        for (int l = 0; l < w; l++) m[l] = sq ? mu[c + l] : 0.0;
        for (ptrdiff_t row = 0; row < rows; row++) {
            const BN_T *r = v + row * cw + c;
            for (int l = 0; l < w; l++) {
                double d = (double)r[l] - m[l];
                s[l] += sq ? d * d : d;
            }
        }
        for (int l = 0; l < w; l++) acc[c + l] = s[l];
    }
    for (ptrdiff_t j = c; j < cw; j++) acc[j] = 0.0;
    for (ptrdiff_t row = 0; row < rows; row++)
        for (ptrdiff_t j = c; j < cw; j++) {
            double d = (double)v[row * cw + j] - (sq ? mu[j] : 0.0);
            acc[j] += sq ? d * d : d;
        }
}

/* Channels-last statistics of a block in one pass, for float compute types (float32, and the
 * 16-bit types through their float buffers): per channel, with K = its row-0 value (0 if that
 * is not finite) and d = x - K in double (exact: a difference of two floats whose exponents
 * differ by less than 29), s1 = sum d and s2 = sum d^2 in row order, then mean = K + s1/n and
 * M2 = s2 - s1 (s1/n).  As K is one of the block's values, n (mean - K)^2 <= n M2 and
 * s2 <= (n + 1) M2: the subtraction loses at most log2(n + 1) bits of float64's 53 (11 for
 * n = BLK = 2048 rows), far below float's 24.  The two-pass form read the block twice and
 * converted each value to double twice: the conversions are the cost (vcvtps2pd on Zen 4;
 * microbenchmark of a 32x64 block in L1: two passes 0.76 cycles per element, this pass
 * 0.54).  float64 keeps two passes: there d = x - K rounds.
 * Channels [c, cw) in chunks of w with the sums in registers down the rows; returns where it
 * stopped.  mean[j] and m2[j] per channel j of the block. */
ACT_INLINE ptrdiff_t BN_F(col_shift)(const BN_T *v, ptrdiff_t rows, ptrdiff_t cw, ptrdiff_t c,
                                     int w, double *mean, double *m2)
{
    const double n = (double)rows;
    for (; c + w <= cw; c += w) {
        double s[2 * BN_CS_MAX], k[BN_CS_MAX];
        for (int l = 0; l < w; l++) {
            double x0 = (double)v[c + l];
            k[l] = x0 - x0 == 0.0 ? x0 : 0.0; /* finite */
            s[l] = s[w + l] = 0.0;
        }
        for (ptrdiff_t row = 0; row < rows; row++) {
            const BN_T *r = v + row * cw + c;
            for (int l = 0; l < w; l++) {
                double d = (double)r[l] - k[l];
                s[l] += d;
                s[w + l] += d * d;
            }
        }
        for (int l = 0; l < w; l++) {
            double t = s[l] / n, q = s[w + l] - s[l] * t;
            mean[c + l] = k[l] + t;
            m2[c + l] = q < 0.0 ? 0.0 : q; /* rounding; NaN stays */
        }
    }
    return c;
}

/* channels-last: per channel of the block, acc1 += dz and acc2 += dz (x - mu), rows in order;
 * dz and x from the block buffers (BN_DZ_BLOCK) or row by row from memory (fused ReLU) */
ACT_INLINE void BN_F(chan_sums)(const act_bn_args *a, const bn_blk *k, int mode, const BN_T *dz,
                                const BN_T *xb, const double *mu, double *acc1, double *acc2)
{
    const int fused = mode != BN_DZ_BLOCK;
    const BN_T *mh = (const BN_T *)a->mh + k->c0, *ml = (const BN_T *)a->ml + k->c0;
    const BN_T *sc = fused ? (const BN_T *)a->scale + k->c0 : mh;
    const BN_T *sh = fused ? (const BN_T *)a->shift + k->c0 : mh;
    bn_rows xr = bn_rows_of(a, &a->x, k), dr = bn_rows_of(a, &a->dy, k);
    bn_rows yr = bn_rows_of(a, &a->yin, k);
    ptrdiff_t cw = k->cw, c0 = 0;
/* x's, dz's (or dy's) and y's row `row` of the block */
#define BN_XROW(row) (fused ? BN_VROW(&a->x, &xr, (row)) : xb + (row) * cw)
#define BN_DROW(row) (fused ? BN_VROW(&a->dy, &dr, (row)) : dz + (row) * cw)
#define BN_YROW(row) (mode == BN_DZ_Y ? BN_VROW(&a->yin, &yr, (row)) : NULL)
    /* BN_CS_MAX channels at a time with both sums in registers down the rows, as in col_shift
     * (one array: with two, gcc 12 does not vectorise); AVX-512 only: chunks of 16 or 32
     * channels read each row in pieces and measured slower from memory than this loop */
    for (; BN_CS_MAX >= 64 && c0 + BN_CS_MAX <= cw; c0 += BN_CS_MAX) {
        double s[2 * BN_CS_MAX], m[BN_CS_MAX];
        for (int l = 0; l < BN_CS_MAX; l++) {
            s[l] = acc1[c0 + l];
            s[BN_CS_MAX + l] = acc2[c0 + l];
            m[l] = mu[c0 + l];
        }
        for (ptrdiff_t row = 0; row < k->rows; row++) {
            const BN_T *xs = BN_XROW(row) + c0, *d = BN_DROW(row) + c0;
            const BN_T *yv = mode == BN_DZ_Y ? BN_YROW(row) + c0 : NULL;
            for (int l = 0; l < BN_CS_MAX; l++) {
                BN_T xv = xs[l];
                double z = (double)BN_F(dz1)(mode, d, yv, l, xv, mh[c0 + l], ml[c0 + l],
                                             sc[c0 + l], sh[c0 + l]);
                s[l] += z;
                s[BN_CS_MAX + l] += z * ((double)xv - m[l]);
            }
        }
        for (int l = 0; l < BN_CS_MAX; l++) {
            acc1[c0 + l] = s[l];
            acc2[c0 + l] = s[BN_CS_MAX + l];
        }
    }
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_T *xs = BN_XROW(row), *d = BN_DROW(row), *yv = BN_YROW(row);
        for (ptrdiff_t c = c0; c < cw; c++) {
            BN_T xv = xs[c];
            double z = (double)BN_F(dz1)(mode, d, yv, c, xv, mh[c], ml[c], sc[c], sh[c]);
            acc1[c] += z;
            acc2[c] += z * ((double)xv - mu[c]);
        }
    }
#undef BN_XROW
#undef BN_DROW
#undef BN_YROW
}

/* zdot16's two sums of a one-row INNER block in one loop, dz computed from dy
 * and y or the recomputed pre-activation (fused ReLU), with their lanes and their arithmetic,
 * so the same bits: dy, y and x are then read in the same loop (NCHW 32x64x56x56 float32,
 * backward with ReLU: see CHANGELOG).  The two sums are halves of one accumulator array:
 * with two arrays gcc 12 gives up vectorising. */
ACT_INLINE void BN_F(zsums_m)(const act_bn_args *a, const bn_blk *k, int mode, double mu,
                              double *s1, double *s2)
{
    const BN_T h = ((const BN_T *)a->mh)[k->c0], l = ((const BN_T *)a->ml)[k->c0];
    const BN_T sc = ((const BN_T *)a->scale)[k->c0], b = ((const BN_T *)a->shift)[k->c0];
    bn_rows xr = bn_rows_of(a, &a->x, k), dr = bn_rows_of(a, &a->dy, k);
    bn_rows yr = bn_rows_of(a, &a->yin, k);
    const BN_T *xs = BN_VROW(&a->x, &xr, 0), *d = BN_VROW(&a->dy, &dr, 0);
    const BN_T *yv = BN_VROW(&a->yin, &yr, 0);
    ptrdiff_t m = k->len, j = 0;
    double s[2 * BN_LANES] = {0};
    for (; j + BN_LANES <= m; j += BN_LANES)
        for (int q = 0; q < BN_LANES; q++) {
            BN_T xv = xs[j + q];
            double z = (double)BN_F(dz1)(mode, d, yv, j + q, xv, h, l, sc, b);
            s[q] += z;
            s[BN_LANES + q] += z * ((double)xv - mu);
        }
    for (int q = 0; j + q < m; q++) {
        BN_T xv = xs[j + q];
        double z = (double)BN_F(dz1)(mode, d, yv, j + q, xv, h, l, sc, b);
        s[q] += z;
        s[BN_LANES + q] += z * ((double)xv - mu);
    }
    *s1 = BN_TREE(s);
    *s2 = BN_TREE((s + BN_LANES));
}
static void BN_F(zsums)(const act_bn_args *a, const bn_blk *k, int mode, double mu, double *s1,
                        double *s2)
{
    switch (mode) { /* a constant mode per call, so each loop is compiled for it */
    case BN_DZ_Y: BN_F(zsums_m)(a, k, BN_DZ_Y, mu, s1, s2); break;
    default: BN_F(zsums_m)(a, k, BN_DZ_X, mu, s1, s2); break;
    }
}

static int BN_F(stats)(const act_bn_args *a, double *mean, double *m2)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nslots = a->layout == ACT_BN_INNER ? p.nblk : p.nsb * a->C;
    double *pm = (double *)malloc((size_t)(nslots > 0 ? nslots : 1) * 2 * sizeof(double));
    if (!pm) return -1;
    double *pq = pm + nslots;
    int nt = act_threads_for(a->outer * a->C * a->inner * BN_COST);
    (void)nt;
    if (p.lines) {
        /* line order (bn_line): each line's (mean, M2) folded into its slot by Chan's formula,
         * lines of a slot all of length inner, so the two ratios depend on the line's index
         * in the row block only */
        bn_items it = bn_line_items(a, &p, nt);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t w = 0; w < it.n; w++) {
            BN_T tb[BLK];
            ptrdiff_t rb, o0, o1, c0, c1;
            bn_line_item(a, &p, &it, w, &rb, &o0, &o1, &c0, &c1);
            for (ptrdiff_t o = o0; o < o1; o++) {
                double r = (double)(o - o0), f1 = 1.0 / (r + 1.0);
                double f2 = (double)a->inner * r / (r + 1.0);
                for (ptrdiff_t c = c0; c < c1; c++) {
                    bn_blk k = bn_line(a, o, c);
                    const BN_T *buf = BN_F(src)(a, &a->x, &k, tb);
                    double mu, q;
                    if (sizeof(BN_T) == sizeof(float))
                        BN_F(shift16)(buf, k.len, &mu, &q);
                    else {
                        mu = BN_F(sum16)(buf, k.len) / (double)k.len;
                        q = BN_F(ssd16)(buf, k.len, mu);
                    }
                    ptrdiff_t sl = c * p.per + rb;
                    if (o == o0) {
                        pm[sl] = mu;
                        pq[sl] = q;
                    }
                    else {
                        double d = mu - pm[sl];
                        pm[sl] += d * f1;
                        pq[sl] += q + d * d * f2;
                    }
                }
            }
        }
    }
    else if (a->layout == ACT_BN_INNER) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t b = 0; b < p.nblk; b++) {
            BN_T tb[BLK];
            bn_blk k = bn_block(a, &p, b);
            const BN_T *buf = BN_F(src)(a, &a->x, &k, tb);
            ptrdiff_t m = k.rows * k.len;
            if (sizeof(BN_T) == sizeof(float))
                BN_F(shift16)(buf, m, &pm[k.slot], &pq[k.slot]);
            else {
                double mu = BN_F(sum16)(buf, m) / (double)m;
                pm[k.slot] = mu;
                pq[k.slot] = BN_F(ssd16)(buf, m, mu);
            }
        }
    }
    else {
        /* a work item is a super block of one channel chunk: its row blocks in order, each
         * merged into the super block's slot (Chan's formula, every channel at once) */
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t w = 0; w < p.nsb * p.per; w++) {
            BN_T tb[BLK];
            double acc[BLK], mu[BLK];
            ptrdiff_t sb, cc, rb0, rb1;
            bn_super_item(&p, w, &sb, &cc, &rb0, &rb1);
            for (ptrdiff_t rb = rb0; rb < rb1; rb++) {
                bn_blk k = bn_block(a, &p, rb * p.per + cc);
                const BN_T *buf = BN_F(src)(a, &a->x, &k, tb);
                /* per channel over the block's rows, in registers (col_shift, col_sums):
                 * each channel's sums have one fixed order (row order) */
                ptrdiff_t cw = k.cw;
                if (sizeof(BN_T) == sizeof(float)) {
                    ptrdiff_t c = BN_F(col_shift)(buf, k.rows, cw, 0, BN_CS_MAX, mu, acc);
                    c = BN_F(col_shift)(buf, k.rows, cw, c, BN_LANES, mu, acc);
                    BN_F(col_shift)(buf, k.rows, cw, c, 1, mu, acc);
                }
                else {
                    BN_F(col_sums)(buf, k.rows, cw, NULL, 0, acc);
                    for (ptrdiff_t c = 0; c < cw; c++) mu[c] = acc[c] / (double)k.rows;
                    BN_F(col_sums)(buf, k.rows, cw, mu, 1, acc);
                }
                double *sm = pm + sb * a->C + k.c0, *sq = pq + sb * a->C + k.c0;
                if (rb == rb0)
                    for (ptrdiff_t c = 0; c < cw; c++) {
                        sm[c] = mu[c];
                        sq[c] = acc[c];
                    }
                else {
                    double n = (double)((rb - rb0) * p.rows), nb = (double)k.rows;
                    double tot = n + nb, f1 = nb / tot, f2 = n * nb / tot;
                    for (ptrdiff_t c = 0; c < cw; c++) {
                        double d = mu[c] - sm[c];
                        sm[c] += d * f1;
                        sq[c] += acc[c] + d * d * f2;
                    }
                }
            }
        }
    }
    if (a->layout == ACT_BN_INNER) {
        for (ptrdiff_t c = 0; c < a->C; c++) {
            double n = 0, mu = 0, q = 0;
            for (ptrdiff_t b = 0; b < p.per; b++)
                bn_chan_merge(&n, &mu, &q, (double)bn_inner_count(a, &p, b), pm[c * p.per + b],
                              pq[c * p.per + b]);
            mean[c] = mu;
            m2[c] = q;
        }
    }
    else {
        /* Chan's merge over the super blocks, every channel at once: the counts are the same for
         * all channels, so the two ratios are per block, not per channel, and the channel loop
         * vectorises.  Each channel sees bn_chan_merge's arithmetic in the same block order (the
         * same bits); merged channel by channel, 3136 dependent merges with two divisions each
         * per channel (32x56x56x64) ran serially for ~2.5 ms after the parallel pass. */
        ptrdiff_t nr = a->outer * a->inner, sbrows = p.sbr * p.rows;
        double n = 0;
        for (ptrdiff_t sb = 0; sb < p.nsb; sb++) {
            double nb = (double)(nr - sb * sbrows < sbrows ? nr - sb * sbrows : sbrows);
            const double *mb = pm + sb * a->C, *qb = pq + sb * a->C;
            if (sb == 0) {
                for (ptrdiff_t c = 0; c < a->C; c++) {
                    mean[c] = mb[c];
                    m2[c] = qb[c];
                }
            }
            else {
                double tot = n + nb, f1 = nb / tot, f2 = n * nb / tot;
                for (ptrdiff_t c = 0; c < a->C; c++) {
                    double d = mb[c] - mean[c];
                    mean[c] += d * f1;
                    m2[c] += qb[c] + d * d * f2;
                }
            }
            n += nb;
        }
    }
    free(pm);
    return 0;
}

static void BN_F(apply)(const act_bn_args *a)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nb = bn_elt_count(&p, a);
    int nt = act_threads_for(a->outer * a->C * a->inner * BN_COST);
    (void)nt;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (ptrdiff_t b = 0; b < nb; b++) {
        BN_T tb[BLK];
        bn_blk k = bn_elt_block(a, &p, b);
        BN_T *direct = (BN_T *)BN_F(contig)(a, &a->out, &k);
        BN_T *buf = direct ? direct : tb;
        /* the activation runs on the block while it is in L1 (ReLU inside the same loop): one
         * read of x, one write of y */
        int relu = a->act_op == ACT_OP_relu;
        BN_F(pre_act)(a, &k, buf, relu);
        if (a->act_op >= 0 && !relu) BN_F(act)(a, ACT_FWD, buf, NULL, buf, k.rows * k.len);
        if (!direct) BN_F(store)(a, &a->out, &k, buf);
    }
}

static int BN_F(grad_reduce)(const act_bn_args *a, double *sum_dz, double *sum_dzxm)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nslots = a->layout == ACT_BN_INNER ? p.nblk : p.nsb * a->C;
    double *p1 = (double *)malloc((size_t)(nslots > 0 ? nslots : 1) * 2 * sizeof(double));
    if (!p1) return -1;
    double *p2 = p1 + nslots;
    int nt = act_threads_for(a->outer * a->C * a->inner * BN_COST);
    (void)nt;
    const int mode = BN_F(dz_mode)(a);
    if (p.lines) {
        /* line order, as in stats: each line's two sums added to its slot in line order */
        bn_items it = bn_line_items(a, &p, nt);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t w = 0; w < it.n; w++) {
            BN_T dzb[BLK], tb[BLK];
            ptrdiff_t rb, o0, o1, c0, c1;
            bn_line_item(a, &p, &it, w, &rb, &o0, &o1, &c0, &c1);
            for (ptrdiff_t o = o0; o < o1; o++)
                for (ptrdiff_t c = c0; c < c1; c++) {
                    bn_blk k = bn_line(a, o, c);
                    double s1, s2;
                    if (mode != BN_DZ_BLOCK)
                        BN_F(zsums)(a, &k, mode, a->mean[c], &s1, &s2);
                    else if (a->pw) {
                        s1 = 0.0; /* prelu: unused */
                        s2 = BN_F(prelu_dot)(a, &k, dzb, tb);
                    }
                    else {
                        const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
                        if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
                        const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
                        BN_F(zdot16)(dz, xb, k.len, a->mean[c], &s1, &s2);
                        s1 = a->pw ? 0.0 : s1; /* prelu: unused */
                    }
                    ptrdiff_t sl = c * p.per + rb;
                    p1[sl] = o == o0 ? s1 : p1[sl] + s1;
                    p2[sl] = o == o0 ? s2 : p2[sl] + s2;
                }
        }
    }
    else if (a->layout == ACT_BN_INNER) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t b = 0; b < p.nblk; b++) {
            BN_T dzb[BLK], tb[BLK];
            bn_blk k = bn_block(a, &p, b);
            if (mode != BN_DZ_BLOCK && k.rows == 1) {
                BN_F(zsums)(a, &k, mode, a->mean[k.c0], &p1[k.slot], &p2[k.slot]);
                continue;
            }
            if (a->pw && k.rows == 1) {
                p1[k.slot] = 0.0; /* prelu: unused */
                p2[k.slot] = BN_F(prelu_dot)(a, &k, dzb, tb);
                continue;
            }
            const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
            if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
            const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
            ptrdiff_t m = k.rows * k.len;
            BN_F(zdot16)(dz, xb, m, a->mean[k.c0], &p1[k.slot], &p2[k.slot]);
            if (a->pw) p1[k.slot] = 0.0; /* prelu: unused */
        }
    }
    else {
        /* a work item is a super block of one channel chunk (as in stats): per channel, one
         * sum over the super block's rows in row order */
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t w = 0; w < p.nsb * p.per; w++) {
            BN_T dzb[BLK], tb[BLK];
            double acc1[BLK], acc2[BLK];
            ptrdiff_t sb, cc, rb0, rb1, cw = 0, c0 = 0;
            bn_super_item(&p, w, &sb, &cc, &rb0, &rb1);
            for (ptrdiff_t rb = rb0; rb < rb1; rb++) {
                bn_blk k = bn_block(a, &p, rb * p.per + cc);
                const double *mu = a->mean + k.c0;
                cw = k.cw;
                c0 = k.c0;
                if (rb == rb0)
                    for (ptrdiff_t c = 0; c < cw; c++) acc1[c] = acc2[c] = 0.0;
                switch (mode) { /* a constant mode per call, so each loop is compiled for it */
                case BN_DZ_Y: BN_F(chan_sums)(a, &k, BN_DZ_Y, NULL, NULL, mu, acc1, acc2); break;
                case BN_DZ_X: BN_F(chan_sums)(a, &k, BN_DZ_X, NULL, NULL, mu, acc1, acc2); break;
                default: {
                    const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
                    if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
                    const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
                    BN_F(chan_sums)(a, &k, BN_DZ_BLOCK, dz, xb, mu, acc1, acc2);
                }
                }
            }
            for (ptrdiff_t c = 0; c < cw; c++) {
                p1[sb * a->C + c0 + c] = acc1[c];
                p2[sb * a->C + c0 + c] = acc2[c];
            }
        }
    }
    if (a->layout == ACT_BN_INNER)
        for (ptrdiff_t c = 0; c < a->C; c++) {
            double s1 = 0, s2 = 0;
            for (ptrdiff_t b = 0; b < p.per; b++) {
                s1 += p1[c * p.per + b];
                s2 += p2[c * p.per + b];
            }
            sum_dz[c] = s1;
            sum_dzxm[c] = s2;
        }
    else {
        /* super blocks outer, channels inner (contiguous, vectorised), each channel's sum in
         * super-block order */
        for (ptrdiff_t c = 0; c < a->C; c++) sum_dz[c] = sum_dzxm[c] = 0.0;
        for (ptrdiff_t sb = 0; sb < p.nsb; sb++)
            for (ptrdiff_t c = 0; c < a->C; c++) {
                sum_dz[c] += p1[sb * a->C + c];
                sum_dzxm[c] += p2[sb * a->C + c];
            }
    }
    free(p1);
    return 0;
}

/* dx = (ga dz - ((x - mh) - ml) gd) - ge for the rows of block k into ob; dz from the block's
 * buffer dz (BN_DZ_BLOCK) or, fused, from dy and y or the recomputed pre-activation */
ACT_INLINE void BN_F(grad_apply_blk)(const act_bn_args *a, const bn_blk *k, int mode,
                                     const BN_T *dz, BN_T *ob)
{
    const int fused = mode != BN_DZ_BLOCK;
    const BN_T *mh = (const BN_T *)a->mh + k->c0, *ml = (const BN_T *)a->ml + k->c0;
    const BN_T *ga = (const BN_T *)a->ga + k->c0, *gd = (const BN_T *)a->gd + k->c0;
    const BN_T *ge = (const BN_T *)a->ge + k->c0;
    const BN_T *sc = fused ? (const BN_T *)a->scale + k->c0 : mh;
    const BN_T *sh = fused ? (const BN_T *)a->shift + k->c0 : mh;
    ptrdiff_t len = k->len, xst = bn_row_stride(a, &a->x);
    char *x0 = bn_seg(a, &a->x, k, 0);
    bn_rows dr = bn_rows_of(a, &a->dy, k), yr = bn_rows_of(a, &a->yin, k);
/* dz's (or dy's) and y's row `row` of the block */
#define BN_DROW(row) (fused ? BN_VROW(&a->dy, &dr, (row)) : dz + (row) * len)
#define BN_YROW(row) (mode == BN_DZ_Y ? BN_VROW(&a->yin, &yr, (row)) : NULL)
    for (ptrdiff_t row = 0; row < k->rows; row++) {
        const BN_S *xs = (const BN_S *)bn_row(a, &a->x, k, x0, xst, row);
        const BN_T *d = BN_DROW(row), *yv = BN_YROW(row);
        BN_T *o = ob + row * len;
        if (a->layout == ACT_BN_INNER) {
            const BN_T h = mh[0], l = ml[0], g1 = ga[0], g2 = gd[0], g3 = ge[0];
            const BN_T s = sc[0], b = sh[0];
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                BN_T xv = BN_LD(xs[j]), z = BN_F(dz1)(mode, d, yv, j, xv, h, l, s, b);
                o[j] = (g1 * z - ((xv - h) - l) * g2) - g3;
            }
        }
        else if (xst && BN_ROWS4(len) && row + 4 <= k->rows) { /* as in pre_act */
            const BN_S *x1 = (const BN_S *)((const char *)xs + xst);
            const BN_S *x2 = (const BN_S *)((const char *)xs + 2 * xst);
            const BN_S *x3 = (const BN_S *)((const char *)xs + 3 * xst);
            const BN_T *d1 = BN_DROW(row + 1), *d2 = BN_DROW(row + 2), *d3 = BN_DROW(row + 3);
            const BN_T *y1 = BN_YROW(row + 1), *y2 = BN_YROW(row + 2), *y3 = BN_YROW(row + 3);
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                const BN_T g1 = ga[j], h = mh[j], l = ml[j], g2 = gd[j], g3 = ge[j];
                const BN_T s = sc[j], b = sh[j];
                BN_T u0 = BN_LD(xs[j]), u1 = BN_LD(x1[j]), u2 = BN_LD(x2[j]), u3 = BN_LD(x3[j]);
                BN_T z0 = BN_F(dz1)(mode, d, yv, j, u0, h, l, s, b);
                BN_T z1 = BN_F(dz1)(mode, d1, y1, j, u1, h, l, s, b);
                BN_T z2 = BN_F(dz1)(mode, d2, y2, j, u2, h, l, s, b);
                BN_T z3 = BN_F(dz1)(mode, d3, y3, j, u3, h, l, s, b);
                o[j] = (g1 * z0 - ((u0 - h) - l) * g2) - g3;
                o[j + len] = (g1 * z1 - ((u1 - h) - l) * g2) - g3;
                o[j + 2 * len] = (g1 * z2 - ((u2 - h) - l) * g2) - g3;
                o[j + 3 * len] = (g1 * z3 - ((u3 - h) - l) * g2) - g3;
            }
            row += 3;
        }
        else {
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                BN_T xv = BN_LD(xs[j]);
                BN_T z = BN_F(dz1)(mode, d, yv, j, xv, mh[j], ml[j], sc[j], sh[j]);
                o[j] = (ga[j] * z - ((xv - mh[j]) - ml[j]) * gd[j]) - ge[j];
            }
        }
    }
#undef BN_DROW
#undef BN_YROW
}

static void BN_F(grad_apply)(const act_bn_args *a)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nb = bn_elt_count(&p, a);
    int nt = act_threads_for(a->outer * a->C * a->inner * BN_COST);
    (void)nt;
    const int mode = BN_F(dz_mode)(a);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (ptrdiff_t b = 0; b < nb; b++) {
        BN_T dzb[BLK], tmp[BLK];
        bn_blk k = bn_elt_block(a, &p, b);
        BN_T *direct = (BN_T *)BN_F(contig)(a, &a->out, &k);
        BN_T *ob = direct ? direct : dzb;
        switch (mode) { /* a constant mode per call, so each loop is compiled for it */
        case BN_DZ_Y: BN_F(grad_apply_blk)(a, &k, BN_DZ_Y, NULL, ob); break;
        case BN_DZ_X: BN_F(grad_apply_blk)(a, &k, BN_DZ_X, NULL, ob); break;
        default: BN_F(grad_apply_blk)(a, &k, BN_DZ_BLOCK, BN_F(dz)(a, &k, dzb, tmp), ob);
        }
        if (!direct) BN_F(store)(a, &a->out, &k, ob);
    }
}

#undef BN_F
#undef BN_VROW
#undef BN_LANES
#undef BN_ROWS4
#undef BN_CS_MAX
#undef BN_TREE
#undef BN_C3
#undef BN_C3_
#undef BN_SFX
#undef BN_S
#undef BN_T
#undef BN_LD
#undef BN_ST
#undef BN_ADT
#undef BN_FORM
