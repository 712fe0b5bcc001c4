/* Declarations shared by the C cores and the Python glue.  Plain C: no Python here. */
#ifndef ACT_H
#define ACT_H
#include <stddef.h>
#include <stdint.h>

/* Every formula and math function is forced inline: eltwise.c has hundreds of call sites, past
 * gcc's inlining budget, and a loop that calls a function is not vectorised (measured: 20-100x
 * slower sigmoid/gelu loops before this). */
#if defined(_MSC_VER)
#define ACT_INLINE static __forceinline
#else
#define ACT_INLINE static inline __attribute__((always_inline))
#endif

/* "no loop-carried dependence": for loops whose output may be one of their inputs at the same
 * index (in place), which gcc otherwise versions with run-time alias checks; on 64-element
 * channels-last rows those checks cost as much as the arithmetic */
#if defined(__GNUC__) && !defined(__clang__)
#define ACT_IVDEP _Pragma("GCC ivdep")
#elif defined(__clang__)
#define ACT_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#else
#define ACT_IVDEP
#endif

/* op indices, in ops.def order */
enum {
#define ACT_OP(name, np, gout, cost, stream) ACT_OP_##name,
#include "ops.def"
#undef ACT_OP
    ACT_NOPS
};

enum { ACT_FWD = 0, ACT_GRAD = 1, ACT_GOUT = 2, ACT_NKINDS = 3 };
/* dtype indices.  The first three are NumPy's built-in float16/32/64; ACT_BF16 is bfloat16, a
 * user dtype of ml_dtypes whose loops the glue registers when that package is imported.  Every
 * table indexed by the dtype has ACT_NDTYPES entries, in this order. */
enum { ACT_F16 = 0, ACT_F32 = 1, ACT_F64 = 2, ACT_BF16 = 3, ACT_NDTYPES = 4 };

/* A kernel computes out[i] for lo <= i < hi from contiguous inputs in[0..nx-1] (x, or dy and x)
 * and the op's parameters in[nx..nx+np-1]: one value each when pvec == 0, contiguous arrays
 * when pvec == 1.  It runs on one thread; act_run() splits the range over threads. */
typedef void (*act_range_fn)(ptrdiff_t lo, ptrdiff_t hi, const char *const *in, int pvec,
                             char *out);

/* The same kernel with its output through an L1 buffer and streaming stores (ntstore.h): f over
 * [lo, hi) in blocks written to the buffer and streamed to out; the caller fences (act_nt_fence)
 * once its thread has stored everything.  Of the nin (<= ACT_MAXIN) inputs, in[0..nshift-1]
 * advance with the block (the data operands, and the parameters when pvec); the rest are
 * single values.  isz: bytes per element. */
enum { ACT_MAXIN = 4 }; /* dy, x and two parameters */
typedef void (*act_stream_fn)(act_range_fn f, ptrdiff_t lo, ptrdiff_t hi, const char *const *in,
                              int nin, int nshift, int pvec, char *out, size_t isz);

typedef struct {
    const char *name;
    int fma; /* float32 kernels use fused multiply-add (vmathf.h): their bits differ from a
                target without it, within the accuracy bounds (SPEC §5) */
    act_range_fn fn[ACT_NOPS][ACT_NKINDS][ACT_NDTYPES]; /* NULL where the op has no gout */
    act_range_fn copy[ACT_NDTYPES]; /* memory floor: reads x, writes y once */
    act_range_fn add[ACT_NDTYPES];  /* three-stream floor: y = a + b (as a gradient's traffic) */
    act_stream_fn stream;
    /* the kernels with their output streamed from their own loop (eltwise.c DEF_RANGE_NT),
     * scalar parameters only; the caller fences.  float32 and float64 (NULL for the 16-bit
     * types, and on targets without streaming stores): the others take `stream` */
    act_range_fn ntfn[ACT_NOPS][ACT_NKINDS][ACT_NDTYPES];
} act_isa_table;

/* per-op facts from ops.def, for the glue */
typedef struct {
    const char *name;
    int nparams;
    int has_gout;
    int cost; /* relative time per element, relu = 1 */
} act_op_info;
extern const act_op_info act_ops[ACT_NOPS];

/* dispatch.c */
enum { ACT_ISA_BASELINE = 0, ACT_ISA_AVX2 = 1, ACT_ISA_AVX512 = 2, ACT_NISAS = 3 };
extern const act_isa_table *act_table;               /* the table in use */
const char *act_isa_name(int isa);
int act_isa_built(int isa);                          /* compiled into this build */
int act_isa_supported(int isa);                      /* built and runnable on this CPU + OS */
int act_isa_current(void);
int act_isa_fma(int isa);                            /* built with fused multiply-add */
int act_set_isa(int isa);                            /* 0 on success, -1 if not supported */
int act_isa_from_name(const char *name);             /* -1 if unknown */
void act_dispatch_init(const char *cap, char *warn, size_t warnlen);

/* loops.c */
typedef struct {
    int op, kind, dtype;
} act_loop_data;
void act_eltwise_loop(char **args, const ptrdiff_t *dims, const ptrdiff_t *steps,
                      const act_loop_data *d);
void act_run(act_range_fn f, ptrdiff_t n, const char *const *in, int pvec, char *out);
/* prelu forward with a weight per channel: x and y C-contiguous, seen as (outer, C, inner), w
 * contiguous (C,), all of one dtype; the leaky_relu kernel with slope w[c], so the bits are the
 * ufunc's.  0, or -1 when out of memory (nothing written). */
int act_prelu_channels(int dtype, const char *x, const char *w, ptrdiff_t outer, ptrdiff_t C,
                       ptrdiff_t inner, char *y);
int act_threads_for(ptrdiff_t work); /* threads for `work` relu-element units */
int act_get_num_threads(void);
void act_set_num_threads(int n);
int act_openmp_enabled(void);
extern ptrdiff_t act_parallel_min;  /* below this many elements: serial */
extern size_t act_stream_min;       /* outputs of this many bytes and more: streaming stores */
extern size_t act_stream_calls;     /* calls that took streaming stores (tests) */
extern int act_stream_always;       /* 1: every eligible call streams; 0: as measured */
extern int act_stream_kinds[ACT_NOPS]; /* bit k: kind k of the op streams (ops.def's column) */
/* The formulas compute both sides of every select, so out-of-range intermediates may raise
 * overflow/invalid/underflow flags for finite results.  act_fp_save() before a kernel and
 * act_fp_restore() after it clear the flags the kernel raised and keep the caller's, so NumPy
 * reports nothing spurious.  Inexact is left alone: nearly every kernel raises it and nothing
 * (NumPy's errstate included) reads it. */
int act_fp_save(void);
void act_fp_restore(int saved);

#endif
