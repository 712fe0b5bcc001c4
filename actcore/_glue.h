/* Common includes for the C glue files of actcore._core (one extension module, several files:
 * NumPy's C-API table is shared through PY_ARRAY_UNIQUE_SYMBOL; only _core.c imports it). */
#ifndef ACT_GLUE_H
#define ACT_GLUE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_25_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL actcore_ARRAY_API
#define PY_UFUNC_UNIQUE_SYMBOL actcore_UFUNC_API
#ifndef ACT_GLUE_MAIN
#define NO_IMPORT_ARRAY
#define NO_IMPORT_UFUNC
#endif
#include <numpy/arrayobject.h>
#include <numpy/ufuncobject.h>

#include "act.h"

/* bfloat16's NumPy type number once its loops are registered (_core.c), else -1 */
extern int act_glue_bf16_type;

/* method tables of the other glue files, added to the module by _core.c */
extern PyMethodDef act_bnorm_methods[]; /* _bnorm.c: batch normalization */
extern PyMethodDef act_axis_methods[];  /* _axis.c: softmax, GLU family, maxout */

/* Run a kernel over `nwork` elements: the caller's FP flags kept (act_fp_save, act.h), and the
 * GIL released only when the work is worth it.  Releasing and taking it back costs a futex
 * round trip, ~12% of a (1, 1) softmax call (perf); NumPy's own loops keep the GIL below 500
 * elements (NPY_BEGIN_THREADS_THRESHOLDED), and below ~8K elements our kernels take a few
 * microseconds, less than another Python thread would wait for the GIL anyway. */
#define ACT_GIL_MIN 8192
#define ACT_RUN(nwork, stmt)                                                                    \
    do {                                                                                        \
        int fp_ = act_fp_save();                                                                \
        if ((nwork) >= ACT_GIL_MIN) {                                                           \
            Py_BEGIN_ALLOW_THREADS stmt;                                                        \
            Py_END_ALLOW_THREADS                                                                \
        }                                                                                       \
        else {                                                                                  \
            stmt;                                                                               \
        }                                                                                       \
        act_fp_restore(fp_);                                                                    \
    } while (0)
#endif
