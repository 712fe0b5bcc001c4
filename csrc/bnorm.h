/* Batch normalization kernels: declarations shared by csrc/bnorm.c and actcore/_bnorm.pxi.
 * Plain C: no Python here.
 *
 * Every tensor is seen as a 3-D view (outer, C, inner) with byte strides; statistics run over
 * outer and inner.  Two layouts, picked by the caller from x's strides:
 *   ACT_BN_INNER  (layout 0) the inner axis is contiguous (NCHW: outer = N, inner = H*W);
 *   ACT_BN_CHAN   (layout 1) the channel axis is contiguous (channels-last: rows = outer*inner).
 * The work is cut into fixed blocks of at most ACT_BN_BLK elements that depend only on the
 * shape, never on the thread count; per-block partials are combined in block order, so every
 * result is bit-identical for any number of threads.
 */
#ifndef ACT_BNORM_H
#define ACT_BNORM_H
#include "act.h"

/* 2048 elements = 8 KiB of float: a block and its scratch buffers stay in L1 (32-48 KiB) while
 * it is read twice (mean, then squared deviations) or transformed then activated in place. */
#define ACT_BN_BLK 2048

enum { ACT_BN_INNER = 0, ACT_BN_CHAN = 1 };

typedef struct {
    char *p;
    ptrdiff_t so, sc, si; /* byte strides of outer, channel, inner */
} act_bn_view;

typedef struct {
    ptrdiff_t outer, C, inner;
    int layout, dtype;
    /* views (p == NULL when absent) */
    act_bn_view x;    /* input */
    act_bn_view out;  /* y (apply) or dx (grad_apply) */
    act_bn_view r;    /* residual, added before the activation */
    act_bn_view dy;   /* upstream gradient */
    act_bn_view yin;  /* forward output, for gradients from the output */
    act_bn_view dres; /* dz = gradient after the activation: written by grad_reduce, read back by
                         grad_apply when dres_ready */
    int dres_ready;
    /* per-channel parameters in the compute type (float for f16/f32, double for f64):
     * pre-activation = ((x - mh) - ml) * scale + shift (+ r); mh + ml is the mean split in a
     * high and a low part, so x - mean stays accurate for channels far from 0 */
    const void *mh, *ml, *scale, *shift;
    /* grad_apply: dx = ga * dz - ((x - mh) - ml) * gd - ge */
    const void *ga, *gd, *ge;
    const double *mean; /* grad_reduce: the mean, exactly as the caller gave it */
    /* grad_reduce for prelu_grad (act_op -1): the per-channel slope in the compute type.  With
     * it dz = dy where x < 0 (0 elsewhere, NaN where x is NaN) and out = leaky_relu_grad(dy, x,
     * pw[c]) is written in the same pass, so dx and dweight cost one read of dy and x */
    const void *pw;
    int act_op;        /* -1: no activation */
    int act_grad_kind; /* ACT_GOUT: dz from (dy, yin); ACT_GRAD: dz from (dy, pre-activation) */
    double act_params[2];
} act_bn_args;

typedef struct {
    const char *name;
    /* per channel: mean and M2 = sum of squared deviations (float64) */
    int (*stats)(const act_bn_args *a, double *mean, double *m2); /* -1: out of memory */
    /* out = act(((x - mh) - ml) * scale + shift (+ r)) */
    void (*apply)(const act_bn_args *a);
    /* per channel: sum dz and sum dz * (x - mean); writes dz to dres when given, and the prelu
     * gradient to out with pw */
    int (*grad_reduce)(const act_bn_args *a, double *sum_dz, double *sum_dzxm); /* -1: no memory */
    /* out = dx */
    void (*grad_apply)(const act_bn_args *a);
    /* benchmark floor: one OpenMP read of k contiguous float32 arrays of n elements */
    float (*read_floor)(const float *const *arrs, int k, ptrdiff_t n);
} act_bn_table;

/* the table of the kernel target in use (dispatch.c; each isa_*.c defines one) */
const act_bn_table *act_bn_current(void);

#endif
