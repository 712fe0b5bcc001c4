/* Axis-activation kernels for one storage type: a template, included by axis.c once for float
 * and once for double (T, SFX, the T-specific helpers below).  See axis.c for the reduction
 * order every kernel shares, which is what makes the results independent of thread count and
 * memory layout. */
#ifndef T
#error "axis_t.h is a template: include it from axis.c"
#endif

#define AXF_(n, s, i) act_ax_##n##_##s##_##i
#define AXF(n, s, i) AXF_(n, s, i)
#define F(n) AXF(n, SFX, ACT_ISA)

/* max of a contiguous run (masked-out entries as -inf), NaN if an entry is NaN and another
 * +inf.  A NaN elsewhere needs no flag here: its term makes the block's sum NaN, which blk_a
 * turns into a NaN block max (its terms have a finite shift).  The order of a max does not
 * change its value (-0/+0 aside, which ax_norm_max folds), so the run is split across AX_RM
 * independent partial maxima, which gcc vectorises into several vector accumulators: with one
 * (an omp simd reduction) the loop waited on each vmaxps, and with the NaN flag it kept it
 * was ~12% of float32 softmax in cache (perf annotate, 64 x 1024). */
#define AX_RM (256 / (int)sizeof(T)) /* 4 AVX-512 vectors */
static inline T F(rowmax)(const T *x, const unsigned char *mk, ptrdiff_t n)
{
    T mv[AX_RM], m = -INFINITY;
    for (int k = 0; k < AX_RM; k++) mv[k] = -INFINITY;
    ptrdiff_t i = 0;
#define AX_V(i) (mk ? (mk[i] ? x[i] : (T)-INFINITY) : x[i])
    /* runs of W elements into the first W partials, a vector loop per case (with a mask,
     * without) so neither carries the other's select */
#define AX_RM_RUNS(W)                                                                          \
    if (mk) {                                                                                  \
        for (; i + (W) <= n; i += (W))                                                         \
            _Pragma("omp simd") for (int k = 0; k < (W); k++)                                  \
            {                                                                                  \
                T v = mk[i + k] ? x[i + k] : (T)-INFINITY;                                     \
                mv[k] = v > mv[k] ? v : mv[k];                                                 \
            }                                                                                  \
    }                                                                                          \
    else {                                                                                     \
        for (; i + (W) <= n; i += (W))                                                         \
            _Pragma("omp simd") for (int k = 0; k < (W); k++) mv[k] =                          \
                x[i + k] > mv[k] ? x[i + k] : mv[k];                                           \
    }
    AX_RM_RUNS(AX_RM)
    /* the rest one vector (64 bytes) at a time, then the last few scalar: a scalar max is a
     * chain of dependent compares, and a row of 100 left 36 of them (~20% of blk_a in perf;
     * 1024 x 100 softmax 124 -> 114 us, one thread, one process) */
    AX_RM_RUNS(64 / (int)sizeof(T))
#undef AX_RM_RUNS
    for (; i < n; i++) m = AX_V(i) > m ? AX_V(i) : m;
    /* the partials, as a vector reduction (a scalar loop over them was ~0.2 cycles/element
     * of a 1024-element block) */
#pragma omp simd reduction(max : m)
    for (int k = 0; k < AX_RM; k++) m = mv[k] > m ? mv[k] : m;
    if (m == INFINITY) /* rare: NaN wins over +inf */
        for (i = 0; i < n; i++)
            if (AX_V(i) != AX_V(i)) return (T)NAN;
#undef AX_V
    return m;
}
#undef AX_RM

/* ---------------------------------------------------------------- softmax family, pass A
 * One block of n <= AX_B contiguous elements: block max m (rowmax) and s = sum e^(x - shift),
 * the shift ms = m normalised (+0 for -0, 0 for -inf), or for float32 softmax and log_softmax
 * K ln2 where m allows it (*kout = K, ax_exp_k_f), in double, element i going to lane i % AX_K,
 * lanes added in a fixed order (ax_lanes).  Gradients: m = 0, s = sum of the
 * terms. */
AX_FLAT static void F(blk_a)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                             ptrdiff_t n, double *mout, double *sout, double *cout,
                             double *kout)
{
    ptrdiff_t ones = 0;
    double acc[AX_K], comp[AX_K], e[AX_CH];
    T et[AX_CH];
    for (int k = 0; k < AX_K; k++) acc[k] = comp[k] = 0.0;
    double ms = 0.0, m = 0.0;
    T mt = (T)0;
    if (op <= ACT_AX_LOGSUMEXP) {
        mt = F(rowmax)(x, mk, n);
        m = (double)mt;
        ms = ax_norm_max(m);
    }
    *kout = NAN; /* shifted by its max (see ax_combine) unless the K ln2 shift applies */
#if AX_KSHIFT
    /* float32 softmax and log_softmax: the shift K ln2 where m_b allows it (ax_exp_k_f) */
    const int kfast = AX_KSHIFT_OP(op) && ax_kshift_ok(mt);
    int32_t K = kfast ? ax_kshift_k(mt) : 0;
    const float klo = mt - 120.0f;
    const uint32_t kadj = (uint32_t)(127 + 64 - K) << 23;
    if (kfast) *kout = (double)K;
#endif
    for (ptrdiff_t c = 0; c < n; c += AX_CH) {
        ptrdiff_t cn = n - c < AX_CH ? n - c : AX_CH;
        const T *xc = x + c;
        if (AX_EXP_IN_T(op)) {
            /* float32 softmax keeps e^(x - shift) in y: pass B only rescales it */
            T *ec = (op == ACT_AX_SOFTMAX && AX_STORE_E) ? y + c : et;
            const T mst = (T)ms;
            /* log S needs the terms equal to 1 (the max, e^0) counted, not summed (see
             * ax_combine): counted in the exp loop itself, in an int (a block has <= AX_B of
             * them).  As a second pass with a ptrdiff_t count it was ~17% of log_softmax in
             * cache, fused with the 64-bit count slower than two passes (C harness, 256 x 4096
             * float32, 1 thread, AVX-512: 0.65 -> 0.59 ns/element; 4096^2 on 2 threads 0.50
             * -> 0.43).  softmax only needs 1/S and counts nothing. */
            const int count = op != ACT_AX_SOFTMAX;
            const unsigned char *mc = mk ? mk + c : NULL;
            if (!mk) {
                /* ask for the lines AX_B elements ahead (see AX_PREFETCH in axis.c), one per
                 * 64 bytes, then one exp loop over the chunk: interleaved with the exps, 16
                 * at a time, the prefetches split the loop into 16-element pieces, each with
                 * its own alias check (C harness, 16 x 4096 float32 in cache, 1 thread) */
                enum { PF = 64 / sizeof(T) };
                for (ptrdiff_t j = 0; j < cn; j += PF) AX_PREFETCH(xc + j);
            }
            /* EXPV(v): the term of v; ONE(v, e): whether it is one of the block's max terms.
             * Each term goes into its lane (element c + j to lane j % AX_K) in the exp loop
             * itself, the lanes an omp simd inner loop so they stay in registers: as a second
             * loop over the stored terms they were reloaded and added in a chain of 16
             * dependent adds per chunk (~20% of pass A, perf annotate).  The rest of a chunk
             * (fewer than AX_K terms) is exponentiated as one vector loop and then added one by
             * one into its lanes.  Same lanes, same order, so the same bits.  ec is y, which
             * may be x itself (in place) at the same index: no loop-carried dependence
             * (ACT_IVDEP), where gcc had versioned every loop for aliasing. */
            ptrdiff_t j = 0;
            /* only float32 softmax's pass B reads the terms (y); the others keep only the
             * chunk's rest, in et, for its lanes */
            const int keep = op == ACT_AX_SOFTMAX && AX_STORE_E;
            /* the count's lanes: int32 for float, double for double (exact: a block has <=
             * AX_B max terms).  With int lanes next to the double ones (or int64) gcc left
             * float64 log_softmax's and logsumexp's exp loop scalar: 256 x 4096, one thread,
             * 18.2 -> 3.3 and 17.9 -> 2.9 ns/element (PyTorch 1.7 and 2.5), same bits */
            AX_CNT n1v[AX_K];
            for (int k = 0; k < AX_K; k++) n1v[k] = 0;
#define AX_EXP_LOOPS(V, EXPV, ONE)                                                             \
    if (!count) {                                                                              \
        for (; j + AX_K <= cn; j += AX_K)                                                      \
            AX_LANES_SIMD for (int k = 0; k < AX_K; k++)                                       \
            {                                                                                  \
                T e = EXPV(V(j + k));                                                          \
                if (keep) ec[j + k] = e;                                                       \
                AX_ADD(acc[k], comp[k], (double)e);                                            \
            }                                                                                  \
        const ptrdiff_t j0 = j;                                                                \
        ACT_IVDEP                                                                              \
        for (ptrdiff_t i = j0; i < cn; i++) ec[i] = EXPV(V(i));                                \
    }                                                                                          \
    else {                                                                                     \
        for (; j + AX_K <= cn; j += AX_K)                                                      \
            AX_LANES_SIMD for (int k = 0; k < AX_K; k++)                                       \
            {                                                                                  \
                T v = V(j + k), e = EXPV(v);                                                   \
                AX_CNT one = ONE(v, e);                                                        \
                n1v[k] += one;                                                                 \
                e = one ? (T)0 : e;                                                            \
                AX_ADD(acc[k], comp[k], (double)e);                                            \
            }                                                                                  \
        const ptrdiff_t j0 = j;                                                                \
        ACT_IVDEP                                                                              \
        for (ptrdiff_t i = j0; i < cn; i++) {                                                  \
            T v = V(i), e = EXPV(v);                                                           \
            AX_CNT one = ONE(v, e);                                                            \
            n1v[i - j0] += one;                                                                \
            ec[i] = one ? (T)0 : e;                                                            \
        }                                                                                      \
    }
#define AX_XV(i) (xc[i])
#define AX_XM(i) (mc[i] ? xc[i] : (T)-INFINITY)
#define AX_EXP_M(v) EXP_SHIFTED(v, mst)
#define AX_ONE_M(v, e) ((e) == (T)(1.0 / AX_ESCALE))
#if AX_KSHIFT
#define AX_EXP_K(v) ax_exp_k_f(v, klo, kadj)
#define AX_ONE_K(v, e) ((v) == mt)
            if (kfast && !mk) {
                AX_EXP_LOOPS(AX_XV, AX_EXP_K, AX_ONE_K)
            }
            else if (kfast) {
                AX_EXP_LOOPS(AX_XM, AX_EXP_K, AX_ONE_K)
            }
            else
#undef AX_ONE_K
#undef AX_EXP_K
#endif
                if (!mk) {
                AX_EXP_LOOPS(AX_XV, AX_EXP_M, AX_ONE_M)
            }
            else {
                AX_EXP_LOOPS(AX_XM, AX_EXP_M, AX_ONE_M)
            }
#undef AX_EXP_M
#undef AX_ONE_M
#undef AX_XV
#undef AX_XM
#undef AX_EXP_LOOPS
            /* the rest of the chunk into its lanes, in order */
            for (; j < cn; j++) AX_ADD(acc[j % AX_K], comp[j % AX_K], (double)ec[j]);
            if (count)
                for (int k = 0; k < AX_K; k++) ones += n1v[k];
            continue;
        }
        if (op != ACT_AX_LOGSUMEXP) {
            /* gradients: the terms straight into the lanes, no double buffer (the same order:
             * element c + j to lane j % AX_K); with softmax_grad's float pass B, 0.45 -> 0.28
             * ns/element in cache (64 x 1024, 1 thread, one process) */
            const T *dc = x2 + c;
            ptrdiff_t j = 0;
#define AX_GRAD_TERMS(V)                                                                       \
    for (; j + AX_K <= cn; j += AX_K)                                                          \
        AX_LANES_SIMD for (int k = 0; k < AX_K; k++) AX_ADD(acc[k], comp[k], V(j + k));        \
    for (; j < cn; j++) AX_ADD(acc[j % AX_K], comp[j % AX_K], V(j));
#define AX_YDY(i) ((double)xc[i] * (double)dc[i])
#define AX_DY(i) ((double)dc[i])
            if (op == ACT_AX_SOFTMAX_GRAD) {
                AX_GRAD_TERMS(AX_YDY)
            }
            else {
                AX_GRAD_TERMS(AX_DY)
            }
#undef AX_YDY
#undef AX_DY
#undef AX_GRAD_TERMS
            continue;
        }
        /* float32 logsumexp: shift and exp in double; terms equal to 1 (the max, e^0) are
         * counted, not summed: see ax_combine */
        for (ptrdiff_t j = 0; j < cn; j++) e[j] = act_exp((double)xc[j] - ms);
#pragma omp simd reduction(+ : ones)
        for (ptrdiff_t j = 0; j < cn; j++) {
            int one = e[j] == 1.0;
            ones += one;
            e[j] -= one ? 1.0 : 0.0;
        }
        /* AX_CH is a multiple of AX_K, so element c + j goes to lane j % AX_K */
        ptrdiff_t j = 0;
        for (; j + AX_K <= cn; j += AX_K)
            AX_LANES_SIMD for (int k = 0; k < AX_K; k++) AX_ADD(acc[k], comp[k], e[j + k]);
        for (; j < cn; j++) AX_ADD(acc[j % AX_K], comp[j % AX_K], e[j]);
    }
    double sum = AX_LANES(acc, comp) * (AX_EXP_IN_T(op) ? AX_ESCALE : 1.0); /* exact: 2^k */
    /* a NaN sum below m = +inf comes from a NaN in x: the block's max says so (rowmax does
     * not), so the row's M is NaN, as the column kernel's AX_MAX makes it */
    *mout = op <= ACT_AX_LOGSUMEXP && sum != sum && m != INFINITY ? (double)NAN : m;
    *sout = sum;
    *cout = (double)ones;
}

/* Pass A over columns: n <= AX_B rows of J <= AX_J contiguous columns (row stride `inner`),
 * each column with exactly the arithmetic of blk_a on a contiguous row. */
AX_FLAT static void F(col_a)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                             ptrdiff_t inner, ptrdiff_t n, ptrdiff_t J, double *mout,
                             double *sout, double *cout, double *kout)
{
    double acc[AX_K][AX_J], comp[AX_K][AX_J], ms[AX_J], ones[AX_J];
    for (ptrdiff_t j = 0; j < J; j++) ones[j] = 0.0, kout[j] = NAN;
    T mst[AX_J], et[AX_J], mv[AX_J];
#if AX_KSHIFT
    /* blk_a's K ln2 shift per column: kf[j] where column j's block max allows it */
    float klo[AX_J];
    uint32_t kadj[AX_J];
    int kf[AX_J], allk = 0, anyk = 0;
#endif
    /* the lanes, and their compensations only where AX_ADD keeps them (float64): both were a
     * memset of 2 x 16 x AX_J doubles per task, 4% of a 16 x 21 x 128 x 128 float32 softmax
     * along axis 1 (perf) */
    for (int k = 0; k < AX_K; k++)
        for (ptrdiff_t j = 0; j < J; j++) acc[k][j] = 0.0;
    if (AX_COMP)
        for (int k = 0; k < AX_K; k++)
            for (ptrdiff_t j = 0; j < J; j++) comp[k][j] = 0.0;
    if (op <= ACT_AX_LOGSUMEXP) {
        for (ptrdiff_t j = 0; j < J; j++) mv[j] = -INFINITY;
        for (ptrdiff_t l = 0; l < n; l++) {
            const T *xr = x + l * inner;
            if (mk) {
                const unsigned char *mr = mk + l * inner;
                for (ptrdiff_t j = 0; j < J; j++) {
                    T v = mr[j] ? xr[j] : (T)-INFINITY;
                    mv[j] = AX_MAX(v, mv[j]);
                }
            }
            else {
                /* this row's next AX_J columns, the thread's next task (schedule(static)): a
                 * task reads only AX_J * sizeof(T) bytes of each row, rows apart by the
                 * stride, too little per page for the hardware prefetcher to follow (the
                 * address as an integer: past the array for the last task, and a prefetch
                 * does not fault).  y's lines for writing as well (log_softmax writes y in
                 * pass B only, whose first stores miss): 7% faster on 16 x 21 x 128 x 128
                 * along axis 1 at one thread, no faster at two, 5-30% slower along axis 0 of
                 * 4096^2 (one process, alternating): not done */
                for (ptrdiff_t q = 0; q < AX_J; q += 64 / (ptrdiff_t)sizeof(T))
                    AX_PREFETCH_AT((const char *)((uintptr_t)xr + sizeof(T) * (size_t)(AX_J + q)));
                for (ptrdiff_t j = 0; j < J; j++) {
                    T v = xr[j];
                    mv[j] = AX_MAX(v, mv[j]);
                }
            }
        }
        for (ptrdiff_t j = 0; j < J; j++) {
            mout[j] = (double)mv[j];
            ms[j] = ax_norm_max(mout[j]);
            mst[j] = (T)ms[j];
        }
#if AX_KSHIFT
        if (AX_KSHIFT_OP(op)) {
            allk = 1;
            for (ptrdiff_t j = 0; j < J; j++) {
                kf[j] = ax_kshift_ok(mv[j]);
                int32_t K = kf[j] ? ax_kshift_k(mv[j]) : 0;
                klo[j] = mv[j] - 120.0f;
                kadj[j] = (uint32_t)(127 + 64 - K) << 23;
                if (kf[j]) kout[j] = (double)K;
                allk &= kf[j], anyk |= kf[j];
            }
        }
#endif
    }
    else
        for (ptrdiff_t j = 0; j < J; j++) mout[j] = ms[j] = 0.0, mst[j] = 0;
    for (ptrdiff_t l = 0; l < n; l++) {
        double *a = acc[l % AX_K], *cp = comp[l % AX_K];
        (void)cp; /* unused where AX_ADD is a plain add */
        const T *xr = x + l * inner;
        if (AX_EXP_IN_T(op)) {
            T *ec = (op == ACT_AX_SOFTMAX && AX_STORE_E) ? y + l * inner : et;
            const unsigned char *mr = mk ? mk + l * inner : NULL;
#define AX_V(j) (mr ? (mr[j] ? xr[j] : (T)-INFINITY) : xr[j])
#define AX_COL_EXP(EXPC)                                                                       \
    if (mr)                                                                                    \
        for (ptrdiff_t j = 0; j < J; j++) {                                                    \
            T v = mr[j] ? xr[j] : (T)-INFINITY;                                                \
            ec[j] = EXPC(v, j);                                                                \
        }                                                                                      \
    else                                                                                       \
        for (ptrdiff_t j = 0; j < J; j++) ec[j] = EXPC(xr[j], j);
#define AX_EXP_M(v, j) EXP_SHIFTED(v, mst[j])
#if AX_KSHIFT
#define AX_EXP_K(v, j) ax_exp_k_f(v, klo[j], kadj[j])
#define AX_EXP_KM(v, j) (kf[j] ? AX_EXP_K(v, j) : AX_EXP_M(v, j))
            if (allk) {
                AX_COL_EXP(AX_EXP_K)
            }
            else if (anyk) {
                AX_COL_EXP(AX_EXP_KM)
            }
            else
#undef AX_EXP_K
#undef AX_EXP_KM
#endif
            {
                AX_COL_EXP(AX_EXP_M)
            }
#undef AX_EXP_M
#undef AX_COL_EXP
            if (op == ACT_AX_SOFTMAX) /* as blk_a: no count, the same lanes */
                for (ptrdiff_t j = 0; j < J; j++) AX_ADD(a[j], cp[j], (double)ec[j]);
#if AX_KSHIFT
            else if (allk && !mr)
                /* every column shifted by K ln2, no mask: the count as a double select, without
                 * the per-column choice of test (256 x 4096 float32 log_softmax along axis 0,
                 * one thread, one process: 1.05 -> 0.94 ns/element, same bits) */
                for (ptrdiff_t j = 0; j < J; j++) {
                    double t = (double)ec[j];
                    int isone = xr[j] == mv[j];
                    double one = isone ? t : 0.0, c1 = isone ? 1.0 : 0.0;
                    ones[j] += c1;
                    AX_ADD(a[j], cp[j], t - one);
                }
#endif
            else
                for (ptrdiff_t j = 0; j < J; j++) {
                    /* blk_a's test: the block's max term (K ln2 shift), or a term equal to 1 */
#if AX_KSHIFT
                    int isone = kf[j] ? AX_V(j) == mv[j] : ec[j] == (T)(1.0 / AX_ESCALE);
#else
                    int isone = ec[j] == (T)(1.0 / AX_ESCALE);
#endif
                    double t = (double)ec[j], one = isone ? t : 0.0;
                    ones[j] += isone;
                    AX_ADD(a[j], cp[j], t - one);
                }
#undef AX_V
        }
        else if (op == ACT_AX_LOGSUMEXP)
            for (ptrdiff_t j = 0; j < J; j++) {
                double t = act_exp((double)xr[j] - ms[j]), one = t == 1.0 ? 1.0 : 0.0;
                ones[j] += one;
                AX_ADD(a[j], cp[j], t - one);
            }
        else if (op == ACT_AX_SOFTMAX_GRAD) {
            const T *dr = x2 + l * inner;
            for (ptrdiff_t j = 0; j < J; j++) AX_ADD(a[j], cp[j], (double)xr[j] * (double)dr[j]);
        }
        else {
            const T *dr = x2 + l * inner;
            for (ptrdiff_t j = 0; j < J; j++) AX_ADD(a[j], cp[j], (double)dr[j]);
        }
    }
    /* AX_LANES of every column, vectorised across the columns (ax_lanes_cols): column by
     * column, a gather of 16 lanes and a scalar chain each was ~50 cycles per column, most of
     * a short axis's time (16 x 21 x 128 x 128 along axis 1) */
    AX_LANES_COLS(acc, comp, J, sout);
    for (ptrdiff_t j = 0; j < J; j++) {
        sout[j] *= AX_EXP_IN_T(op) ? AX_ESCALE : 1.0; /* exact: 2^k */
        cout[j] = ones[j];
    }
}

/* ---------------------------------------------------------------- pass B: the outputs
 * One contiguous run of n elements sharing the row statistics st (see ax_stats). */
AX_FLAT static void F(run_b1)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                              ptrdiff_t n, const ax_stats *st, double fb)
{
    if (op == ACT_AX_SOFTMAX && AX_STORE_E) { /* y holds e^(x - shift) / AX_ESCALE from pass A */
        float h, l;
        if (ax_block_scale(fb, st, AX_ESCALE, AX_TMIN, &h, &l))
            for (ptrdiff_t i = 0; i < n; i++) y[i] = AX_SCALED(y[i], h, l, 1);
        else
            for (ptrdiff_t i = 0; i < n; i++) y[i] = AX_SCALED(y[i], h, l, 0);
    }
    else if (op == ACT_AX_SOFTMAX) { /* e^(x - M) / S; S = 0 (nothing counted): e / inf = 0 */
        const T ms = (T)st->ms;
        double rh, rl; /* 1/S as a double-word; 0 for S = 0 */
        ax_recip_dd(st->s, &rh, &rl);
        (void)ms, (void)rh, (void)rl; /* float32 softmax does not come here (AX_STORE_E) */
        if (mk)
            for (ptrdiff_t i = 0; i < n; i++) {
                T e = SOFTMAX_Q(x[i], ms, rh, rl);
                y[i] = mk[i] ? e : (T)0;
            }
        else
            for (ptrdiff_t i = 0; i < n; i++) y[i] = SOFTMAX_Q(x[i], ms, rh, rl);
    }
    else if (op == ACT_AX_LOG_SOFTMAX) {
        const T ms = (T)st->ms, lg = (T)st->lg; /* ms is exact in T: the row max of x */
        for (ptrdiff_t i = 0; i < n; i++) y[i] = LOG_SOFTMAX(x[i], ms, lg);
    }
    else if (op == ACT_AX_SOFTMAX_GRAD) {
        const double s = st->s; /* x = y, x2 = dy: dx = y (dy - s) */
        if (AX_GRAD_NARROW(s))
            for (ptrdiff_t i = 0; i < n; i++) y[i] = SOFTMAX_GRAD(x[i], x2[i], s);
        else
            for (ptrdiff_t i = 0; i < n; i++) y[i] = SOFTMAX_GRAD_WIDE(x[i], x2[i], s);
    }
    else { /* log_softmax_grad: dx = dy - e^y s */
        const double s = st->s;
        if (AX_GRAD_NARROW(s))
            for (ptrdiff_t i = 0; i < n; i++) y[i] = LSM_GRAD(x2[i], x[i], s);
        else
            for (ptrdiff_t i = 0; i < n; i++) y[i] = LSM_GRAD_WIDE(x2[i], x[i], s);
    }
}
/* pass B over a run.  nts: y goes out through streaming stores (ACT_NT_BYTES in ntstore.h),
 * AX_CH outputs at a time from an L1 buffer, the same arithmetic.  Not for float32 softmax,
 * which reads its terms from y. */
static void F(run_b)(int op, const T *x, const T *x2, const unsigned char *mk, T *y, ptrdiff_t n,
                     const ax_stats *st, double fb, int nts)
{
    if (!nts) {
        F(run_b1)(op, x, x2, mk, y, n, st, fb);
        return;
    }
    /* plain stores up to y's first vector-aligned element, so that every chunk after it
     * starts a cache line: chunks straddling lines left one line in 16 to plain stores and
     * its read for ownership, and cost two copies per chunk (4096^2 log_softmax, 2 threads,
     * against the plain-store build in the same runs: straddling 5% slower, aligned 13%
     * faster) */
    ptrdiff_t c = (ptrdiff_t)((-(uintptr_t)y & (ACT_NTW - 1)) / sizeof(T));
    if (c > n) c = n;
    if (c) F(run_b1)(op, x, x2, mk, y, c, st, fb);
    T buf[AX_CH];
    for (; c < n; c += AX_CH) {
        ptrdiff_t cn = n - c < AX_CH ? n - c : AX_CH;
        F(run_b1)(op, x + c, x2 ? x2 + c : NULL, mk ? mk + c : NULL, buf, cn, st, fb);
        act_nt_copy(y + c, buf, (size_t)cn * sizeof(T));
    }
}

/* the same over J columns of n rows (row stride inner), column j with statistics st[j] and
 * block factors fb[b AX_J + j] */
AX_FLAT static void F(col_b)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                             ptrdiff_t inner, ptrdiff_t L, ptrdiff_t J, const ax_stats *st,
                             const double *fb, int nts)
{
    T ms[AX_J];
    double rh[AX_J], rl[AX_J]; /* float64 softmax: 1/S as a double-word (ax_recip_dd) */
    float hv[AX_J], lv[AX_J];
    int sp[AX_J], anysplit = 0;
    for (ptrdiff_t j = 0; j < J; j++) ms[j] = (T)st[j].ms;
    if (op == ACT_AX_SOFTMAX && !AX_STORE_E)
        for (ptrdiff_t j = 0; j < J; j++)
            ax_recip_dd(st[j].s, &rh[j], &rl[j]); /* 0 for an empty row */
    T lg[AX_J];
    double s[AX_J];
    int narrow = 1; /* every column's sum fits the float forms (AX_GRAD_NARROW) */
    for (ptrdiff_t j = 0; j < J; j++) {
        lg[j] = (T)st[j].lg, s[j] = st[j].s;
        narrow &= AX_GRAD_NARROW(s[j]);
    }
    for (ptrdiff_t l = 0; l < L; l++) {
        const T *xr = x + l * inner;
        T *yr = y + l * inner;
        if (op == ACT_AX_SOFTMAX && !AX_STORE_E) {
            if (mk) {
                const unsigned char *mr = mk + l * inner;
                for (ptrdiff_t j = 0; j < J; j++) {
                    T e = SOFTMAX_Q(xr[j], ms[j], rh[j], rl[j]);
                    yr[j] = mr[j] ? e : (T)0;
                }
            }
            else
                for (ptrdiff_t j = 0; j < J; j++)
                    yr[j] = SOFTMAX_Q(xr[j], ms[j], rh[j], rl[j]);
        }
        else if (op == ACT_AX_SOFTMAX) {
            if (l % AX_B == 0) { /* a new block: its scale per column (run_b's) */
                anysplit = 0;
                for (ptrdiff_t j = 0; j < J; j++) {
                    sp[j] = ax_block_scale(fb[(l / AX_B) * AX_J + j], &st[j], AX_ESCALE,
                                           AX_TMIN, &hv[j], &lv[j]);
                    anysplit |= sp[j];
                }
            }
            if (anysplit)
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = AX_SCALED(yr[j], hv[j], lv[j], sp[j]);
            else
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = AX_SCALED(yr[j], hv[j], lv[j], 0);
        }
        else if (op == ACT_AX_LOG_SOFTMAX && nts) {
            /* each row's J outputs through an L1 buffer and streaming stores (F(sm_cols)) */
            T buf[AX_J];
            for (ptrdiff_t j = 0; j < J; j++) buf[j] = LOG_SOFTMAX(xr[j], ms[j], lg[j]);
            act_nt_copy(yr, buf, (size_t)J * sizeof(T));
        }
        else if (op == ACT_AX_LOG_SOFTMAX)
            for (ptrdiff_t j = 0; j < J; j++) yr[j] = LOG_SOFTMAX(xr[j], ms[j], lg[j]);
        else if (op == ACT_AX_SOFTMAX_GRAD) {
            const T *dr = x2 + l * inner;
            if (narrow)
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = SOFTMAX_GRAD(xr[j], dr[j], s[j]);
            else
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = SOFTMAX_GRAD_WIDE(xr[j], dr[j], s[j]);
        }
        else {
            const T *dr = x2 + l * inner;
            if (narrow)
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = LSM_GRAD(dr[j], xr[j], s[j]);
            else
                for (ptrdiff_t j = 0; j < J; j++) yr[j] = LSM_GRAD_WIDE(dr[j], xr[j], s[j]);
        }
    }
}

/* ---------------------------------------------------------------- softmax-family driver */
/* One row o of a contiguous-axis call: pass A over its blocks, their combination, pass B right
 * after (a row under ~256 KB is read from memory once and re-read from cache).  nts: pass B's
 * streaming stores (F(run_b)). */
static void F(sm_row)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                      ptrdiff_t L, ptrdiff_t nb, ptrdiff_t o, double *mb, double *sb, double *cb,
                      double *kb, ax_stats *st, int nts)
{
    const int reduce_only = op == ACT_AX_LOGSUMEXP;
    const T *xr = x + o * L, *x2r = x2 ? x2 + o * L : NULL;
    const unsigned char *mr = mk ? mk + o * L : NULL;
    for (ptrdiff_t b = 0; b < nb; b++) {
        ptrdiff_t lo = b * AX_B, n = L - lo < AX_B ? L - lo : AX_B;
        F(blk_a)(op, xr + lo, x2r ? x2r + lo : NULL, mr ? mr + lo : NULL,
                 reduce_only ? NULL : y + o * L + lo, n, mb + o * nb + b, sb + o * nb + b,
                 cb + o * nb + b, kb + o * nb + b);
    }
    ax_combine(op, mb + o * nb, sb + o * nb, cb + o * nb, kb + o * nb, nb, &st[o]);
    if (!reduce_only)
        for (ptrdiff_t b = 0; b < nb; b++) {
            ptrdiff_t lo = b * AX_B, n = L - lo < AX_B ? L - lo : AX_B;
            F(run_b)(op, xr + lo, x2r ? x2r + lo : NULL, mr ? mr + lo : NULL, y + o * L + lo,
                     n, &st[o], kb[o * nb + b], nts);
        }
}

/* Rows of one block (L <= AX_B, inner == 1; softmax, log_softmax, logsumexp), AX_RG at a
 * time: each row's pass A, then the rows' combines in one loop that vectorises across them
 * (ax_combine1, which sm_row's ax_combine runs for a one-block row as well: the same bits),
 * then each row's pass B.  Row by row, log_softmax's combine (an act_exp and an act_log1p in
 * double, scalar) was a third of a 1024 x 100 call (perf). */
static void F(sm_rows1)(int op, const T *x, const unsigned char *mk, T *y, ptrdiff_t L,
                        ptrdiff_t o0, ax_stats *st, int nts, int snt)
{
    double m[AX_RG], s[AX_RG], c[AX_RG], k[AX_RG];
    double ms[AX_RG], sum[AX_RG], r[AX_RG], lg[AX_RG], lse[AX_RG];
    const int reduce_only = op == ACT_AX_LOGSUMEXP;
    /* snt (float32 softmax far beyond the caches): pass A's terms go to this L1 buffer instead
     * of y, pass B rescales them there, and the group's rows, contiguous in y, go out by
     * streaming stores at once (no read for ownership of y; the same arithmetic).  32 KB of
     * stack for float32; float64 never stages (AX_STORE_E 0) */
    T eb[AX_STORE_E ? AX_RG * AX_B : 1];
    for (int g = 0; g < AX_RG; g++) {
        ptrdiff_t off = (o0 + g) * L;
        F(blk_a)(op, x + off, NULL, mk ? mk + off : NULL,
                 reduce_only ? NULL : (snt ? eb + g * L : y + off), L, &m[g], &s[g], &c[g],
                 &k[g]);
    }
    ax_combine1_n(op, AX_RG, m, s, c, k, ms, sum, r, lg, lse);
    for (int g = 0; g < AX_RG; g++) {
        ptrdiff_t off = (o0 + g) * L;
        ax_stats *o = &st[o0 + g];
        o->ms = ms[g], o->s = sum[g], o->r = r[g], o->lg = lg[g], o->lse = lse[g];
        if (snt)
            F(run_b1)(op, x + off, NULL, mk ? mk + off : NULL, eb + g * L, L, o, k[g]);
        else if (!reduce_only)
            F(run_b)(op, x + off, NULL, mk ? mk + off : NULL, y + off, L, o, k[g], nts);
    }
    if (snt) act_nt_copy(y + o0 * L, eb, sizeof(T) * AX_RG * (size_t)L);
}

#if AX_KSHIFT
/* float32 softmax and log_softmax of rows of L <= AX_SL elements (classifier logits), AX_SG
 * rows at a time, vectorised across the rows: the general path spent ~75-120 ns per such row
 * in fixed costs (the row max's reduction, the lanes, the combine, pass B's factor: a
 * 2^20 x 16 softmax took 4-9x PyTorch's and ONNX Runtime's time, bench/results/axis.md).
 * Each row gets exactly the general path's arithmetic for a one-block row with the K ln2
 * shift: the same terms (ax_exp_k_f), term j added into lane j % AX_K in order of j (0.0 +
 * the first), the same pairwise tree (ax_lanes_tree); softmax: S = s with factor 1
 * (ax_combine1 with the K shift), the same split of 1/S (ax_block_scale, never split here: S
 * lies in [2^-1/2, 64 * 2^1/2]) and products (ax_scale_hl); log_softmax: the max terms
 * counted, S = C + s g with g = e^(K ln2 - M) and log1p((C - 1) + s g) (ax_combine1 for a
 * top block), then ax_lsm_f.  So the same bits, which tests/test_axis.py checks against the
 * general path (test_row_kernels_match_the_column_kernel).  A row whose max is outside the
 * K shift's range or whose S is NaN (a NaN or +inf in it) is redone by the general path. */
enum { AX_SG = 16 };
static void F(sm_short)(int op, const T *x, T *y, ptrdiff_t L, double *mb, double *sb,
                        double *cb, double *kb, ax_stats *st, ax_pipe *pp, T *stage)
{
    const int nts = pp != NULL;
    T xt[AX_SL][AX_SG], et[AX_SL][AX_SG], mt[AX_SG], klo[AX_SG], h[AX_SG], l[AX_SG];
    uint32_t kadj[AX_SG];
    int bad[AX_SG], ones[AX_SG];
    double acc[AX_K][AX_SG], kd[AX_SG];
    const int lsm = op == ACT_AX_LOG_SOFTMAX;
    /* et (8 KB) is also the staging buffer of the transpose in (the rows read in order):
     * with it and the output's stage in buffers of the kernel's own, its stack took 32 KB,
     * all of L1, at rows of 128 (8192 x 128 softmax in cache, 2 threads: 0.342 -> 0.304 ms
     * with et shared by both; the output's stage is now the thread's, across groups) */
    ax_tr_in(x, L, xt, L, nts, &et[0][0]);
    for (int g = 0; g < AX_SG; g++) mt[g] = -INFINITY, ones[g] = 0;
    for (ptrdiff_t j = 0; j < L; j++)
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) mt[g] = xt[j][g] > mt[g] ? xt[j][g] : mt[g];
#pragma omp simd
    for (int g = 0; g < AX_SG; g++) {
        bad[g] = !ax_kshift_ok(mt[g]);
        int32_t K = bad[g] ? 0 : ax_kshift_k(mt[g]);
        kd[g] = (double)K;
        klo[g] = mt[g] - 120.0f;
        kadj[g] = (uint32_t)(127 + 64 - K) << 23;
    }
    for (ptrdiff_t j = 0; j < L; j++) {
        /* the next group's rows (L lines), line j in step j: the transpose reads 16 rows a
         * vector at a time, a pattern the hardware prefetcher did not follow.  All L issued
         * before the transpose (as before) overflowed the outstanding-miss slots while the
         * exp loop left the memory idle: 131072 x 100 softmax from memory 7.1 -> 5.2 ms (2
         * threads, one process; 262144 x 40 4.33 -> 3.98) */
        AX_PREFETCH_AT(x + AX_SG * L + j * (64 / (ptrdiff_t)sizeof(T)));
        if (pp) ax_pipe_step(pp); /* the previous group's line j (see the end) */
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) {
            T v = xt[j][g], e = ax_exp_k_f(v, klo[g], kadj[g]);
            int one = lsm && v == mt[g]; /* blk_a's count (AX_ONE_K), log_softmax only */
            ones[g] += one;
            et[j][g] = one ? (T)0 : e;
        }
    }
    for (int k = 0; k < AX_K; k++)
        for (int g = 0; g < AX_SG; g++) acc[k][g] = 0.0;
    for (ptrdiff_t j = 0; j < L; j++)
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) acc[j % AX_K][g] += (double)et[j][g];
    /* ax_lanes_tree, lane by lane across the rows */
    for (int k = 0; k < AX_K / 2; k++)
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) acc[k][g] = acc[k][g] + acc[k + AX_K / 2][g];
    for (int w = AX_K / 4; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
#pragma omp simd
            for (int g = 0; g < AX_SG; g++) acc[k][g] += acc[k + w][g];
    if (lsm) {
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) {
            double s = acc[0][g] * AX_ESCALE, Ms = (double)mt[g] + 0.0;
            double gk = act_exp((kd[g] * ACT__D_LN2HI - Ms) + kd[g] * ACT__D_LN2LO);
            double C = 0.0 + (double)ones[g], R = s * gk + 0.0, S = C + R;
            bad[g] |= S != S;
            h[g] = (T)Ms; /* the shift and log S, as run_b rounds them */
            l[g] = (T)act_log1p((C - 1.0) + R);
        }
        for (ptrdiff_t j = 0; j < L; j++)
#pragma omp simd
            for (int g = 0; g < AX_SG; g++) xt[j][g] = ax_lsm_f(xt[j][g], h[g], l[g]);
    }
    else {
#pragma omp simd
        for (int g = 0; g < AX_SG; g++) {
            double S = acc[0][g] * AX_ESCALE, ce = (1.0 / S) * AX_ESCALE;
            bad[g] |= S != S;
            h[g] = (T)ce;
            l[g] = (T)(ce - (double)h[g]);
        }
        for (ptrdiff_t j = 0; j < L; j++)
#pragma omp simd
            for (int g = 0; g < AX_SG; g++) xt[j][g] = ax_scale_hl(et[j][g], h[g], l[g]);
    }
    /* the rows the general path redoes first: in place (y = x) the good rows' stores would
     * overwrite their x */
    int good[AX_SG];
    for (int g = 0; g < AX_SG; g++) {
        good[g] = !bad[g];
        if (bad[g])
            F(sm_row)(op, x + g * L, NULL, NULL, y + g * L, L, 1, 0, mb, sb, cb, kb, st, 0);
    }
    /* Streamed (pp): the 16 rows, contiguous in y, are staged in order and go out by
     * streaming stores, a line per step of the next group's exp loop (ax_pipe; the thread's
     * last group at the end of its tasks).  Stored straight from the tiles, a vector to each
     * of 16 rows in turn, every store missed and waited for its line (65536 x 64 float32
     * softmax, one thread, out of place: 6.0 ms, in place 3.5; staged and streamed at once,
     * 3.8); streamed at once, the burst held up the next group (2 threads, one process:
     * 131072 x 100 softmax 4.94 -> 4.72 ms, log_softmax 5.29 -> 4.99, 65536 x 64 1.57 ->
     * 1.45).  stage: the thread's 16 x AX_SL buffer, kept from one group to the next. */
    if (pp) {
        ax_pipe_flush(pp); /* stage is about to be reused */
        int all = 1;
        for (int g = 0; g < AX_SG; g++) all &= good[g];
        if (all) {
            ax_tr_out(xt, stage, L, L, good);
            ax_pipe_start(pp, y, stage, sizeof(T) * AX_SG * (size_t)L);
            return;
        }
    }
    ax_tr_out(xt, y, L, L, good);
}
#endif

/* A task set of AX_J adjacent columns of one outer slab each (inner > 1), vectorised across
 * them; a worksharing loop, run by the team of the enclosing parallel region, or serially when
 * called outside one.  1 when out of memory. */
static int F(sm_cols)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                      ptrdiff_t outer, ptrdiff_t L, ptrdiff_t inner)
{
    const ptrdiff_t nb = (L + AX_B - 1) / AX_B;
    const int reduce_only = op == ACT_AX_LOGSUMEXP;
    /* Task boundaries on y's cache lines where every row of y shares one alignment (a row of
     * whole lines): the first task of a slab takes the a columns before y's first line
     * boundary and AX_J - EL more, the others AX_J from a line boundary.  Otherwise (NumPy's
     * large arrays start 16 bytes into a page) each task's piece of a row began and ended
     * in a line shared with its neighbour's, and streamed (nts below) those two lines of 17
     * still took plain stores that missed: 21% of a 16 x 21 x 128 x 128 log_softmax along
     * axis 1 on one store (perf).  The columns' arithmetic does not depend on the grouping. */
    enum { EL = 64 / sizeof(T) };
    const ptrdiff_t a = (inner * (ptrdiff_t)sizeof(T)) % 64 == 0
                            ? (ptrdiff_t)(((-(uintptr_t)y) & 63) / sizeof(T)) : 0;
    const ptrdiff_t J0 = a ? a + AX_J - EL : AX_J; /* <= AX_J */
    const ptrdiff_t ncb = inner <= J0 ? 1 : 1 + (inner - J0 + AX_J - 1) / AX_J;
    const ptrdiff_t ntask = outer * ncb;
    double *mb = (double *)malloc(sizeof(double) * 4 * (size_t)(nb * AX_J + 1));
    ax_stats st[AX_J];
    /* log_softmax's pass B is the first touch of y, a light loop over lines that all miss:
     * far beyond the caches its rows go out by streaming stores (no read for ownership).
     * With the line-aligned tasks above, one thread / two, against neither: 4096^2 along
     * axis 0 33.4 / 16.8 -> 24.8 / 12.5 ms, 16 x 21 x 128 x 128 along axis 1 8.76 / 4.05 ->
     * 7.51 / 3.76 (bench/results/ab_2026-12-05d.md).  softmax's pass B rescales the terms
     * pass A left in y, in cache by then: not streamed. */
    const int nts = op == ACT_AX_LOG_SOFTMAX &&
                    (size_t)(outer * L * inner) * sizeof(T) >= ACT_NT_BYTES;
#pragma omp for schedule(static)
    for (ptrdiff_t t = 0; t < ntask; t++) {
        if (!mb) continue;
        double *sb = mb + nb * AX_J, *cb = sb + nb * AX_J, *kb = cb + nb * AX_J;
        ptrdiff_t o = t / ncb, c = t % ncb, j0 = c ? J0 + (c - 1) * AX_J : 0;
        ptrdiff_t w = c ? AX_J : J0, J = inner - j0 < w ? inner - j0 : w;
        ptrdiff_t base = o * L * inner + j0;
        for (ptrdiff_t b = 0; b < nb; b++) {
            ptrdiff_t lo = b * AX_B, n = L - lo < AX_B ? L - lo : AX_B;
            ptrdiff_t off = base + lo * inner;
            F(col_a)(op, x + off, x2 ? x2 + off : NULL, mk ? mk + off : NULL,
                     reduce_only ? NULL : y + off, inner, n, J, mb + b * AX_J, sb + b * AX_J,
                     cb + b * AX_J, kb + b * AX_J);
        }
        if (nb == 1 && op < ACT_AX_SOFTMAX_GRAD) {
            /* one block per column: ax_combine1 (what ax_combine_strided calls for it),
             * vectorised across the columns as F(sm_rows1) does across rows.  Column by
             * column its exp and log1p in double, scalar, were ~150 cycles per column (16 x
             * 21 x 128 x 128 softmax along axis 1 took twice PyTorch's time) */
            double o1[AX_J], o2[AX_J], o3[AX_J], o4[AX_J], o5[AX_J];
            ax_combine1_n(op, J, mb, sb, cb, kb, o1, o2, o3, o4, o5);
            for (ptrdiff_t j = 0; j < J; j++)
                st[j].ms = o1[j], st[j].s = o2[j], st[j].r = o3[j], st[j].lg = o4[j],
                st[j].lse = o5[j];
        }
        else
            for (ptrdiff_t j = 0; j < J; j++)
                ax_combine_strided(op, mb + j, sb + j, cb + j, kb + j, nb, AX_J, &st[j]);
        if (reduce_only)
            for (ptrdiff_t j = 0; j < J; j++)
                y[o * inner + j0 + j] = AX_LSE_OUT(&st[j], x + base + j, L, inner);
        else
            F(col_b)(op, x + base, x2 ? x2 + base : NULL, mk ? mk + base : NULL, y + base,
                     inner, L, J, st, kb, nts);
    }
    if (nts) act_nt_fence();
    free(mb);
    return !mb;
}

/* Every driver below enters an OpenMP region only for nt > 1: libgomp builds a team even for
 * one thread (a memalign, a free and a futex call per region: with the GIL round trip and the
 * FP flags, ~40% of a (1, 1) softmax call, perf). */
static int F(softmax)(int op, const T *x, const T *x2, const unsigned char *mk, T *y,
                       ptrdiff_t outer, ptrdiff_t L, ptrdiff_t inner)
{
    const ptrdiff_t nb = (L + AX_B - 1) / AX_B;
    const int reduce_only = op == ACT_AX_LOGSUMEXP;
    int nt = act_threads_for(outer * L * inner * AX_COST_SOFTMAX);
#if AX_KSHIFT
    if (inner == 1 && (op == ACT_AX_SOFTMAX || op == ACT_AX_LOG_SOFTMAX) && !mk && L <= AX_SL &&
        outer >= AX_SG) {
        /* short rows, AX_SG at a time (F(sm_short)); the last outer % AX_SG by sm_row */
        const ptrdiff_t ng = outer / AX_SG;
        const int ntg = ng < nt ? (int)ng : nt;
        /* streamed (ax_tr_out) beyond ACT_NT_BYTES, for rows over one cache line: 16 rows of
         * <= 16 floats are stored line after line already, and the buffer's extra copy made
         * them slower (2 threads, one process: 2^20 x 16 7.3 -> 8.1 ms, 2^20 x 8 5.1 -> 5.7;
         * 2^19 x 32 9.9 -> 6.9, 2^16 x 64 2.5 -> 1.6) */
        const int nts = L > 16 && (size_t)(outer * L) * sizeof(T) >= ACT_NT_BYTES;
#define AX_SHORT_BEGIN                                                                         \
    T ax_stage_[AX_SG * AX_SL];                                                              \
    ax_pipe ax_pp_ = {NULL, NULL, 0, 0};
#define AX_SHORT_GROUP(q)                                                                      \
    {                                                                                          \
        double m4[4];                                                                          \
        ax_stats s1;                                                                           \
        F(sm_short)(op, x + (q) * AX_SG * L, y + (q) * AX_SG * L, L, m4, m4 + 1, m4 + 2,       \
                    m4 + 3, &s1, nts ? &ax_pp_ : NULL, ax_stage_);                             \
    }
#define AX_SHORT_END                                                                           \
    if (nts) {                                                                                 \
        ax_pipe_flush(&ax_pp_);                                                                \
        act_nt_fence();                                                                           \
    }
        AX_FOR_TASKS_IN(ntg, ng, AX_SHORT_BEGIN, AX_SHORT_GROUP, AX_SHORT_END);
#undef AX_SHORT_BEGIN
#undef AX_SHORT_GROUP
#undef AX_SHORT_END
        for (ptrdiff_t o = ng * AX_SG; o < outer; o++) {
            double m4[4];
            ax_stats s1;
            F(sm_row)(op, x + o * L, NULL, NULL, y + o * L, L, 1, 0, m4, m4 + 1, m4 + 2, m4 + 3,
                      &s1, 0);
        }
        return 0;
    }
#endif
    if (inner == 1) {
        /* Few long rows: every (row, block) pair is a task, so one row of 2^22 uses all
         * threads; the per-block results are combined in block order afterwards. */
        int split = nt > 1 && outer < 4 * nt && nb > 1;
        /* small calls use the stack: malloc and free were ~10% of a (1, 1000) softmax (perf) */
        enum { AX_SMALL = 16 };
        double mb_small[4 * AX_SMALL + 1];
        ax_stats st_small[AX_SMALL];
        int small = outer * nb <= AX_SMALL && outer <= AX_SMALL;
        double *mb = small ? mb_small
                           : (double *)malloc(sizeof(double) * 4 * (size_t)(outer * nb + 1));
        ax_stats *st = small ? st_small
                             : (ax_stats *)malloc(sizeof(ax_stats) * (size_t)(outer + 1));
        if (!mb || !st) {
            if (!small) free(mb), free(st);
            return -1;
        }
        double *sb = mb + outer * nb, *cb = sb + outer * nb, *kb = cb + outer * nb;
        /* outputs far beyond the caches go out through streaming stores (ACT_NT_BYTES), except
         * float32 softmax's, whose pass B rescales pass A's terms in y.  With the terms kept
         * in a per-thread scratch row instead, 2^24 elements on 2 threads, one process: rows
         * of 4096 1-5% faster (4.60 -> 4.38, 4.76 -> 4.60 ms), rows of 1024 3% faster in one
         * run and 10-13% slower in two, longer rows slower (16384: 4.65 -> 4.83, 65536: 4.17
         * -> 4.85, 262144: 3.96 -> 4.23) */
        /* and only for rows of whole blocks or of one block of 128 or more: log_softmax on 2
         * threads, one process, against plain stores, streaming was 9-25% faster for rows of
         * 200, 512, 1000, 1024, 2048, 4096 and 8192, even at 128 and 262144, but slower for
         * rows of 100 (6.8 -> 8.8 ms at 131072 x 100: the per-row cost of the chunked copy) and
         * for rows of several blocks ending in a partial one (2000: 5.1 -> 5.5, 3000: 5.3 ->
         * 5.6; not understood).  Nor for one-block rows whose length in bytes is an odd
         * multiple of 16 (their starts cycle through 16-byte offsets in a line) below 2400
         * bytes: log_softmax, 2 threads, one process, streamed against plain, 65536 x 260
         * 7.56 against 6.83 ms, x 268 7.99 / 6.80, x 300 8.66 / 7.72, x 500 11.53 / 11.35;
         * but 32768 x 1020 10.31 / 11.07 and rows of an even multiple (264, 296, 1000) gain
         * from streaming as the others do (not understood either) */
        const int nts = !reduce_only && !(op == ACT_AX_SOFTMAX && AX_STORE_E) &&
                        (L % AX_B == 0 ||
                         (L <= AX_B && L >= 128 &&
                          ((L * sizeof(T)) % 32 == 0 || L * sizeof(T) >= 2400))) &&
                        (size_t)(outer * L) * sizeof(T) >= ACT_NT_BYTES;
        const int snt = op == ACT_AX_SOFTMAX && AX_STORE_E && L >= AX_SNT_MIN && L <= AX_B &&
                        (size_t)(outer * L) * sizeof(T) >= ACT_NT_BYTES;
        if (split) {
            ptrdiff_t ntask = outer * nb;
#pragma omp parallel num_threads(nt)
            {
#pragma omp for schedule(static)
                for (ptrdiff_t t = 0; t < ntask; t++) {
                    ptrdiff_t o = t / nb, b = t % nb, lo = b * AX_B;
                    ptrdiff_t n = L - lo < AX_B ? L - lo : AX_B;
                    ptrdiff_t off = o * L + lo;
                    F(blk_a)(op, x + off, x2 ? x2 + off : NULL, mk ? mk + off : NULL,
                             reduce_only ? NULL : y + off, n, mb + t, sb + t, cb + t, kb + t);
                }
#pragma omp for schedule(static)
                for (ptrdiff_t o = 0; o < outer; o++)
                    ax_combine(op, mb + o * nb, sb + o * nb, cb + o * nb, kb + o * nb, nb,
                               &st[o]);
                if (!reduce_only) {
#pragma omp for schedule(static)
                    for (ptrdiff_t t = 0; t < ntask; t++) {
                        ptrdiff_t o = t / nb, b = t % nb, lo = b * AX_B;
                        ptrdiff_t n = L - lo < AX_B ? L - lo : AX_B;
                        ptrdiff_t off = o * L + lo;
                        F(run_b)(op, x + off, x2 ? x2 + off : NULL, mk ? mk + off : NULL,
                                 y + off, n, &st[o], kb[t], nts);
                    }
                    if (nts) act_nt_fence();
                }
            }
        }
        else {
            /* one-block forward rows AX_RG at a time (sm_rows1), the rest one by one: task q
             * < ng is rows [q AX_RG, (q + 1) AX_RG), the others one row each */
            const ptrdiff_t ng = nb == 1 && op <= ACT_AX_LOGSUMEXP ? outer / AX_RG : 0;
            const ptrdiff_t ntask = ng + (outer - ng * AX_RG);
#define AX_ROW_TASK(q)                                                                         \
    {                                                                                          \
        if ((q) < ng)                                                                          \
            F(sm_rows1)(op, x, mk, y, L, (q) * AX_RG, st, nts, snt);                           \
        else                                                                                   \
            F(sm_row)(op, x, x2, mk, y, L, nb, ng * AX_RG + (q) - ng, mb, sb, cb, kb, st,      \
                      nts);                                                                    \
    }
#define AX_ROW_END                                                                             \
    if (nts || snt) act_nt_fence();
            AX_FOR_TASKS_IN(nt, ntask, , AX_ROW_TASK, AX_ROW_END);
#undef AX_ROW_TASK
#undef AX_ROW_END
        }
        if (reduce_only) {
            /* float64 rows where M + log S cancels are redone in triple-double (AX_LSE_OUT,
             * 6-8x a row's time), on the team when any is: every row of normalised
             * log-probabilities does */
            int redo = 0;
            for (ptrdiff_t o = 0; o < outer; o++) redo |= AX_LSE_CANCELS(&st[o]);
            if (redo && nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
                for (ptrdiff_t o = 0; o < outer; o++) y[o] = AX_LSE_OUT(&st[o], x + o * L, L, 1);
            }
            else
                for (ptrdiff_t o = 0; o < outer; o++) y[o] = AX_LSE_OUT(&st[o], x + o * L, L, 1);
        }
        if (!small) free(mb), free(st);
        return 0;
    }
    /* inner > 1: a task is AX_J adjacent columns of one outer slab, vectorised across them */
    const ptrdiff_t ntask = outer * ((inner + AX_J - 1) / AX_J);
    if (ntask < nt) nt = (int)ntask;
    int fail = 0;
    if (nt > 1) {
#pragma omp parallel num_threads(nt) reduction(| : fail)
        fail |= F(sm_cols)(op, x, x2, mk, y, outer, L, inner);
    }
    else
        fail = F(sm_cols)(op, x, x2, mk, y, outer, L, inner);
    return fail ? -1 : 0;
}

/* ---------------------------------------------------------------- GLU family */
AX_FLAT static void F(glu_seg)(int op, const T *a, const T *b, T *y, ptrdiff_t n)
{
    /* the activation's product with the other half formed before its last scaling where the
     * activation alone would be subnormal (formulas: mulsig, silu_mul, gelu_mul).  swiglu and
     * geglu give the bits of act(a) * b elsewhere; glu is a / (1 + e^-|b|) (or
     * a e^-|b| / (...)), one rounding fewer than a * sigmoid(b), for every b */
    switch (op) {
    case ACT_GLU:
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FORM(mulsig, fwd)(a[i], b[i], (T)1);
        break;
    case ACT_SWIGLU:
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FORM(silu, mul)(a[i], b[i]);
        break;
    case ACT_GEGLU:
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FORM(gelu, mul)(a[i], b[i]);
        break;
    case ACT_GEGLU_TANH:
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FORM(gelu_tanh, mul)(a[i], b[i]);
        break;
    default: /* ACT_REGLU */
        for (ptrdiff_t i = 0; i < n; i++) y[i] = FORM(relu, fwd)(a[i], 0, 0) * b[i];
        break;
    }
}

/* da = dy * df/da, db = dy * df/db; the _grad formulas take the upstream factor first */
AX_FLAT static void F(glu_grad_seg)(int op, const T *dy, const T *a, const T *b, T *da, T *db,
                            ptrdiff_t n)
{
    switch (op) {
    /* dy times an activation value: formed before the activation's last scaling, as in
     * glu_seg (dy s(b) is glu's forward with dy for a; dy act(a) the others' with dy for b) */
    case ACT_GLU: /* a s(b): da = dy s(b), db = (dy a) s'(b) */
        for (ptrdiff_t i = 0; i < n; i++) {
            T g = dy[i], av = a[i], bv = b[i];
            da[i] = FORM(mulsig, fwd)(g, bv, (T)1);
            db[i] = FORM(sigmoid, grad)(g * av, bv, 0, 0);
        }
        break;
    case ACT_SWIGLU:
        for (ptrdiff_t i = 0; i < n; i++) {
            T g = dy[i], av = a[i], bv = b[i];
            da[i] = FORM(silu, grad)(g * bv, av, 0, 0);
            db[i] = FORM(silu, mul)(av, g);
        }
        break;
    case ACT_GEGLU:
        for (ptrdiff_t i = 0; i < n; i++) {
            T g = dy[i], av = a[i], bv = b[i];
            da[i] = FORM(gelu, grad)(g * bv, av, 0, 0);
            db[i] = FORM(gelu, mul)(av, g);
        }
        break;
    case ACT_GEGLU_TANH:
        for (ptrdiff_t i = 0; i < n; i++) {
            T g = dy[i], av = a[i], bv = b[i];
            da[i] = FORM(gelu_tanh, grad)(g * bv, av, 0, 0);
            db[i] = FORM(gelu_tanh, mul)(av, g);
        }
        break;
    default:
        for (ptrdiff_t i = 0; i < n; i++) {
            T g = dy[i], av = a[i], bv = b[i];
            da[i] = FORM(relu, grad)(g * bv, av, 0, 0);
            db[i] = g * FORM(relu, fwd)(av, 0, 0);
        }
        break;
    }
}

/* The flat range [0, outer*n) is cut into per-thread chunks of whole 64-element runs (rows
 * are walked piecewise), so a single long pair of halves is split as well as many short. */
/* this thread's share of F(glu): the whole range outside a parallel region */
static void F(glu_part)(int op, const T *a, const T *b, ptrdiff_t istride, T *y, const T *dy,
                        T *da, T *db, ptrdiff_t ostride, ptrdiff_t outer, ptrdiff_t n)
{
    ptrdiff_t total = outer * n, lo = 0, hi = total;
#ifdef _OPENMP
    ptrdiff_t T_ = omp_get_num_threads(), t = omp_get_thread_num();
    ptrdiff_t chunk = ((total + T_ - 1) / T_ + 63) & ~(ptrdiff_t)63;
    lo = t * chunk < total ? t * chunk : total;
    hi = lo + chunk < total ? lo + chunk : total;
#endif
    while (lo < hi) {
        ptrdiff_t o = lo / n, i = lo % n, m = n - i < hi - lo ? n - i : hi - lo;
        const T *ar = a + o * istride + i, *br = b + o * istride + i;
        if (dy)
            F(glu_grad_seg)(op, dy + o * n + i, ar, br, da + o * ostride + i,
                            db + o * ostride + i, m);
        else
            F(glu_seg)(op, ar, br, y + o * n + i, m);
        lo += m;
    }
}
static void F(glu)(int op, const T *a, const T *b, ptrdiff_t istride, T *y, const T *dy,
                   T *da, T *db, ptrdiff_t ostride, ptrdiff_t outer, ptrdiff_t n)
{
    int nt = act_threads_for(outer * n * AX_COST_GLU);
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        F(glu_part)(op, a, b, istride, y, dy, da, db, ostride, outer, n);
    }
    else
        F(glu_part)(op, a, b, istride, y, dy, da, db, ostride, outer, n);
}

/* ---------------------------------------------------------------- maxout
 * max over each group of `pool` consecutive channels; the first maximum wins ties, and a NaN
 * anywhere in a group wins (the first NaN): take v when v > best, or v is NaN and best not. */
#define AX_TAKE(v, best) ((v) > (best) || ((v) != (v) && (best) == (best)))
/* groups [q0, q1) of a contiguous-channel maxout (inner == 1).  One loop over the groups,
 * with the pool's loop inside it of a constant length for pools of 2, 3, 4 and 8, so that gcc
 * vectorises across groups (the pool's elements as strided loads it deinterleaves; it does
 * not for 5, 6 or 7).  A call per group with the pool's loop of a variable length had left
 * all of it scalar: 256 x 4096, one thread, same bits, float32 maxout 3.0-3.9 -> 0.12-0.25
 * ns/element, maxout_grad 3.3-4.1 -> 0.27-0.60; float64 3.1-4.6 -> 0.27-0.62 and 4.0-4.8 ->
 * 0.6-2.7. */
#define AX_MAXOUT_RUN(POOL, BT)                                                                \
    if (dx) { /* each group's arg-max into bis (BT: T for the constant pools, as int lanes  \
               * next to double ones stay scalar), then zeros, then dy at each arg-max: the   \
               * values of a select per element, which stayed scalar for pools of 4 and 8     \
               * (strided stores) */                                                          \
        for (ptrdiff_t b0 = q0; b0 < q1; b0 += AX_MQ) {                                        \
            const ptrdiff_t b1 = q1 - b0 < AX_MQ ? q1 : b0 + AX_MQ;                            \
            BT bis[AX_MQ];                                                                     \
            for (ptrdiff_t q = b0; q < b1; q++) {                                              \
                const T *xg = x + q * (POOL);                                                  \
                T best = xg[0];                                                                \
                BT bi = 0;                                                                     \
                for (int p = 1; p < (POOL); p++) {                                             \
                    int take = AX_TAKE(xg[p], best);                                           \
                    best = take ? xg[p] : best;                                                \
                    bi = take ? (BT)p : bi;                                                    \
                }                                                                              \
                bis[q - b0] = bi;                                                              \
            }                                                                                  \
            for (ptrdiff_t i = b0 * (POOL); i < b1 * (POOL); i++) dx[i] = (T)0;                \
            for (ptrdiff_t q = b0; q < b1; q++)                                                \
                dx[q * (POOL) + (ptrdiff_t)bis[q - b0]] = dy[q];                               \
        }                                                                                      \
    }                                                                                          \
    else                                                                                       \
        for (ptrdiff_t q = q0; q < q1; q++) {                                                  \
            const T *xg = x + q * (POOL);                                                      \
            T best = xg[0];                                                                    \
            for (int p = 1; p < (POOL); p++) best = AX_TAKE(xg[p], best) ? xg[p] : best;       \
            y[q] = best;                                                                       \
        }
static void F(maxout_q1)(const T *x, T *y, const T *dy, T *dx, ptrdiff_t pool, ptrdiff_t q0,
                         ptrdiff_t q1)
{
    enum { AX_MQ = 256 }; /* groups per arg-max buffer */
    switch (pool) {
    case 2: AX_MAXOUT_RUN(2, T) break;
    case 3: AX_MAXOUT_RUN(3, T) break;
    case 4: AX_MAXOUT_RUN(4, T) break;
    case 8: AX_MAXOUT_RUN(8, T) break;
    default: AX_MAXOUT_RUN(pool, ptrdiff_t) break; /* any pool: the index exact */
    }
}
#undef AX_MAXOUT_RUN
static inline void F(maxout_qn)(const T *x, T *y, const T *dy, T *dx, ptrdiff_t pool,
                                ptrdiff_t inner, ptrdiff_t q)
{
    T best[AX_J];
    int bi[AX_J];
    for (ptrdiff_t j0 = 0; j0 < inner; j0 += AX_J) {
        ptrdiff_t J = inner - j0 < AX_J ? inner - j0 : AX_J;
        const T *x0 = x + q * pool * inner + j0;
        for (ptrdiff_t j = 0; j < J; j++) best[j] = x0[j], bi[j] = 0;
        for (ptrdiff_t p = 1; p < pool; p++) {
            const T *xp = x0 + p * inner;
            for (ptrdiff_t j = 0; j < J; j++) {
                int take = AX_TAKE(xp[j], best[j]);
                best[j] = take ? xp[j] : best[j];
                bi[j] = take ? (int)p : bi[j];
            }
        }
        if (dx) {
            const T *g = dy + q * inner + j0;
            for (ptrdiff_t p = 0; p < pool; p++) {
                T *dp = dx + (q * pool + p) * inner + j0;
                for (ptrdiff_t j = 0; j < J; j++) dp[j] = bi[j] == p ? g[j] : (T)0;
            }
        }
        else
            for (ptrdiff_t j = 0; j < J; j++) y[q * inner + j0 + j] = best[j];
    }
}
static void F(maxout)(const T *x, T *y, const T *dy, T *dx, ptrdiff_t outer, ptrdiff_t G,
                      ptrdiff_t pool, ptrdiff_t inner)
{
    ptrdiff_t ng = outer * G;
    int nt = act_threads_for(ng * pool * inner);
    if (nt > 1 && inner == 1) {
        enum { QB = 4096 }; /* groups per task */
        const ptrdiff_t nq = (ng + QB - 1) / QB;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t t = 0; t < nq; t++)
            F(maxout_q1)(x, y, dy, dx, pool, t * QB, t * QB + QB < ng ? t * QB + QB : ng);
    }
    else if (inner == 1)
        F(maxout_q1)(x, y, dy, dx, pool, 0, ng);
    else if (nt > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (ptrdiff_t q = 0; q < ng; q++) F(maxout_qn)(x, y, dy, dx, pool, inner, q);
    }
    else
        for (ptrdiff_t q = 0; q < ng; q++) F(maxout_qn)(x, y, dy, dx, pool, inner, q);
}
#undef AX_TAKE
#undef F
#undef AXF
#undef AXF_
