/* Axis activations (softmax family, GLU family, maxout): the per-ISA function table.
 * Plain C, no Python.  The kernels take C-contiguous float32/float64 arrays viewed as
 * (outer, L, inner) with the reduced / split axis of length L in the middle; the glue
 * (actcore/_axis.pxi) makes that view, float16 goes through float32 in actcore/axis.py. */
#ifndef ACT_AXIS_H
#define ACT_AXIS_H
#include <stddef.h>

/* softmax-family ops, one driver (csrc/axis_t.h) */
enum {
    ACT_AX_SOFTMAX = 0,     /* y = e^(x-M) / S                 x: (outer, L, inner) -> same   */
    ACT_AX_LOG_SOFTMAX = 1, /* y = (x-M) - log S                                              */
    ACT_AX_LOGSUMEXP = 2,   /* y = M + log S                   -> (outer, inner)              */
    ACT_AX_SOFTMAX_GRAD = 3,     /* dx = y (dy - sum y dy)      x = y, x2 = dy                */
    ACT_AX_LOG_SOFTMAX_GRAD = 4, /* dx = dy - e^y sum dy        x = y, x2 = dy                */
    ACT_AX_NSOFTMAX
};
/* GLU family: x split into halves a, b along the axis (or two operands) */
enum { ACT_GLU = 0, ACT_SWIGLU = 1, ACT_GEGLU = 2, ACT_GEGLU_TANH = 3, ACT_REGLU = 4, ACT_NGLU };

typedef struct {
    /* x, x2 (grads: dy; else NULL), mask (bool bytes or NULL, softmax only), y */
    /* returns 0, or -1 when scratch memory could not be allocated (nothing usable written) */
    int (*softmax)(int op, int dtype, const void *x, const void *x2, const unsigned char *mask,
                    void *y, ptrdiff_t outer, ptrdiff_t L, ptrdiff_t inner);
    /* y[o*n + i] = f(a[o*istride + i], b[o*istride + i]) for o < outer, i < n */
    void (*glu)(int op, int dtype, const void *a, const void *b, ptrdiff_t istride, void *y,
                ptrdiff_t outer, ptrdiff_t n);
    /* da[o*ostride + i], db[o*ostride + i] from dy[o*n + i] and a, b as above */
    void (*glu_grad)(int op, int dtype, const void *dy, const void *a, const void *b,
                     ptrdiff_t istride, void *da, void *db, ptrdiff_t ostride, ptrdiff_t outer,
                     ptrdiff_t n);
    /* x: (outer, G*pool, inner) -> y: (outer, G, inner) */
    void (*maxout)(int dtype, const void *x, void *y, ptrdiff_t outer, ptrdiff_t G,
                   ptrdiff_t pool, ptrdiff_t inner);
    void (*maxout_grad)(int dtype, const void *dy, const void *x, void *dx, ptrdiff_t outer,
                        ptrdiff_t G, ptrdiff_t pool, ptrdiff_t inner);
} act_axis_fns;

/* the table of the kernel target in use (dispatch.c) */
const act_axis_fns *act_axis_current(void);

#endif
