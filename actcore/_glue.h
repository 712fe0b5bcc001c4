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

/* ---- helpers of the fast paths (_axis.c softmax_fast / glu_fast, _bnorm.c bn_infer_fast): the
 * common call done in C, anything unusual answered NotImplemented so the Python layer does the
 * full work.  They accept only what needs no conversion: exact ndarrays of native
 * float32/float64 (or `type`), C-contiguous and aligned; out None or such an array of the
 * result's shape and dtype, writeable, that is an input itself (where the kernel reads each
 * element before writing it) or shares no memory with the inputs. */
static inline int fast_operand(PyObject *o, int type)
{
    if (!PyArray_CheckExact(o)) return 0;
    PyArrayObject *a = (PyArrayObject *)o;
    int t = PyArray_TYPE(a);
    return (type < 0 ? (t == NPY_FLOAT || t == NPY_DOUBLE) : t == type) &&
           PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISALIGNED(a) && PyArray_ISNOTSWAPPED(a) &&
           PyArray_NDIM(a) > 0;
}
static inline int fast_axis(PyObject *axis, int nd, int *ax)
{
    if (!PyLong_CheckExact(axis)) return 0;
    long v = PyLong_AsLong(axis);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v < -nd || v >= nd) return 0;
    *ax = (int)(v < 0 ? v + nd : v);
    return 1;
}
static inline int overlaps(PyArrayObject *a, PyArrayObject *b)
{
    const char *pa = PyArray_BYTES(a), *pb = PyArray_BYTES(b);
    return pa < pb + PyArray_NBYTES(b) && pb < pa + PyArray_NBYTES(a);
}
/* the output: out checked as above (in place allowed for the operands in `inplace`), or a new
 * array; NULL (no error set) when out does not qualify */
static inline PyArrayObject *fast_out(PyObject *out, int nd, npy_intp *shape, int type,
                                      PyArrayObject *const *ins, int nins, int inplace)
{
    if (out == Py_None) return (PyArrayObject *)PyArray_EMPTY(nd, shape, type, 0);
    if (!fast_operand(out, type) || !PyArray_ISWRITEABLE((PyArrayObject *)out)) return NULL;
    PyArrayObject *o = (PyArrayObject *)out;
    if (PyArray_NDIM(o) != nd || !PyArray_CompareLists(PyArray_SHAPE(o), shape, nd)) return NULL;
    for (int k = 0; k < nins; k++) {
        int same = PyArray_BYTES(o) == PyArray_BYTES(ins[k]) &&
                   PyArray_SIZE(o) == PyArray_SIZE(ins[k]);
        if (overlaps(o, ins[k]) && !(inplace && same)) return NULL;
    }
    Py_INCREF(o);
    return o;
}

/* x's shape as (outer, L, inner) around axis */
static inline int split3(PyArrayObject *x, int axis, npy_intp *outer, npy_intp *L,
                         npy_intp *inner, const char *fname)
{
    int nd = PyArray_NDIM(x);
    if (axis < 0 || axis >= nd) {
        PyErr_Format(PyExc_ValueError, "%s: axis %d out of range for %d dimensions", fname, axis,
                     nd);
        return -1;
    }
    npy_intp *sh = PyArray_SHAPE(x);
    *outer = 1, *inner = 1, *L = sh[axis];
    for (int k = 0; k < axis; k++) *outer *= sh[k];
    for (int k = axis + 1; k < nd; k++) *inner *= sh[k];
    return 0;
}
#endif
