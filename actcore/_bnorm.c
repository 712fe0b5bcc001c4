/* Glue for the batch-norm kernels of actcore._core (see _glue.h and csrc/bnorm.h).
 *
 * actcore/batchnorm.py does the user-facing work (argument checks, the (outer, C, inner) view,
 * per-channel arithmetic, running statistics); these functions check again what the C kernels
 * rely on (so a wrong call raises instead of crashing), release the GIL and run one kernel:
 *
 *   bn_kernel(which, **arrays_and_settings)
 *     which = "stats"       -> (mean, m2)            float64 (C,)
 *             "apply"       -> None                  writes out
 *             "grad_reduce" -> (sum_dz, sum_dzxm)    float64 (C,); writes dres when given,
 *                                                    with pw (prelu_grad) dx to out
 *             "grad_apply"  -> None                  writes out (= dx)
 *   bn_params(mean, invstd, weight, bias, double[, var, eps]) -> (mh, ml, scale, shift)
 *     the kernels' per-channel parameters (see bn_params below)
 *   bn_read_floor(a, b, ...) -> float: one OpenMP read of float32 arrays (benchmark floor)
 *   bn_isa() -> name of the batch-norm kernel table in use
 */
#include "_glue.h"
#include "bnorm.h"
#include <math.h>
#include <string.h>

static const act_bn_table *bn_table(void)
{
    switch (act_isa_current()) {
#ifdef ACT_BUILD_AVX512
    case ACT_ISA_AVX512: return &act_bn_table_avx512;
#endif
#ifdef ACT_BUILD_AVX2
    case ACT_ISA_AVX2: return &act_bn_table_avx2;
#endif
    default: return &act_bn_table_baseline;
    }
}

/* kw[name] (borrowed, NULL if absent) by an interned key made once per name: a
 * PyDict_GetItemString builds, hashes and frees a str each time, and bn_kernel looks up ~15
 * names a call (~1.5 us, half of a small call's fixed cost, perf).  Names are string literals,
 * told apart by address.  The cache is process-wide and filled under the GIL: a free-threaded
 * build, or subinterpreters (which would share these str objects), would need the keys made at
 * module init in module state instead. */
static PyObject *kw_get(PyObject *kw, const char *name)
{
    static struct {
        const char *name;
        PyObject *key;
    } cache[32];
    static int n = 0;
    if (!kw) return NULL;
    PyObject *key = NULL;
    for (int i = 0; i < n && !key; i++)
        if (cache[i].name == name) key = cache[i].key;
    if (!key && n < 32 && (key = PyUnicode_InternFromString(name)) != NULL)
        cache[n].name = name, cache[n++].key = key; /* kept for the module's life */
    if (!key) { /* a full cache (never, with bn_kernel's ~15 names) or no memory */
        PyErr_Clear();
        return PyDict_GetItemString(kw, name);
    }
    PyObject *o = PyDict_GetItemWithError(kw, key);
    if (!o) PyErr_Clear();
    return o;
}

static int dtype_index(int typenum)
{
    return typenum == NPY_HALF ? ACT_F16 : typenum == NPY_FLOAT ? ACT_F32
         : typenum == NPY_DOUBLE ? ACT_F64
         : (act_glue_bf16_type >= 0 && typenum == act_glue_bf16_type) ? ACT_BF16 : -1;
}

/* kwargs[name] as an array view matching x; None/absent leaves v->p NULL */
static int get_view(PyObject *kw, const char *name, PyArrayObject *x, int layout, int writable,
                    act_bn_view *v)
{
    memset(v, 0, sizeof *v);
    PyObject *o = kw_get(kw, name);
    if (!o || o == Py_None) return 0;
    if (!PyArray_Check(o)) {
        PyErr_Format(PyExc_TypeError, "bn_kernel: %s must be an ndarray", name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)o;
    npy_intp isz = PyArray_ITEMSIZE(x);
    if (PyArray_NDIM(a) != 3 || !PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(x), 3) ||
        PyArray_TYPE(a) != PyArray_TYPE(x) || !PyArray_ISALIGNED(a) ||
        !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_ValueError,
                     "bn_kernel: %s must be an aligned native 3-D array of x's shape and dtype",
                     name);
        return -1;
    }
    npy_intp *st = PyArray_STRIDES(a), *sh = PyArray_DIMS(a);
    if (PyArray_SIZE(a) > 0 && ((layout == ACT_BN_INNER && sh[2] > 1 && st[2] != isz) ||
        (layout == ACT_BN_CHAN && sh[1] > 1 && st[1] != isz))) {
        PyErr_Format(PyExc_ValueError, "bn_kernel: %s is not contiguous along the %s axis", name,
                     layout == ACT_BN_INNER ? "inner" : "channel");
        return -1;
    }
    if (writable && !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "bn_kernel: %s must be writeable", name);
        return -1;
    }
    v->p = PyArray_BYTES(a);
    v->so = st[0];
    v->sc = st[1];
    v->si = st[2];
    return 0;
}

/* kwargs[name]: a contiguous 1-D array of C values of typenum (required when `need`) */
static int get_vec(PyObject *kw, const char *name, npy_intp C, int typenum, int need,
                   const void **p)
{
    *p = NULL;
    PyObject *o = kw_get(kw, name);
    if (!o || o == Py_None) {
        if (need) {
            PyErr_Format(PyExc_ValueError, "bn_kernel: %s is required", name);
            return -1;
        }
        return 0;
    }
    PyArrayObject *a = (PyArrayObject *)o;
    if (!PyArray_Check(o) || PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != C ||
        PyArray_TYPE(a) != typenum || !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) ||
        !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_ValueError,
                     "bn_kernel: %s must be a contiguous 1-D array of %zd %s values", name,
                     (Py_ssize_t)C, typenum == NPY_FLOAT ? "float32" : "float64");
        return -1;
    }
    *p = PyArray_DATA(a);
    return 0;
}

static int get_int(PyObject *kw, const char *name, long dflt, long *out)
{
    PyObject *o = kw_get(kw, name);
    *out = dflt;
    if (!o || o == Py_None) return 0;
    *out = PyLong_AsLong(o);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* one of the four passes: 0 stats, 1 apply, 2 grad_reduce, 3 grad_apply (-1: out of memory) */
static int bn_run(const act_bn_table *t, int w, act_bn_args *a, double *d1, double *d2)
{
    switch (w) {
    case 0: return t->stats(a, d1, d2);
    case 1: t->apply(a); return 0;
    case 2: return t->grad_reduce(a, d1, d2);
    default: t->grad_apply(a); return 0;
    }
}

static PyObject *bn_kernel(PyObject *self, PyObject *args, PyObject *kw)
{
    const char *which;
    if (!PyArg_ParseTuple(args, "s", &which)) return NULL;
    int w = strcmp(which, "stats") == 0         ? 0
          : strcmp(which, "apply") == 0         ? 1
          : strcmp(which, "grad_reduce") == 0   ? 2
          : strcmp(which, "grad_apply") == 0    ? 3
                                                : -1;
    if (w < 0) {
        PyErr_Format(PyExc_ValueError, "bn_kernel: unknown kernel %s", which);
        return NULL;
    }
    PyObject *xo = kw_get(kw, "x");
    if (!xo || !PyArray_Check(xo)) {
        PyErr_SetString(PyExc_TypeError, "bn_kernel: x must be an ndarray");
        return NULL;
    }
    PyArrayObject *x = (PyArrayObject *)xo;
    act_bn_args a;
    memset(&a, 0, sizeof a);
    a.dtype = dtype_index(PyArray_TYPE(x));
    long layout, act_op, act_kind, dres_ready;
    if (get_int(kw, "layout", 0, &layout) < 0 || get_int(kw, "act_op", -1, &act_op) < 0 ||
        get_int(kw, "act_kind", ACT_GRAD, &act_kind) < 0 ||
        get_int(kw, "dres_ready", 0, &dres_ready) < 0)
        return NULL;
    if (a.dtype < 0 || PyArray_NDIM(x) != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "bn_kernel: x must be a 3-D float16, bfloat16, float32 or float64 array");
        return NULL;
    }
    if (layout != ACT_BN_INNER && layout != ACT_BN_CHAN) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: layout must be 0 or 1");
        return NULL;
    }
    if (act_op < -1 || act_op >= ACT_NOPS ||
        (act_kind != ACT_GRAD && act_kind != ACT_GOUT) ||
        (act_op >= 0 && act_kind == ACT_GOUT && !act_ops[act_op].has_gout)) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: bad act_op/act_kind");
        return NULL;
    }
    a.layout = (int)layout;
    a.act_op = (int)act_op;
    a.act_grad_kind = (int)act_kind;
    a.dres_ready = (int)dres_ready;
    a.outer = PyArray_DIM(x, 0);
    a.C = PyArray_DIM(x, 1);
    a.inner = PyArray_DIM(x, 2);
    PyObject *po = kw_get(kw, "params");
    if (po && po != Py_None) {
        if (!PyArg_ParseTuple(po, "|dd", &a.act_params[0], &a.act_params[1])) return NULL;
    }
    if (get_view(kw, "x", x, a.layout, 0, &a.x) < 0 ||
        get_view(kw, "out", x, a.layout, 1, &a.out) < 0 ||
        get_view(kw, "r", x, a.layout, 0, &a.r) < 0 ||
        get_view(kw, "dy", x, a.layout, 0, &a.dy) < 0 ||
        get_view(kw, "yin", x, a.layout, 0, &a.yin) < 0 ||
        get_view(kw, "dres", x, a.layout, 1, &a.dres) < 0)
        return NULL;
    int pt = a.dtype == ACT_F64 ? NPY_DOUBLE : NPY_FLOAT;
    npy_intp C = a.C;
    int fwd_params = w == 1 || ((w == 2 || w == 3) && a.act_op >= 0 && act_kind == ACT_GRAD &&
                                !a.dres_ready);
    if (get_vec(kw, "mh", C, pt, fwd_params || w == 3, &a.mh) < 0 ||
        get_vec(kw, "ml", C, pt, fwd_params || w == 3, &a.ml) < 0 ||
        get_vec(kw, "scale", C, pt, fwd_params, &a.scale) < 0 ||
        get_vec(kw, "shift", C, pt, fwd_params, &a.shift) < 0 ||
        get_vec(kw, "ga", C, pt, w == 3, &a.ga) < 0 ||
        get_vec(kw, "gd", C, pt, w == 3, &a.gd) < 0 ||
        get_vec(kw, "ge", C, pt, w == 3, &a.ge) < 0 ||
        get_vec(kw, "mean", C, NPY_DOUBLE, w == 2, (const void **)&a.mean) < 0 ||
        get_vec(kw, "pw", C, pt, 0, &a.pw) < 0)
        return NULL;
    if (a.pw && (w != 2 || a.act_op >= 0 || !a.out.p || !a.dy.p || a.dres.p)) {
        PyErr_SetString(PyExc_ValueError,
                        "bn_kernel: pw is for grad_reduce with dy and out, no activation, no dres");
        return NULL;
    }
    /* prelu_grad's dweight is sum dy x over x < 0: the kernel's one-row blocks (bn_prelu_dot)
     * form dy x without a mean */
    for (npy_intp c = 0; a.pw && c < C; c++)
        if (a.mean[c] != 0.0) {
            PyErr_SetString(PyExc_ValueError, "bn_kernel: with pw, mean must be 0");
            return NULL;
        }
    if ((w == 1 || w == 3) && !a.out.p) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: out is required");
        return NULL;
    }
    if ((w == 2 || w == 3) && !a.dres_ready && !a.dy.p) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: dy is required");
        return NULL;
    }
    if ((w == 2 || w == 3) && a.dres_ready && !a.dres.p) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: dres_ready needs dres");
        return NULL;
    }
    if ((w == 2 || w == 3) && a.act_op >= 0 && act_kind == ACT_GOUT && !a.dres_ready &&
        !a.yin.p) {
        PyErr_SetString(PyExc_ValueError, "bn_kernel: a gradient from the output needs yin");
        return NULL;
    }
    const act_bn_table *t = bn_table();
    PyObject *r1 = NULL, *r2 = NULL;
    if (w == 0 || w == 2) {
        r1 = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0);
        r2 = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0);
        if (!r1 || !r2) goto fail;
    }
    int rc = 0;
    if (a.outer * a.C * a.inner > 0) { /* empty: nothing to read or write, sums 0 */
        double *d1 = r1 ? PyArray_DATA((PyArrayObject *)r1) : NULL;
        double *d2 = r2 ? PyArray_DATA((PyArrayObject *)r2) : NULL;
        ACT_RUN(a.outer * a.C * a.inner, rc = bn_run(t, w, &a, d1, d2));
    }
    if (rc < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    if (w == 1 || w == 3) Py_RETURN_NONE;
    return Py_BuildValue("(NN)", r1, r2);
fail:
    Py_XDECREF(r1);
    Py_XDECREF(r2);
    return NULL;
}

/* A 1-D real array (or None) as a contiguous float64 array of C values, a new reference;
 * NULL with *none set for None. */
static PyArrayObject *param_f64(PyObject *o, const char *name, npy_intp C, int *none)
{
    *none = o == NULL || o == Py_None;
    if (*none) return NULL;
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(o, NPY_DOUBLE, 1, 1,
                                                        NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
    if (a && PyArray_DIM(a, 0) != C) {
        PyErr_Format(PyExc_ValueError, "bn_params: %s must have %zd values", name, (Py_ssize_t)C);
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

/* bn_params(mean, invstd, weight, bias, double[, var, eps]) -> (mh, ml, scale, shift), the
 * per-channel parameters of the kernels in float32 (float64 when `double`):
 *   mh = T(mean), ml = T(mean - mh), scale = T(weight * invstd) (T(invstd) without a weight),
 *   shift = T(bias) (0 without one); with var given, invstd = 1 / sqrt(var + eps) (invstd must
 *   be None).  All in float64 before the one rounding to T: the same operations, in the same
 *   order, as the NumPy expressions they replace (batchnorm.py), so the same bits.  One call
 *   instead of ten NumPy calls: right after a pass over 25 MB of tensor every NumPy call runs
 *   with cold caches, and the ten took 60-100 us per call, against a memory floor of ~1.1 ms
 *   for 32x64x56x56 float32 on 2 threads (the whole Python side of batch_norm: 0.14-0.28 ms
 *   before, 0.13-0.20 after; interleaved rounds, 2026-12-02). */
static PyObject *params_tuple(PyObject *mo, PyObject *io, PyObject *wo, PyObject *bo, int dbl,
                              PyObject *vo, double eps)
{
    PyArrayObject *m = NULL, *iv = NULL, *w = NULL, *b = NULL, *v = NULL;
    PyObject *out[4] = {NULL, NULL, NULL, NULL}, *res = NULL;
    int none;
    m = (PyArrayObject *)PyArray_FROMANY(mo, NPY_DOUBLE, 1, 1,
                                         NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
    if (!m) return NULL;
    npy_intp C = PyArray_DIM(m, 0);
    int have_var = vo != Py_None;
    if (have_var == (io != Py_None)) {
        PyErr_SetString(PyExc_ValueError, "bn_params: give invstd or var, not both");
        goto done;
    }
    if (have_var) {
        v = param_f64(vo, "var", C, &none);
        if (!v) goto done;
    }
    else {
        iv = param_f64(io, "invstd", C, &none);
        if (!iv) goto done;
    }
    w = param_f64(wo, "weight", C, &none);
    if (!w && !none) goto done;
    b = param_f64(bo, "bias", C, &none);
    if (!b && !none) goto done;
    int tn = dbl ? NPY_DOUBLE : NPY_FLOAT;
    for (int k = 0; k < 4; k++)
        if (!(out[k] = PyArray_EMPTY(1, &C, tn, 0))) goto done;
    const double *pm = PyArray_DATA(m), *pv = v ? PyArray_DATA(v) : NULL;
    const double *pi = iv ? PyArray_DATA(iv) : NULL;
    const double *pw = w ? PyArray_DATA(w) : NULL, *pb = b ? PyArray_DATA(b) : NULL;
    for (npy_intp c = 0; c < C; c++) {
        double inv = pv ? 1.0 / sqrt(pv[c] + eps) : pi[c];
        double sc = pw ? pw[c] * inv : inv, sh = pb ? pb[c] : 0.0;
        if (dbl) {
            double h = pm[c];
            ((double *)PyArray_DATA((PyArrayObject *)out[0]))[c] = h;
            ((double *)PyArray_DATA((PyArrayObject *)out[1]))[c] = pm[c] - h;
            ((double *)PyArray_DATA((PyArrayObject *)out[2]))[c] = sc;
            ((double *)PyArray_DATA((PyArrayObject *)out[3]))[c] = sh;
        }
        else {
            float h = (float)pm[c];
            ((float *)PyArray_DATA((PyArrayObject *)out[0]))[c] = h;
            ((float *)PyArray_DATA((PyArrayObject *)out[1]))[c] = (float)(pm[c] - (double)h);
            ((float *)PyArray_DATA((PyArrayObject *)out[2]))[c] = (float)sc;
            ((float *)PyArray_DATA((PyArrayObject *)out[3]))[c] = (float)sh;
        }
    }
    res = Py_BuildValue("(OOOO)", out[0], out[1], out[2], out[3]);
done:
    for (int k = 0; k < 4; k++) Py_XDECREF(out[k]);
    Py_XDECREF(m);
    Py_XDECREF(iv);
    Py_XDECREF(v);
    Py_XDECREF(w);
    Py_XDECREF(b);
    return res;
}
static PyObject *bn_params(PyObject *self, PyObject *args)
{
    PyObject *mo, *io, *wo, *bo, *vo = Py_None;
    int dbl;
    double eps = 0.0;
    if (!PyArg_ParseTuple(args, "OOOOp|Od", &mo, &io, &wo, &bo, &dbl, &vo, &eps)) return NULL;
    return params_tuple(mo, io, wo, bo, dbl, vo, eps);
}

/* a running buffer, weight or bias the fast path takes as it is: an exact 1-D ndarray of C
 * float32/float64 values (None too, where `none_ok`) */
static int fast_vec(PyObject *o, npy_intp C, int none_ok)
{
    if (o == Py_None) return none_ok;
    if (!PyArray_CheckExact(o)) return 0;
    PyArrayObject *a = (PyArrayObject *)o;
    int t = PyArray_TYPE(a);
    return (t == NPY_FLOAT || t == NPY_DOUBLE) && PyArray_NDIM(a) == 1 &&
           PyArray_DIM(a, 0) == C;
}

/* a running buffer the training fast path updates in place itself: fast_vec's, C-contiguous,
 * aligned, native and writeable */
static int fast_running(PyObject *o, npy_intp C)
{
    if (!fast_vec(o, C, 0)) return 0;
    PyArrayObject *a = (PyArrayObject *)o;
    return PyArray_ISCARRAY(a) && PyArray_ISNOTSWAPPED(a);
}

/* The fast paths' x: fast_operand, an axis in range, not empty, and what _Plan.direct takes (an
 * inner run, NCHW, or contiguous channels; one channel without an inner run is left to the
 * planner).  Sets the kernels' shape, layout and dtype in a (zeroed by the caller) and x's
 * view; 0: NotImplemented; -1: an error is set. */
static int fast_x(PyObject *xo, PyObject *axo, act_bn_args *a, int *nd)
{
    int ax;
    if (!fast_operand(xo, -1)) return 0;
    PyArrayObject *x = (PyArrayObject *)xo;
    *nd = PyArray_NDIM(x);
    if (!fast_axis(axo, *nd, &ax)) return 0;
    npy_intp outer, C, inner;
    if (split3(x, ax, &outer, &C, &inner, "batch_norm") < 0) return -1;
    if ((inner <= 1 && C <= 1) || PyArray_SIZE(x) == 0) return 0;
    npy_intp isz = PyArray_ITEMSIZE(x);
    a->dtype = PyArray_TYPE(x) == NPY_DOUBLE ? ACT_F64 : ACT_F32;
    a->layout = inner > 1 ? ACT_BN_INNER : ACT_BN_CHAN;
    a->act_grad_kind = ACT_GRAD;
    a->outer = outer, a->C = C, a->inner = inner;
    act_bn_view v = {PyArray_BYTES(x), C * inner * isz, inner * isz, isz};
    a->x = v;
    return 1;
}
/* another operand of x's shape and layout */
static act_bn_view fast_view(const act_bn_args *a, PyArrayObject *o)
{
    act_bn_view v = a->x;
    v.p = PyArray_BYTES(o);
    return v;
}
/* the kernels' (mh, ml, scale, shift) from a params_tuple result */
static void fast_params(act_bn_args *a, PyObject *pr)
{
    a->mh = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(pr, 0));
    a->ml = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(pr, 1));
    a->scale = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(pr, 2));
    a->shift = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(pr, 3));
}
/* a float64 (C,) array as the statistics' dtype P (float32 for float32 input), a new one */
static PyObject *fast_stat_out(PyObject *v, int dbl)
{
    return PyArray_CastToType((PyArrayObject *)v, PyArray_DescrFromType(dbl ? NPY_DOUBLE :
                                                                              NPY_FLOAT), 0);
}

/* bn_infer_fast(x, running_mean, running_var, weight, bias, eps, axis, act_op, act_params,
 * out): batch_norm inference in C for the common call, or NotImplemented, and batchnorm.py
 * does the full work (every check and error message, conversions, the planner).  Taken: x and
 * out as fast_operand/fast_out (_glue.h: C-contiguous float32/float64; out x itself or no
 * overlap), running buffers, weight and bias exact 1-D float32/float64 ndarrays of C values
 * (weight and bias may be None), eps a float > 0, an int axis in range, act_op (-1: none) with
 * its parameters; no residual.  The same parameters (params_tuple, as bn_params) and the same
 * kernel as the full path's direct call, so the same bits.  The Python argument handling was
 * ~8 of a (1, 64, 16, 16) float32 call's 12 us (cProfile, timeit), against PyTorch's 8.4. */
static PyObject *bn_infer_fast(PyObject *self, PyObject *args)
{
    PyObject *xo, *rmo, *rvo, *wo, *bo, *axo, *po, *out;
    double eps;
    int act_op, nd;
    if (!PyArg_ParseTuple(args, "OOOOOdOiOO", &xo, &rmo, &rvo, &wo, &bo, &eps, &axo, &act_op,
                          &po, &out))
        return NULL;
    act_bn_args a;
    memset(&a, 0, sizeof a);
    if (!(eps > 0.0 && eps < INFINITY) || act_op < -1 || act_op >= ACT_NOPS)
        Py_RETURN_NOTIMPLEMENTED;
    int ok = fast_x(xo, axo, &a, &nd);
    if (ok < 0) return NULL;
    npy_intp C = a.C;
    if (!ok || !fast_vec(rmo, C, 0) || !fast_vec(rvo, C, 0) || !fast_vec(wo, C, 1) ||
        !fast_vec(bo, C, 1))
        Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *x = (PyArrayObject *)xo;
    if (po != Py_None && !PyArg_ParseTuple(po, "|dd", &a.act_params[0], &a.act_params[1]))
        return NULL;
    int type = PyArray_TYPE(x);
    PyArrayObject *y = fast_out(out, nd, PyArray_SHAPE(x), type, &x, 1, 1);
    if (!y) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *pr = params_tuple(rmo, Py_None, wo, bo, type == NPY_DOUBLE, rvo, eps);
    if (!pr) {
        Py_DECREF(y);
        return NULL;
    }
    a.act_op = act_op;
    a.out = fast_view(&a, y);
    fast_params(&a, pr);
    const act_bn_table *t = bn_table();
    ACT_RUN(PyArray_SIZE(x), bn_run(t, 1, &a, NULL, NULL));
    Py_DECREF(pr);
    return (PyObject *)y;
}

/* bn_train_fast(x, weight, bias, running_mean, running_var, momentum, eps, axis, act_op,
 * act_params, out) -> (y, mean, invstd): batch_norm_train's common call in C, or
 * NotImplemented (as bn_infer_fast; besides: running buffers both None or both fast_running,
 * momentum a float in [0, 1], more than one value per channel, no residual, no batch count).
 * The arithmetic of batchnorm.py's _forward_train and _update_running, operation for operation
 * in float64 (var = M2 / n, invstd = 1 / sqrt(var + eps), running = (1 - m) running + m batch
 * with var n / (n - 1) for running_var, rounded once to the buffer's dtype), the same kernels
 * and parameters: the same bits (tests/test_batchnorm.py).  The Python layer's checks, planner
 * and NumPy calls on (C,) vectors were ~38 of the 60 us of a (1, 16, 16, 64) float32 forward +
 * backward (with bn_grad_fast), where PyTorch takes 32. */
static PyObject *bn_train_fast(PyObject *self, PyObject *args)
{
    PyObject *xo, *wo, *bo, *rmo, *rvo, *axo, *po, *out;
    double mom, eps;
    int act_op, nd;
    if (!PyArg_ParseTuple(args, "OOOOOddOiOO", &xo, &wo, &bo, &rmo, &rvo, &mom, &eps, &axo,
                          &act_op, &po, &out))
        return NULL;
    act_bn_args a;
    memset(&a, 0, sizeof a);
    if (!(eps > 0.0 && eps < INFINITY) || !(mom >= 0.0 && mom <= 1.0) || act_op < -1 ||
        act_op >= ACT_NOPS)
        Py_RETURN_NOTIMPLEMENTED;
    int ok = fast_x(xo, axo, &a, &nd);
    if (ok < 0) return NULL;
    npy_intp C = a.C, n = a.outer * a.inner;
    int track = rmo != Py_None;
    if (!ok || n <= 1 || !fast_vec(wo, C, 1) || !fast_vec(bo, C, 1) ||
        (track ? !fast_running(rmo, C) || !fast_running(rvo, C) : rvo != Py_None))
        Py_RETURN_NOTIMPLEMENTED;
    PyArrayObject *x = (PyArrayObject *)xo;
    if (po != Py_None && !PyArg_ParseTuple(po, "|dd", &a.act_params[0], &a.act_params[1]))
        return NULL;
    int type = PyArray_TYPE(x), dbl = type == NPY_DOUBLE;
    PyArrayObject *y = fast_out(out, nd, PyArray_SHAPE(x), type, &x, 1, 1);
    if (!y) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *mo = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0), *vo = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0);
    PyObject *io = PyArray_EMPTY(1, &C, NPY_DOUBLE, 0), *pr = NULL, *res = NULL;
    if (!mo || !vo || !io) goto done;
    double *mean = PyArray_DATA((PyArrayObject *)mo), *var = PyArray_DATA((PyArrayObject *)vo);
    double *inv = PyArray_DATA((PyArrayObject *)io);
    const act_bn_table *t = bn_table();
    int rc = 0;
    ACT_RUN(PyArray_SIZE(x), rc = bn_run(t, 0, &a, mean, var));
    if (rc < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (npy_intp c = 0; c < C; c++) {
        var[c] = var[c] / (double)n; /* M2 -> the biased variance */
        inv[c] = 1.0 / sqrt(var[c] + eps);
    }
    if (!(pr = params_tuple(mo, io, wo, bo, dbl, Py_None, 0.0))) goto done;
    a.act_op = act_op;
    a.out = fast_view(&a, y);
    fast_params(&a, pr);
    ACT_RUN(PyArray_SIZE(x), bn_run(t, 1, &a, NULL, NULL));
    if (track) {
        /* running_mean first, then running_var read afresh: as the two NumPy assignments */
        const double f = (double)n / (double)(n - 1);
        PyArrayObject *bufs[2] = {(PyArrayObject *)rmo, (PyArrayObject *)rvo};
        for (int k = 0; k < 2; k++) {
            void *p = PyArray_DATA(bufs[k]);
            int d = PyArray_TYPE(bufs[k]) == NPY_DOUBLE;
            for (npy_intp c = 0; c < C; c++) {
                double batch = k == 0 ? mean[c] : var[c] * f;
                double old = d ? ((double *)p)[c] : (double)((float *)p)[c];
                double v = (1.0 - mom) * old + mom * batch;
                if (d)
                    ((double *)p)[c] = v;
                else
                    ((float *)p)[c] = (float)v;
            }
        }
    }
    PyObject *ms = fast_stat_out(mo, dbl), *is = ms ? fast_stat_out(io, dbl) : NULL;
    if (ms && is)
        res = Py_BuildValue("(ONN)", (PyObject *)y, ms, is);
    else
        Py_XDECREF(ms);
done:
    Py_DECREF(y);
    Py_XDECREF(mo);
    Py_XDECREF(vo);
    Py_XDECREF(io);
    Py_XDECREF(pr);
    return res;
}

/* bn_grad_fast(dy, x, mean, invstd, weight, bias, axis, training, out, act_op, act_params,
 * y) -> (dx, dweight, dbias): batch_norm_grad's common call without a residual in C, or
 * NotImplemented (x as bn_infer_fast; dy a fast_operand of x's shape and dtype; mean, invstd,
 * weight, bias fast_vec (mean and invstd required); out sharing no memory with x, dy or y).
 * act_op -1: no activation (y ignored); else an activation whose gradient comes from its
 * output y (the caller checks that it has one for these parameters), y as dy.  The
 * arithmetic of batch_norm_grad operation for operation (a = weight invstd, ge = a s1 / n,
 * gd = a invstd invstd s2 / n, rounded once to the kernels' dtype), the same kernels: the same
 * bits. */
static PyObject *bn_grad_fast(PyObject *self, PyObject *args)
{
    PyObject *dyo, *xo, *meano, *invo, *wo, *bo, *axo, *out, *po = Py_None, *yo = Py_None;
    int training, nd, act_op = -1;
    if (!PyArg_ParseTuple(args, "OOOOOOOpO|iOO", &dyo, &xo, &meano, &invo, &wo, &bo, &axo,
                          &training, &out, &act_op, &po, &yo))
        return NULL;
    if (act_op < -1 || act_op >= ACT_NOPS || (act_op >= 0 && !act_ops[act_op].has_gout))
        Py_RETURN_NOTIMPLEMENTED;
    act_bn_args a;
    memset(&a, 0, sizeof a);
    int ok = fast_x(xo, axo, &a, &nd);
    if (ok < 0) return NULL;
    npy_intp C = a.C, n = a.outer * a.inner;
    PyArrayObject *x = (PyArrayObject *)xo;
    int type = PyArray_TYPE(x), dbl = type == NPY_DOUBLE;
    if (!ok || !fast_operand(dyo, type) ||
        !PyArray_SAMESHAPE((PyArrayObject *)dyo, x) || !fast_vec(meano, C, 0) ||
        !fast_vec(invo, C, 0) || !fast_vec(wo, C, 1) || !fast_vec(bo, C, 1) ||
        (act_op >= 0 && (!fast_operand(yo, type) || !PyArray_SAMESHAPE((PyArrayObject *)yo, x))))
        Py_RETURN_NOTIMPLEMENTED;
    if (act_op >= 0 && po != Py_None &&
        !PyArg_ParseTuple(po, "|dd", &a.act_params[0], &a.act_params[1]))
        return NULL;
    a.act_op = act_op;
    a.act_grad_kind = act_op >= 0 ? ACT_GOUT : ACT_GRAD;
    PyArrayObject *ins[3] = {x, (PyArrayObject *)dyo, (PyArrayObject *)yo};
    PyArrayObject *dx = fast_out(out, nd, PyArray_SHAPE(x), type, ins, act_op >= 0 ? 3 : 2, 0);
    if (!dx) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *res = NULL, *pr = NULL, *s1o = NULL, *s2o = NULL, *g[3] = {NULL, NULL, NULL};
    PyArrayObject *md = (PyArrayObject *)PyArray_FROMANY(meano, NPY_DOUBLE, 1, 1,
                                                         NPY_ARRAY_CARRAY_RO);
    PyArrayObject *id = (PyArrayObject *)PyArray_FROMANY(invo, NPY_DOUBLE, 1, 1,
                                                         NPY_ARRAY_CARRAY_RO);
    PyArrayObject *wd = wo == Py_None ? NULL : (PyArrayObject *)PyArray_FROMANY(
                                                   wo, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO);
    if (!md || !id || (wo != Py_None && !wd)) goto done;
    if (!(pr = params_tuple((PyObject *)md, (PyObject *)id, wo, bo, dbl, Py_None, 0.0)))
        goto done;
    s1o = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0);
    s2o = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0);
    for (int k = 0; k < 3; k++)
        if (!(g[k] = PyArray_EMPTY(1, &C, dbl ? NPY_DOUBLE : NPY_FLOAT, 0))) goto done;
    if (!s1o || !s2o) goto done;
    double *s1 = PyArray_DATA((PyArrayObject *)s1o), *s2 = PyArray_DATA((PyArrayObject *)s2o);
    const double *inv = PyArray_DATA(id), *w = wd ? PyArray_DATA(wd) : NULL;
    a.dy = fast_view(&a, (PyArrayObject *)dyo);
    if (act_op >= 0) a.yin = fast_view(&a, (PyArrayObject *)yo);
    a.mean = PyArray_DATA(md);
    fast_params(&a, pr);
    const act_bn_table *t = bn_table();
    int rc = 0;
    ACT_RUN(PyArray_SIZE(x), rc = bn_run(t, 2, &a, s1, s2));
    if (rc < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (npy_intp c = 0; c < C; c++) {
        double ga = (w ? w[c] : 1.0) * inv[c], ge = 0.0, gd = 0.0;
        if (training) {
            ge = ga * s1[c] / (double)n;
            gd = ga * inv[c] * inv[c] * s2[c] / (double)n;
        }
        double v[3] = {ga, gd, ge};
        for (int k = 0; k < 3; k++) {
            if (dbl)
                ((double *)PyArray_DATA((PyArrayObject *)g[k]))[c] = v[k];
            else
                ((float *)PyArray_DATA((PyArrayObject *)g[k]))[c] = (float)v[k];
        }
    }
    a.ga = PyArray_DATA((PyArrayObject *)g[0]);
    a.gd = PyArray_DATA((PyArrayObject *)g[1]);
    a.ge = PyArray_DATA((PyArrayObject *)g[2]);
    a.out = fast_view(&a, dx);
    ACT_RUN(PyArray_SIZE(x), bn_run(t, 3, &a, NULL, NULL));
    if (!w)
        res = Py_BuildValue("(OOO)", (PyObject *)dx, Py_None, Py_None);
    else {
        for (npy_intp c = 0; c < C; c++) s2[c] *= inv[c]; /* dweight = s2 invstd */
        PyObject *dw = fast_stat_out(s2o, dbl), *db = dw ? fast_stat_out(s1o, dbl) : NULL;
        if (dw && db)
            res = Py_BuildValue("(ONN)", (PyObject *)dx, dw, db);
        else
            Py_XDECREF(dw);
    }
done:
    Py_DECREF(dx);
    Py_XDECREF(md);
    Py_XDECREF(id);
    Py_XDECREF(wd);
    Py_XDECREF(pr);
    Py_XDECREF(s1o);
    Py_XDECREF(s2o);
    for (int k = 0; k < 3; k++) Py_XDECREF(g[k]);
    return res;
}

static PyObject *bn_read_floor(PyObject *self, PyObject *args)
{
    Py_ssize_t k = PyTuple_GET_SIZE(args);
    const float *arrs[8];
    npy_intp n = -1;
    if (k < 1 || k > 8) {
        PyErr_SetString(PyExc_ValueError, "bn_read_floor: 1 to 8 arrays");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *o = PyTuple_GET_ITEM(args, i);
        PyArrayObject *a = (PyArrayObject *)o;
        if (!PyArray_Check(o) || PyArray_TYPE(a) != NPY_FLOAT || !PyArray_IS_C_CONTIGUOUS(a) ||
            !PyArray_ISALIGNED(a) || (n >= 0 && PyArray_SIZE(a) != n)) {
            PyErr_SetString(PyExc_ValueError,
                            "bn_read_floor: expected C-contiguous float32 arrays of one size");
            return NULL;
        }
        n = PyArray_SIZE(a);
        arrs[i] = (const float *)PyArray_DATA(a);
    }
    float s;
    const act_bn_table *t = bn_table();
    Py_BEGIN_ALLOW_THREADS
    s = t->read_floor(arrs, (int)k, n);
    Py_END_ALLOW_THREADS
    return PyFloat_FromDouble(s);
}

static PyObject *bn_isa(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(bn_table()->name);
}

PyMethodDef act_bnorm_methods[] = {
    {"bn_kernel", (PyCFunction)(void (*)(void))bn_kernel, METH_VARARGS | METH_KEYWORDS,
     "bn_kernel(which, **kw): one batch-norm kernel (see actcore/batchnorm.py)"},
    {"bn_params", bn_params, METH_VARARGS,
     "bn_params(mean, invstd, weight, bias, double[, var, eps]) -> (mh, ml, scale, shift)"},
    {"bn_infer_fast", bn_infer_fast, METH_VARARGS,
     "bn_infer_fast(x, rm, rv, w, b, eps, axis, act_op, params, out): batch_norm inference's "
     "common call, or NotImplemented"},
    {"bn_train_fast", bn_train_fast, METH_VARARGS,
     "bn_train_fast(x, w, b, rm, rv, momentum, eps, axis, act_op, params, out): "
     "batch_norm_train's common call, or NotImplemented"},
    {"bn_grad_fast", bn_grad_fast, METH_VARARGS,
     "bn_grad_fast(dy, x, mean, invstd, w, b, axis, training, out): batch_norm_grad's common "
     "call without an activation, or NotImplemented"},
    {"bn_read_floor", bn_read_floor, METH_VARARGS,
     "bn_read_floor(*arrays): read float32 arrays once (benchmark floor)"},
    {"bn_isa", bn_isa, METH_NOARGS, "name of the batch-norm kernel table in use"},
    {NULL, NULL, 0, NULL},
};
