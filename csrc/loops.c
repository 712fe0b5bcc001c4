/* The ufunc inner loop shared by every elementwise op, and the thread splitting.
 * Compiled once (baseline flags): it only picks a kernel from the dispatched table and
 * decides how to call it. */
#include "act.h"
#include "ntstore.h"
#include <fenv.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

const act_op_info act_ops[ACT_NOPS] = {
#define ACT_OP(name, np, gout, cost, stream) {#name, np, gout, cost},
#include "ops.def"
#undef ACT_OP
};

/* ops.def's stream column; writable so that bench/streaming.py can measure every kind both ways
 * (_core.stream_kinds) */
#define F (1 << ACT_FWD)
#define G (1 << ACT_GRAD)
#define O (1 << ACT_GOUT)
int act_stream_kinds[ACT_NOPS] = {
#define ACT_OP(name, np, gout, cost, stream) stream,
#include "ops.def"
#undef ACT_OP
};
#undef F
#undef G
#undef O

/* Below this much work (elements x the op's cost, relu = 1) a call runs on one thread: waking
 * the pool costs a few us on this 2-core machine, and a second thread broke even at n x cost
 * of 16K-25K for relu, sigmoid, tanh and gelu alike (bench/results/threads.md; relu 0.86x at
 * 16K, 1.16x at 32K).  ACTCORE_PARALLEL_MIN overrides it (read at import). */
ptrdiff_t act_parallel_min = 24576;

int act_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int act_get_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* fetestexcept before and a feclearexcept of what was raised, only when something was: glibc's
 * fegetexceptflag/fesetexceptflag pair rewrites the x87 environment on every call, 7% of a
 * (1, 1) softmax call (perf) */
#define ACT_FP_WATCH (FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW | FE_INVALID)
int act_fp_save(void) { return fetestexcept(ACT_FP_WATCH); }
void act_fp_restore(int saved)
{
    int raised = fetestexcept(ACT_FP_WATCH) & ~saved;
    if (raised) feclearexcept(raised);
}

void act_set_num_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n < 1 ? 1 : n);
#else
    (void)n;
#endif
}

int act_threads_for(ptrdiff_t work)
{
    if (work < act_parallel_min) return 1;
    int nt = act_get_num_threads();
    /* each thread gets at least half the threshold: no thread wakes for a sliver */
    ptrdiff_t most = work / (act_parallel_min / 2 > 0 ? act_parallel_min / 2 : 1);
    if (most < nt) nt = (int)most;
    return nt < 1 ? 1 : nt;
}

/* Streamed outputs (ntstore.h): 16 MiB and more by default.  Tests lower it through
 * _core.stream_min to compare the streamed bits with the direct ones on small arrays. */
size_t act_stream_min = ACT_NT_BYTES;
/* calls that streamed (racy when Python threads call in parallel: for tests, which do not) */
size_t act_stream_calls = 0;
/* 0: each eligible call streams or not as measured (act_stream_pick); 1: every eligible call
 * streams (tests, bench/streaming.py) */
int act_stream_always = 0;

/* Streaming or plain stores, chosen by measurement per op, kind and serial/threaded.  Whether
 * streaming pays is not a property of the kernel alone on this VM: its memory moves between
 * states in which streaming stores run 2x slower while plain ones run 1.35x slower (one thread,
 * relu, back-to-back calls: streamed 2.9 -> 6.0 ms, plain-store floor 3.8 -> 5.2), and the
 * cheap forwards that gained 15-25% in every targeted run lost 10-90% in two full benchmark
 * runs.  So each eligible call times itself (bytes of output per second); the faster method
 * so far is used, and every ACT_EXPLORE-th call tries the other, so a change of state is seen
 * within a few dozen calls at a cost of at most 1/ACT_EXPLORE of the slower method's excess.
 * Either way the bits are the same.  Races between Python threads only blur the estimates. */
#define ACT_EXPLORE 32
#define ACT_PICK_WIN 4
typedef struct {
    double s[2][ACT_PICK_WIN]; /* seconds per byte of the last calls: plain, streamed */
    unsigned nm[2];            /* calls measured of each */
    unsigned calls;
} act_pick_state;
/* one state per op, kind, serial/threaded and dtype: seconds per byte differ by dtype for the
 * same op (float64 gelu is ~15x the floor where float32 is ~1.5x), and a shared state let one
 * dtype's timings choose for the other */
static act_pick_state picks[ACT_NOPS][ACT_NKINDS][2][ACT_NDTYPES][2];

/* seconds: OpenMP's monotonic clock, else C11's (serial builds) */
static double act_now(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
}

/* In-place calls (y is an input) may stream too, through a pick state of their own: the
 * streamed kernels' prefetching chunks take the compute-bound forwards in place 0.32-0.76x the
 * time of the plain kernels (2^24 float32, 1 and 2 threads; softplus 22.9 -> 7.3 ms on one
 * thread), the cheap ones 0.92-1.06x (bench/results/ab_2026-12-05aa.md, whose "old" is this
 * file built with -DACT_STREAM_INPLACE=0, the rule before). */
#ifndef ACT_STREAM_INPLACE
#define ACT_STREAM_INPLACE 1
#endif
/* The pick state of a call that may stream (this target has streaming stores, ops.def marks the
 * kind, the output is act_stream_min bytes or more), else NULL.  nt: the call's threads;
 * inplace: y is an input itself, with a state of its own (a plain store in place costs no
 * read for ownership, so plain stores fare better there than for a separate y). */
static act_pick_state *act_stream_slot(int op, int kind, int nt, int dtype, size_t bytes,
                                       int inplace)
{
    if (!act_table->stream || !(act_stream_kinds[op] >> kind & 1) || bytes < act_stream_min ||
        (inplace && !ACT_STREAM_INPLACE))
        return NULL;
    return &picks[op][kind][nt > 1][dtype][inplace != 0];
}

/* A method's estimate: the least of its last ACT_PICK_WIN samples.  Other work only ever
 * adds to a call's time (a peer's threads still spinning after its call, other processes on
 * these 2 cores), so the least sample is the method's own speed, and a change of the memory's
 * state shows within ACT_PICK_WIN calls of the method in favour.  Moving averages let one
 * slowed call move the choice (2^24 float32, 2 threads): the 17:31 full run on 2026-12-05
 * timed step's forward at 4.58 ms, its plain stores' time, where it streams in 2.66
 * (bench/results/README.md as of ac47dc6; fwd_2p24_picker.md), and the 17:58 run, whose
 * exploring calls replaced the estimate, gelu's at 5.36 ms (full_rerun_1758.md), where a
 * direct check took 5.57 with plain stores and 4.12 streamed. */
static double act_pick_est(const act_pick_state *p, int m)
{
    unsigned n = p->nm[m] < ACT_PICK_WIN ? p->nm[m] : ACT_PICK_WIN;
    double e = p->s[m][0];
    for (unsigned k = 1; k < n; k++) e = p->s[m][k] < e ? p->s[m][k] : e;
    return e;
}

/* 1: stream this call (counted in act_stream_calls) */
static int act_stream_pick(act_pick_state *p)
{
    int on;
    if (act_stream_always)
        on = 1;
    else if (p->nm[0] < 2 || p->nm[1] < 2) /* two calls of each first, alternating */
        on = p->nm[1] <= p->nm[0];
    else {
        int best = act_pick_est(p, 1) <= act_pick_est(p, 0);
        on = ++p->calls % ACT_EXPLORE == 0 ? !best : best;
    }
    act_stream_calls += (size_t)on;
    return on;
}
static void act_stream_learn(act_pick_state *p, int streamed, double secs, size_t bytes)
{
    if (!(secs > 0)) return; /* a clock step (serial builds' clock is not monotonic) */
    p->s[streamed][p->nm[streamed]++ % ACT_PICK_WIN] = secs / (double)bytes;
}

/* Thread t's share [lo, hi) of n elements split T ways (lo >= hi: none).  Chunks are
 * multiples of 64 elements: whole cache lines of y where y starts on one (a line split between
 * threads is correct, each storing its part).  run() and act_prelu_channels split alike. */
static void act_thread_range(ptrdiff_t n, ptrdiff_t T, ptrdiff_t t, ptrdiff_t *lo,
                             ptrdiff_t *hi)
{
    ptrdiff_t chunk = ((n + T - 1) / T + 63) & ~(ptrdiff_t)63;
    *lo = t * chunk;
    *hi = *lo + chunk < n ? *lo + chunk : n;
}

/* f over [0, n) split into per-thread chunks; with stream (an act_stream_fn) each chunk's output
 * goes out through streaming stores (nin, nshift, isz as act_stream_fn takes them); fence: f
 * streams its stores itself (eltwise.c DEF_RANGE_NT), so each thread fences after it too */
static void run(act_range_fn f, ptrdiff_t n, int cost, const char *const *in, int pvec,
                char *out, act_stream_fn stream, int nin, int nshift, size_t isz, int fence)
{
    (void)cost; /* serial builds */
    fence = fence || stream;
#ifdef _OPENMP
    int nt = act_threads_for(n * (ptrdiff_t)cost);
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            ptrdiff_t lo, hi;
            act_thread_range(n, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
            if (lo < hi) {
                if (stream)
                    stream(f, lo, hi, in, nin, nshift, pvec, out, isz);
                else
                    f(lo, hi, in, pvec, out);
                if (fence) act_nt_fence();
            }
        }
        return;
    }
#endif
    if (stream)
        stream(f, 0, n, in, nin, nshift, pvec, out, isz);
    else
        f(0, n, in, pvec, out);
    if (fence) act_nt_fence();
}

void act_run(act_range_fn f, ptrdiff_t n, const char *const *in, int pvec, char *out)
{
    run(f, n, 1, in, pvec, out, NULL, 0, 0, 0, 0);
}

static const size_t itemsizes[ACT_NDTYPES] = {2, 4, 8, 2}; /* f16, f32, f64, bf16 */

/* Per-channel prelu, threaded over the whole array: NumPy's broadcast of w (C, 1, 1) hands the
 * ufunc loop one plane per call (NCHW: each below the threading threshold, so the call ran on
 * one thread) or one row of C elements (channels last: 64-element calls, 2.5x the copy floor at
 * 16x64x128x128 float32 on 2 threads).  Each thread takes a range of elements and cuts it into
 * segments: planes of >= ACT_PRELU_PLANE elements take the scalar slope w[c]; rows of L =
 * C*inner elements take a tile of the row's slopes (w[k / inner]), repeated to about
 * ACT_PRELU_TILE elements, as a parameter array; rows of one element per channel longer than
 * that take w itself; and rows over ACT_PRELU_TILE_MAX elements that are neither (a tile that
 * large would be a third stream from memory) go back to planes. */
#define ACT_PRELU_PLANE 512
#define ACT_PRELU_TILE 4096
#define ACT_PRELU_TILE_MAX 65536
int act_prelu_channels(int dtype, const char *x, const char *w, ptrdiff_t outer, ptrdiff_t C,
                       ptrdiff_t inner, char *y)
{
    const size_t isz = itemsizes[dtype];
    const ptrdiff_t n = outer * C * inner, L = C * inner;
    if (n <= 0) return 0;
    act_range_fn f = act_table->fn[ACT_OP_leaky_relu][ACT_FWD][dtype];
    const int planes = inner >= ACT_PRELU_PLANE || (inner > 1 && L > ACT_PRELU_TILE_MAX);
    const char *slopes = w; /* rows: the parameter array of one or more whole rows */
    char *tile = NULL;
    ptrdiff_t tl = L; /* its length */
    if (!planes && (inner > 1 || L <= ACT_PRELU_TILE)) {
        tl = L * (L < ACT_PRELU_TILE ? ACT_PRELU_TILE / L : 1);
        if (tl > n) tl = n; /* n is whole rows */
        tile = (char *)malloc((size_t)tl * isz);
        if (!tile) return -1;
        /* one row, then copies of it */
#define ACT_TILE_ROW(U)                                                                        \
    for (ptrdiff_t c = 0; c < C; c++)                                                          \
        for (ptrdiff_t j = 0; j < inner; j++) ((U *)tile)[c * inner + j] = ((const U *)w)[c];
        if (isz == 2)
            ACT_TILE_ROW(uint16_t)
        else if (isz == 4)
            ACT_TILE_ROW(uint32_t)
        else
            ACT_TILE_ROW(uint64_t)
#undef ACT_TILE_ROW
        for (ptrdiff_t k = L; k < tl; k += L) memcpy(tile + k * (ptrdiff_t)isz, tile, L * isz);
        slopes = tile;
    }
    int nt = act_threads_for(n * (ptrdiff_t)act_ops[ACT_OP_leaky_relu].cost);
    /* the ufunc's pick state (in place: its own, as in act_eltwise_loop) */
    act_pick_state *pk =
        act_stream_slot(ACT_OP_leaky_relu, ACT_FWD, nt, dtype, (size_t)n * isz, x == y);
    act_stream_fn stream = pk && act_stream_pick(pk) ? act_table->stream : NULL;
    double t0 = pk ? act_now() : 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
#ifdef _OPENMP
        ptrdiff_t T = omp_get_num_threads(), t = omp_get_thread_num();
#else
        ptrdiff_t T = 1, t = 0;
        (void)nt;
#endif
        ptrdiff_t lo, hi;
        act_thread_range(n, T, t, &lo, &hi);
        for (ptrdiff_t i = lo; i < hi;) {
            ptrdiff_t e;
            const char *in[2];
            int pvec;
            if (planes) { /* the rest of plane i / inner, slope w[c] */
                ptrdiff_t p = i / inner;
                e = (p + 1) * inner < hi ? (p + 1) * inner : hi;
                in[0] = x + i * (ptrdiff_t)isz;
                in[1] = w + (p % C) * (ptrdiff_t)isz;
                pvec = 0;
            }
            else { /* up to the slopes' end, from i's place in its row */
                ptrdiff_t q = i % L;
                e = i + (tl - q) < hi ? i + (tl - q) : hi;
                in[0] = x + i * (ptrdiff_t)isz;
                in[1] = slopes + q * (ptrdiff_t)isz;
                pvec = 1;
            }
            char *o = y + i * (ptrdiff_t)isz;
            if (stream)
                stream(f, 0, e - i, in, 2, 1 + pvec, pvec, o, isz);
            else
                f(0, e - i, in, pvec, o);
            i = e;
        }
        if (stream) act_nt_fence();
    }
    if (pk) act_stream_learn(pk, stream != NULL, act_now() - t0, (size_t)n * isz);
    free(tile);
    return 0;
}

/* Strided, broadcast or unaligned operands: gather blocks into aligned buffers, run the same
 * kernel (so the same bits as the contiguous case), scatter the result. */
#define ACT_SBLK 256
static void strided(act_range_fn f, ptrdiff_t n, char **args, const ptrdiff_t *steps, int nin,
                    int nx, size_t isz)
{
    double bufs[5][ACT_SBLK]; /* 8-byte aligned storage for up to 4 inputs + the output */
    const char *in[4];
    int pscalar = 1;
    for (int k = nx; k < nin; k++)
        if (steps[k] != 0) pscalar = 0;
    for (ptrdiff_t s = 0; s < n; s += ACT_SBLK) {
        ptrdiff_t m = n - s < ACT_SBLK ? n - s : ACT_SBLK;
        for (int k = 0; k < nin; k++) {
            char *dst = (char *)bufs[k];
            const char *src = args[k] + s * steps[k];
            ptrdiff_t cnt = (k >= nx && pscalar) ? 1 : m;
            for (ptrdiff_t j = 0; j < cnt; j++) memcpy(dst + j * isz, src + j * steps[k], isz);
            in[k] = dst;
        }
        f(0, m, in, !pscalar, (char *)bufs[4]);
        char *dst = args[nin] + s * steps[nin];
        for (ptrdiff_t j = 0; j < m; j++)
            memcpy(dst + j * steps[nin], (char *)bufs[4] + j * isz, isz);
    }
}

void act_eltwise_loop(char **args, const ptrdiff_t *dims, const ptrdiff_t *steps,
                      const act_loop_data *d)
{
    ptrdiff_t n = dims[0];
    if (n <= 0) return;
    int nx = d->kind == ACT_FWD ? 1 : 2;
    int nin = nx + act_ops[d->op].nparams;
    size_t isz = itemsizes[d->dtype];
    act_range_fn f = act_table->fn[d->op][d->kind][d->dtype];

    int contig = 1, pscalar = 1, pcontig = 1;
    for (int k = 0; k <= nin; k++) {
        if ((size_t)(uintptr_t)args[k] % isz) contig = 0;
        if (k < nx || k == nin) {
            if (steps[k] != (ptrdiff_t)isz) contig = 0;
        }
        else {
            if (steps[k] != 0) pscalar = 0;
            if (steps[k] != (ptrdiff_t)isz) pcontig = 0;
        }
    }
    int flags = act_fp_save(); /* see act.h */
    if (contig && (pscalar || pcontig)) {
        /* streamed beyond act_stream_min where that measures faster (act_stream_pick).  In
         * place (y is an input itself) too: its lines were just read, so streaming saves no
         * read there, but the streamed kernels' chunks prefetch their inputs (eltwise.c
         * ACT_NT_PF), which the compute-bound kinds need from memory.  A y that overlaps an
         * input otherwise (y = x shifted back: NumPy passes such calls unbuffered, counting
         * on one forward pass) runs serially and plainly below. */
        int nshift = pscalar ? nx : nin, cost = act_ops[d->op].cost, inplace = 0, partial = 0;
        uintptr_t y0 = (uintptr_t)args[nin], len = (uintptr_t)n * isz;
        for (int k = 0; k < nshift; k++) {
            if ((uintptr_t)args[k] == y0)
                inplace = 1;
            else if ((uintptr_t)args[k] < y0 + len && y0 < (uintptr_t)args[k] + len)
                partial = 1;
        }
        if (partial) {
            /* one forward pass: each y[i] is stored after the x[j <= i] it may overwrite were
             * read.  Split over threads, the second thread's first stores overwrote the inputs
             * of the first thread's last elements before it read them (a review found
             * silu(b[1:], out=b[:-1]) wrong at 2^16 elements on 2 threads) */
            f(0, n, (const char *const *)args, !pscalar, args[nin]);
            act_fp_restore(flags);
            return;
        }
        act_pick_state *p =
            act_stream_slot(d->op, d->kind, act_threads_for(n * cost), d->dtype, len, inplace);
        int on = p && act_stream_pick(p);
        /* streamed: the kernel's own streaming form where it has one (scalar parameters),
         * else the kernel through act_stream_range's buffer */
        act_range_fn fnt = on && pscalar ? act_table->ntfn[d->op][d->kind][d->dtype] : NULL;
        act_stream_fn stream = on && !fnt ? act_table->stream : NULL;
        double t0 = p ? act_now() : 0;
        run(fnt ? fnt : f, n, cost, (const char *const *)args, !pscalar, args[nin], stream, nin,
            nshift, isz, fnt != NULL);
        if (p) act_stream_learn(p, on, act_now() - t0, len);
    }
    else
        strided(f, n, args, steps, nin, nx, isz);
    act_fp_restore(flags);
}
