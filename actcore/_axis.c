/* Glue for the axis functions of actcore._core (see _glue.h): softmax family, GLU family,
 * maxout.  actcore/axis.py validates arguments, makes operands C-contiguous float32/float64 and
 * allocates outputs; these functions re-check what the kernels rely on (so a wrong call is a
 * ValueError, never a crash), pick the table of the current ISA and run it without the GIL. */
#include "_glue.h"
#include "axis.h"
#include <fenv.h>
#include <string.h>

extern const act_axis_fns act_axis_table_baseline;
#ifdef ACT_BUILD_AVX2
extern const act_axis_fns act_axis_table_avx2;
#endif
#ifdef ACT_BUILD_AVX512
extern const act_axis_fns act_axis_table_avx512;
#endif

static const act_axis_fns *axis_table(void)
{
    switch (act_isa_current()) {
#ifdef ACT_BUILD_AVX512
    case ACT_ISA_AVX512:
        return &act_axis_table_avx512;
#endif
#ifdef ACT_BUILD_AVX2
    case ACT_ISA_AVX2:
        return &act_axis_table_avx2;
#endif
    default:
        return &act_axis_table_baseline;
    }
}

/* a C-contiguous, aligned float32/float64 array of dtype `type` (writeable if `out`) */
static int check(PyArrayObject *a, int type, int out, const char *fname, const char *what)
{
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || PyArray_TYPE(a) != type ||
        (out && !PyArray_ISWRITEABLE(a))) {
        PyErr_Format(PyExc_ValueError,
                     "%s: %s must be an aligned C-contiguous%s array of the computation dtype",
                     fname, what, out ? " writeable" : "");
        return -1;
    }
    return 0;
}

static int dtype_code(PyArrayObject *x, const char *fname)
{
    int t = PyArray_TYPE(x);
    if (t == NPY_FLOAT) return ACT_F32;
    if (t == NPY_DOUBLE) return ACT_F64;
    PyErr_Format(PyExc_TypeError, "%s: kernel dtype must be float32 or float64", fname);
    return -1;
}

/* (outer, L, inner) of x around `axis` */
/* softmax_kernel(op, x, x2, mask, y, axis): x2 (dy for gradients) and mask may be None */
static PyObject *softmax_kernel(PyObject *self, PyObject *args)
{
    int op, axis;
    PyArrayObject *x, *y;
    PyObject *x2o, *mko;
    const char *fn = "softmax_kernel";
    if (!PyArg_ParseTuple(args, "iO!OOO!i", &op, &PyArray_Type, &x, &x2o, &mko, &PyArray_Type,
                          &y, &axis))
        return NULL;
    if (op < 0 || op >= ACT_AX_NSOFTMAX) {
        PyErr_SetString(PyExc_ValueError, "softmax_kernel: unknown op");
        return NULL;
    }
    int dt = dtype_code(x, fn);
    npy_intp outer, L, inner;
    if (dt < 0 || check(x, PyArray_TYPE(x), 0, fn, "x") < 0 ||
        check(y, PyArray_TYPE(x), 1, fn, "y") < 0 || split3(x, axis, &outer, &L, &inner, fn) < 0)
        return NULL;
    npy_intp need = op == ACT_AX_LOGSUMEXP ? outer * inner : PyArray_SIZE(x);
    if (PyArray_SIZE(y) != need) {
        PyErr_SetString(PyExc_ValueError, "softmax_kernel: y has the wrong size");
        return NULL;
    }
    const void *x2 = NULL;
    const unsigned char *mk = NULL;
    if (op >= ACT_AX_SOFTMAX_GRAD) {
        if (!PyArray_Check(x2o) || check((PyArrayObject *)x2o, PyArray_TYPE(x), 0, fn, "dy") < 0)
            return NULL;
        if (PyArray_SIZE((PyArrayObject *)x2o) != PyArray_SIZE(x)) {
            PyErr_SetString(PyExc_ValueError, "softmax_kernel: dy has the wrong size");
            return NULL;
        }
        x2 = PyArray_DATA((PyArrayObject *)x2o);
    }
    if (mko != Py_None) {
        if (op != ACT_AX_SOFTMAX || !PyArray_Check(mko) ||
            check((PyArrayObject *)mko, NPY_BOOL, 0, fn, "mask") < 0 ||
            PyArray_SIZE((PyArrayObject *)mko) != PyArray_SIZE(x)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "softmax_kernel: bad mask");
            return NULL;
        }
        mk = (const unsigned char *)PyArray_DATA((PyArrayObject *)mko);
    }
    int rc = 0;
    const act_axis_fns *t = axis_table();
    if (PyArray_SIZE(y) > 0)
        ACT_RUN(PyArray_SIZE(x), rc = t->softmax(op, dt, PyArray_DATA(x), x2, mk, PyArray_DATA(y), outer, L, inner));
    if (rc < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* ---- fast paths: the common call done here, without axis.py's argument handling (~2 us of a
 * (1, 1000) softmax, against ~0.5 us of arithmetic).  Anything unusual returns NotImplemented
 * and axis.py does the full work (conversions, broadcasting, every error message); what they
 * accept: see fast_operand & co. in _glue.h (and an int axis in range). */
/* softmax_fast(op, x, x2, axis, out): softmax / log_softmax (x2 None, no where=) and their
 * gradients (x = y, x2 = dy, one shape) */
static PyObject *softmax_fast(PyObject *self, PyObject *args)
{
    int op, ax;
    PyObject *xo, *x2o, *axis, *out;
    if (!PyArg_ParseTuple(args, "iOOOO", &op, &xo, &x2o, &axis, &out)) return NULL;
    int grad = op == ACT_AX_SOFTMAX_GRAD || op == ACT_AX_LOG_SOFTMAX_GRAD;
    if ((!grad && op != ACT_AX_SOFTMAX && op != ACT_AX_LOG_SOFTMAX) || !fast_operand(xo, -1) ||
        grad != (x2o != Py_None))
        Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *ins[2] = {(PyArrayObject *)xo, (PyArrayObject *)x2o};
    PyArrayObject *x = ins[0];
    int nd = PyArray_NDIM(x), type = PyArray_TYPE(x);
    if (grad && (!fast_operand(x2o, type) || PyArray_NDIM(ins[1]) != nd ||
                 !PyArray_CompareLists(PyArray_SHAPE(ins[1]), PyArray_SHAPE(x), nd)))
        Py_RETURN_NOTIMPLEMENTED;
    if (!fast_axis(axis, nd, &ax)) Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *y = fast_out(out, nd, PyArray_SHAPE(x), type, ins, grad ? 2 : 1, 1);
    if (!y) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    npy_intp outer, L, inner;
    if (split3(x, ax, &outer, &L, &inner, "softmax_fast") < 0) {
        Py_DECREF(y);
        return NULL;
    }
    int rc = 0;
    if (PyArray_SIZE(x) > 0)
        ACT_RUN(PyArray_SIZE(x), rc = axis_table()->softmax(
                                     op, type == NPY_FLOAT ? ACT_F32 : ACT_F64, PyArray_DATA(x),
                                     grad ? PyArray_DATA(ins[1]) : NULL, NULL, PyArray_DATA(y),
                                     outer, L, inner));
    if (rc < 0) {
        Py_DECREF(y);
        return PyErr_NoMemory();
    }
    return (PyObject *)y;
}

/* glu_fast(op, x, b, axis, out): the GLU family's forward, x split in halves along axis (b
 * None) or two operands of one shape (no broadcasting) */
static PyObject *glu_fast(PyObject *self, PyObject *args)
{
    int op, ax;
    PyObject *xo, *bo, *axis, *out;
    if (!PyArg_ParseTuple(args, "iOOOO", &op, &xo, &bo, &axis, &out)) return NULL;
    if (op < 0 || op >= ACT_NGLU || !fast_operand(xo, -1)) Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *a = (PyArrayObject *)xo, *b = NULL;
    int nd = PyArray_NDIM(a), type = PyArray_TYPE(a);
    if (!fast_axis(axis, nd, &ax)) Py_RETURN_NOTIMPLEMENTED;
    npy_intp shape[NPY_MAXDIMS], outer, n, istride;
    memcpy(shape, PyArray_SHAPE(a), sizeof(npy_intp) * (size_t)nd);
    if (bo == Py_None) {
        npy_intp L, inner;
        if (split3(a, ax, &outer, &L, &inner, "glu_fast") < 0) return NULL;
        if (L % 2) Py_RETURN_NOTIMPLEMENTED;
        shape[ax] = L / 2;
        n = L / 2 * inner, istride = L * inner;
    }
    else {
        if (!fast_operand(bo, type)) Py_RETURN_NOTIMPLEMENTED;
        b = (PyArrayObject *)bo;
        if (PyArray_NDIM(b) != nd || !PyArray_CompareLists(PyArray_SHAPE(b), shape, nd))
            Py_RETURN_NOTIMPLEMENTED;
        outer = 1, n = PyArray_SIZE(a), istride = n;
    }
    PyArrayObject *ins[2] = {a, b};
    PyArrayObject *y = fast_out(out, nd, shape, type, ins, b ? 2 : 1, b != NULL);
    if (!y) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    const char *pa = PyArray_BYTES(a);
    const char *pb = b ? PyArray_BYTES(b) : pa + n * PyArray_ITEMSIZE(a);
    if (outer * n > 0)
        ACT_RUN(outer * n, axis_table()->glu(op, type == NPY_FLOAT ? ACT_F32 : ACT_F64, pa, pb,
                                             istride, PyArray_DATA(y), outer, n));
    return (PyObject *)y;
}

/* glu_kernel(op, a, b, y, axis): b None -> a is x, split in halves along axis into y;
 * else a and b are same-size operands */
static PyObject *glu_kernel(PyObject *self, PyObject *args)
{
    int op, axis;
    PyArrayObject *a, *y;
    PyObject *bo;
    const char *fn = "glu_kernel";
    if (!PyArg_ParseTuple(args, "iO!OO!i", &op, &PyArray_Type, &a, &bo, &PyArray_Type, &y, &axis))
        return NULL;
    if (op < 0 || op >= ACT_NGLU) {
        PyErr_SetString(PyExc_ValueError, "glu_kernel: unknown op");
        return NULL;
    }
    int dt = dtype_code(a, fn);
    if (dt < 0 || check(a, PyArray_TYPE(a), 0, fn, "x") < 0 ||
        check(y, PyArray_TYPE(a), 1, fn, "y") < 0)
        return NULL;
    const char *pa = PyArray_BYTES(a), *pb;
    npy_intp outer, n, istride;
    if (bo == Py_None) {
        npy_intp L, inner;
        if (split3(a, axis, &outer, &L, &inner, fn) < 0) return NULL;
        if (L % 2 || PyArray_SIZE(y) * 2 != PyArray_SIZE(a)) {
            PyErr_SetString(PyExc_ValueError, "glu_kernel: odd axis or wrong y size");
            return NULL;
        }
        n = L / 2 * inner, istride = L * inner;
        pb = pa + n * PyArray_ITEMSIZE(a);
    }
    else {
        if (!PyArray_Check(bo) || check((PyArrayObject *)bo, PyArray_TYPE(a), 0, fn, "b") < 0)
            return NULL;
        if (PyArray_SIZE((PyArrayObject *)bo) != PyArray_SIZE(a) ||
            PyArray_SIZE(y) != PyArray_SIZE(a)) {
            PyErr_SetString(PyExc_ValueError, "glu_kernel: a, b, y sizes differ");
            return NULL;
        }
        outer = 1, n = PyArray_SIZE(a), istride = n;
        pb = PyArray_BYTES((PyArrayObject *)bo);
    }
    const act_axis_fns *t = axis_table();
    if (outer * n > 0) ACT_RUN(outer * n, t->glu(op, dt, pa, pb, istride, PyArray_DATA(y), outer, n));
    Py_RETURN_NONE;
}

/* glu_grad_kernel(op, dy, a, b, da, db, axis): b None -> a is x and da is dx (x's shape), db
 * ignored; else two operands and two outputs */
static PyObject *glu_grad_kernel(PyObject *self, PyObject *args)
{
    int op, axis;
    PyArrayObject *dy, *a, *da;
    PyObject *bo, *dbo;
    const char *fn = "glu_grad_kernel";
    if (!PyArg_ParseTuple(args, "iO!O!OO!Oi", &op, &PyArray_Type, &dy, &PyArray_Type, &a, &bo,
                          &PyArray_Type, &da, &dbo, &axis))
        return NULL;
    if (op < 0 || op >= ACT_NGLU) {
        PyErr_SetString(PyExc_ValueError, "glu_grad_kernel: unknown op");
        return NULL;
    }
    int dt = dtype_code(a, fn), ty = PyArray_TYPE(a);
    if (dt < 0 || check(a, ty, 0, fn, "x") < 0 || check(dy, ty, 0, fn, "dy") < 0 ||
        check(da, ty, 1, fn, "dx") < 0)
        return NULL;
    size_t isz = PyArray_ITEMSIZE(a);
    const char *pa = PyArray_BYTES(a), *pb;
    char *pda = PyArray_BYTES(da), *pdb;
    npy_intp outer, n, stride;
    if (bo == Py_None) {
        npy_intp L, inner;
        if (split3(a, axis, &outer, &L, &inner, fn) < 0) return NULL;
        if (L % 2 || PyArray_SIZE(dy) * 2 != PyArray_SIZE(a) ||
            PyArray_SIZE(da) != PyArray_SIZE(a)) {
            PyErr_SetString(PyExc_ValueError, "glu_grad_kernel: odd axis or wrong sizes");
            return NULL;
        }
        n = L / 2 * inner, stride = L * inner;
        pb = pa + n * isz, pdb = pda + n * isz;
    }
    else {
        if (!PyArray_Check(bo) || !PyArray_Check(dbo) ||
            check((PyArrayObject *)bo, ty, 0, fn, "b") < 0 ||
            check((PyArrayObject *)dbo, ty, 1, fn, "db") < 0)
            return NULL;
        n = PyArray_SIZE(a);
        if (PyArray_SIZE((PyArrayObject *)bo) != n || PyArray_SIZE(dy) != n ||
            PyArray_SIZE(da) != n || PyArray_SIZE((PyArrayObject *)dbo) != n) {
            PyErr_SetString(PyExc_ValueError, "glu_grad_kernel: operand sizes differ");
            return NULL;
        }
        outer = 1, stride = n;
        pb = PyArray_BYTES((PyArrayObject *)bo);
        pdb = PyArray_BYTES((PyArrayObject *)dbo);
    }
    const act_axis_fns *t = axis_table();
    if (outer * n > 0)
        ACT_RUN(outer * n, t->glu_grad(op, dt, PyArray_DATA(dy), pa, pb, stride, pda, pdb, stride, outer, n));
    Py_RETURN_NONE;
}

/* maxout_kernel(x, y, pool, axis) / maxout_grad_kernel(dy, x, dx, pool, axis) */
static PyObject *maxout_common(PyObject *args, int grad)
{
    PyArrayObject *x, *y, *dy = NULL;
    Py_ssize_t pool;
    int axis;
    const char *fn = grad ? "maxout_grad_kernel" : "maxout_kernel";
    if (grad) {
        if (!PyArg_ParseTuple(args, "O!O!O!ni", &PyArray_Type, &dy, &PyArray_Type, &x,
                              &PyArray_Type, &y, &pool, &axis))
            return NULL;
    }
    else if (!PyArg_ParseTuple(args, "O!O!ni", &PyArray_Type, &x, &PyArray_Type, &y, &pool,
                               &axis))
        return NULL;
    int dt = dtype_code(x, fn), ty = PyArray_TYPE(x);
    npy_intp outer, C, inner;
    if (dt < 0 || check(x, ty, 0, fn, "x") < 0 || check(y, ty, 1, fn, "y") < 0 ||
        (dy && check(dy, ty, 0, fn, "dy") < 0) || split3(x, axis, &outer, &C, &inner, fn) < 0)
        return NULL;
    if (pool < 1 || C % pool) {
        PyErr_Format(PyExc_ValueError, "%s: pool_size must divide the channel count", fn);
        return NULL;
    }
    npy_intp G = C / pool, nsmall = outer * G * inner;
    if (PyArray_SIZE(y) != (grad ? PyArray_SIZE(x) : nsmall) ||
        (dy && PyArray_SIZE(dy) != nsmall)) {
        PyErr_Format(PyExc_ValueError, "%s: operand sizes do not match", fn);
        return NULL;
    }
    const act_axis_fns *t = axis_table();
    if (nsmall > 0) {
        if (grad)
            ACT_RUN(PyArray_SIZE(x), t->maxout_grad(dt, PyArray_DATA(dy), PyArray_DATA(x), PyArray_DATA(y), outer, G,
                               pool, inner));
        else
            ACT_RUN(PyArray_SIZE(x), t->maxout(dt, PyArray_DATA(x), PyArray_DATA(y), outer, G, pool, inner));
    }
    Py_RETURN_NONE;
}
static PyObject *maxout_kernel(PyObject *self, PyObject *args) { return maxout_common(args, 0); }
static PyObject *maxout_grad_kernel(PyObject *self, PyObject *args)
{
    return maxout_common(args, 1);
}

PyMethodDef act_axis_methods[] = {
    {"softmax_kernel", softmax_kernel, METH_VARARGS,
     "softmax_kernel(op, x, dy|None, mask|None, y, axis): softmax family (actcore/axis.py)"},
    {"softmax_fast", softmax_fast, METH_VARARGS,
     "softmax_fast(op, x, dy|None, axis, out|None): the common softmax-family call, or "
     "NotImplemented"},
    {"glu_fast", glu_fast, METH_VARARGS,
     "glu_fast(op, x, b|None, axis, out|None): the common GLU-family call, or NotImplemented"},
    {"glu_kernel", glu_kernel, METH_VARARGS, "glu_kernel(op, a, b|None, y, axis)"},
    {"glu_grad_kernel", glu_grad_kernel, METH_VARARGS,
     "glu_grad_kernel(op, dy, a, b|None, da, db|None, axis)"},
    {"maxout_kernel", maxout_kernel, METH_VARARGS, "maxout_kernel(x, y, pool, axis)"},
    {"maxout_grad_kernel", maxout_grad_kernel, METH_VARARGS,
     "maxout_grad_kernel(dy, x, dx, pool, axis)"},
    {NULL, NULL, 0, NULL},
};
