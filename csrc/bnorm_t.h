/* Batch-norm kernels for one dtype: a template included by bnorm.c with
 *   BN_SFX (f16/bf16/f32/f64), BN_S (storage type), BN_T (compute type), BN_LD/BN_ST (storage <->
 *   compute conversion), BN_ADT (the dtype index of the activation kernels run on BN_T).
 * No include guard: it is included once per dtype and undefines its parameters at the end. */
#if !defined(BN_SFX) || !defined(BN_S) || !defined(BN_T) || !defined(BN_ADT)
#error "bnorm_t.h is a template: include it from bnorm.c with BN_SFX, BN_S, BN_T, BN_ADT set"
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
            else if (xst && row + 4 <= k->rows) {
                /* four rows per pass over the channels: each parameter load serves four
                 * elements, and the loop's set-up is paid once per four rows of cw (C harness,
                 * 32x56x56x64 float32, 1 thread: 2.94 -> 2.47 ms; 2 threads, memory-bound:
                 * within the noise) */
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
                o[j] = BN_LRELU_GRAD(g, v, wc, 0);
                z[j] = v < 0 ? g : (v == v ? (BN_T)0 : v);
            }
        }
        else
            ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                BN_T v = xr[j], g = d[j];
                o[j] = BN_LRELU_GRAD(g, v, w[j], 0);
                z[j] = v < 0 ? g : (v == v ? (BN_T)0 : v);
            }
    }
    if (!direct) BN_F(store)(a, &a->out, k, ob);
    return dzb;
}

/* dz for the block, the gradient after the activation (= dy without one): a pointer to dy's
 * or dres's own memory when that is contiguous, else to dzb */
static const BN_T *BN_F(dz)(const act_bn_args *a, const bn_blk *k, BN_T *dzb, BN_T *tmp)
{
    ptrdiff_t m = k->rows * k->len;
    if (a->pw) return BN_F(prelu_dz)(a, k, dzb, tmp);
    if (a->dres_ready) return BN_F(src)(a, &a->dres, k, dzb);
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
 * gives the same bits.  One accumulator array per loop: with two, gcc 12 fell back to scalar
 * code (measured 3x slower), so the backward's two sums are two loops over the L1 block. */
#define BN_LANES 16
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

/* sum of dz * (x - mu) */
static inline double BN_F(dot16)(const BN_T *dz, const BN_T *x, ptrdiff_t m, double mu)
{
    double s[BN_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + BN_LANES <= m; j += BN_LANES)
        for (int l = 0; l < BN_LANES; l++) s[l] += (double)dz[j + l] * ((double)x[j + l] - mu);
    for (int l = 0; j + l < m; l++) s[l] += (double)dz[j + l] * ((double)x[j + l] - mu);
    return BN_TREE(s);
}

static int BN_F(stats)(const act_bn_args *a, double *mean, double *m2)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nslots = a->layout == ACT_BN_INNER ? p.nblk : p.nsb * a->C;
    double *pm = (double *)malloc((size_t)(nslots > 0 ? nslots : 1) * 2 * sizeof(double));
    if (!pm) return -1;
    double *pq = pm + nslots;
    int nt = act_threads_for(a->outer * a->C * a->inner);
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
                    double mu = BN_F(sum16)(buf, k.len) / (double)k.len;
                    double q = BN_F(ssd16)(buf, k.len, mu);
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
            double mu = BN_F(sum16)(buf, m) / (double)m;
            pm[k.slot] = mu;
            pq[k.slot] = BN_F(ssd16)(buf, m, mu);
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
                /* per channel over the block's rows: the inner loop runs over channels and
                 * vectorises; each channel's sum has one fixed order (row order) */
                ptrdiff_t cw = k.cw;
                for (ptrdiff_t c = 0; c < cw; c++) acc[c] = 0.0;
                for (ptrdiff_t row = 0; row < k.rows; row++)
                    for (ptrdiff_t c = 0; c < cw; c++) acc[c] += (double)buf[row * cw + c];
                for (ptrdiff_t c = 0; c < cw; c++) {
                    mu[c] = acc[c] / (double)k.rows;
                    acc[c] = 0.0;
                }
                for (ptrdiff_t row = 0; row < k.rows; row++)
                    for (ptrdiff_t c = 0; c < cw; c++) {
                        double d = (double)buf[row * cw + c] - mu[c];
                        acc[c] += d * d;
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
    int nt = act_threads_for(a->outer * a->C * a->inner);
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
    int nt = act_threads_for(a->outer * a->C * a->inner);
    (void)nt;
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
                    const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
                    if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
                    const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
                    double s1 = a->pw ? 0.0 : BN_F(sum16)(dz, k.len); /* prelu: unused */
                    double s2 = BN_F(dot16)(dz, xb, k.len, a->mean[c]);
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
            const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
            if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
            const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
            ptrdiff_t m = k.rows * k.len;
            p1[k.slot] = a->pw ? 0.0 : BN_F(sum16)(dz, m); /* prelu: unused */
            p2[k.slot] = BN_F(dot16)(dz, xb, m, a->mean[k.c0]);
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
                const BN_T *dz = BN_F(dz)(a, &k, dzb, tb);
                if (a->dres.p && !a->dres_ready) BN_F(store)(a, &a->dres, &k, dz);
                const BN_T *xb = BN_F(src)(a, &a->x, &k, tb);
                const double *mu = a->mean + k.c0;
                cw = k.cw;
                c0 = k.c0;
                if (rb == rb0)
                    for (ptrdiff_t c = 0; c < cw; c++) acc1[c] = acc2[c] = 0.0;
                for (ptrdiff_t row = 0; row < k.rows; row++)
                    for (ptrdiff_t c = 0; c < cw; c++) {
                        double d = (double)dz[row * cw + c];
                        acc1[c] += d;
                        acc2[c] += d * ((double)xb[row * cw + c] - mu[c]);
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

static void BN_F(grad_apply)(const act_bn_args *a)
{
    bn_plan p = bn_make_plan(a);
    ptrdiff_t nb = bn_elt_count(&p, a);
    int nt = act_threads_for(a->outer * a->C * a->inner);
    (void)nt;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (ptrdiff_t b = 0; b < nb; b++) {
        BN_T dzb[BLK], tmp[BLK];
        bn_blk k = bn_elt_block(a, &p, b);
        const BN_T *dz = BN_F(dz)(a, &k, dzb, tmp);
        BN_T *direct = (BN_T *)BN_F(contig)(a, &a->out, &k);
        BN_T *ob = direct ? direct : dzb;
        const BN_T *mh = (const BN_T *)a->mh + k.c0, *ml = (const BN_T *)a->ml + k.c0;
        const BN_T *ga = (const BN_T *)a->ga + k.c0, *gd = (const BN_T *)a->gd + k.c0;
        const BN_T *ge = (const BN_T *)a->ge + k.c0;
        ptrdiff_t len = k.len, xst = bn_row_stride(a, &a->x);
        char *x0 = bn_seg(a, &a->x, &k, 0);
        for (ptrdiff_t row = 0; row < k.rows; row++) {
            const BN_S *xs = (const BN_S *)bn_row(a, &a->x, &k, x0, xst, row);
            const BN_T *z = dz + row * len;
            BN_T *d = ob + row * len;
            if (a->layout == ACT_BN_INNER) {
                const BN_T h = mh[0], l = ml[0], g1 = ga[0], g2 = gd[0], g3 = ge[0];
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++)
                    d[j] = (g1 * z[j] - ((BN_LD(xs[j]) - h) - l) * g2) - g3;
            }
            else if (xst && row + 4 <= k.rows) { /* four rows at a time, as in pre_act */
                const BN_S *x1 = (const BN_S *)((const char *)xs + xst);
                const BN_S *x2 = (const BN_S *)((const char *)xs + 2 * xst);
                const BN_S *x3 = (const BN_S *)((const char *)xs + 3 * xst);
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++) {
                    const BN_T g1 = ga[j], h = mh[j], l = ml[j], g2 = gd[j], g3 = ge[j];
                    BN_T v0 = (g1 * z[j] - ((BN_LD(xs[j]) - h) - l) * g2) - g3;
                    BN_T v1 = (g1 * z[j + len] - ((BN_LD(x1[j]) - h) - l) * g2) - g3;
                    BN_T v2 = (g1 * z[j + 2 * len] - ((BN_LD(x2[j]) - h) - l) * g2) - g3;
                    BN_T v3 = (g1 * z[j + 3 * len] - ((BN_LD(x3[j]) - h) - l) * g2) - g3;
                    d[j] = v0;
                    d[j + len] = v1;
                    d[j + 2 * len] = v2;
                    d[j + 3 * len] = v3;
                }
                row += 3;
            }
            else {
                ACT_IVDEP for (ptrdiff_t j = 0; j < len; j++)
                    d[j] = (ga[j] * z[j] - ((BN_LD(xs[j]) - mh[j]) - ml[j]) * gd[j]) - ge[j];
            }
        }
        if (!direct) BN_F(store)(a, &a->out, &k, ob);
    }
}

#undef BN_F
#undef BN_LANES
#undef BN_TREE
#undef BN_C3
#undef BN_C3_
#undef BN_SFX
#undef BN_S
#undef BN_T
#undef BN_LD
#undef BN_ST
#undef BN_ADT
#undef BN_LRELU_GRAD
