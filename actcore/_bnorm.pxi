# Glue for the batch-norm kernels (included by _core.pyx; csrc/bnorm.h has the kernels).
#
# actcore/batchnorm.py does the user-facing work (argument checks, the (outer, C, inner) view,
# per-channel arithmetic, running statistics); these functions check again what the C kernels
# rely on (so a wrong call raises instead of crashing), release the GIL and run one kernel:
#
#   bn_kernel(which, **arrays_and_settings)
#     which = "stats"       -> (mean, m2)            float64 (C,)
#             "apply"       -> None                  writes out
#             "grad_reduce" -> (sum_dz, sum_dzxm)    float64 (C,); writes dres when given,
#                                                    with pw (prelu_grad) dx to out
#             "grad_apply"  -> None                  writes out (= dx)
#   bn_params(mean, invstd, weight, bias, double[, var, eps]) -> (mh, ml, scale, shift)
#   bn_infer_fast / bn_train_fast / bn_grad_fast: the common calls done here, or NotImplemented
#   bn_read_floor(a, b, ...) -> float: one OpenMP read of float32 arrays (benchmark floor)
#   bn_isa() -> name of the batch-norm kernel table in use
#
# The keyword names are string literals, which Cython interns once at import: looking ~15 of
# them up per call costs a hash-table probe each (the C glue needed a cache of interned keys
# for the same: PyDict_GetItemString built, hashed and freed a str per lookup, ~1.5 us of a
# small call, perf).

from libc.math cimport INFINITY, sqrt
from libc.string cimport memset


cdef int bn_view(dict kw, str name, PyArrayObject *x, int layout, bint writable,
                 act_bn_view *v) except -1:
    """kw[name] as an array view matching x; None/absent leaves v.p NULL"""
    memset(v, 0, sizeof(act_bn_view))
    o = kw.get(name)
    if o is None:
        return 0
    if not PyArray_Check(o):
        raise TypeError(f"bn_kernel: {name} must be an ndarray")
    cdef PyArrayObject *a = <PyArrayObject *>o
    cdef npy_intp isz = PyArray_ITEMSIZE(x)
    if (PyArray_NDIM(a) != 3 or not PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(x), 3)
            or PyArray_TYPE(a) != PyArray_TYPE(x) or not PyArray_ISALIGNED(a)
            or not PyArray_ISNOTSWAPPED(a)):
        raise ValueError(f"bn_kernel: {name} must be an aligned native 3-D array of x's shape "
                         "and dtype")
    cdef npy_intp *st = PyArray_STRIDES(a)
    cdef npy_intp *sh = PyArray_DIMS(a)
    if PyArray_SIZE(a) > 0 and ((layout == ACT_BN_INNER and sh[2] > 1 and st[2] != isz)
                                or (layout == ACT_BN_CHAN and sh[1] > 1 and st[1] != isz)):
        raise ValueError(f"bn_kernel: {name} is not contiguous along the "
                         f"{'inner' if layout == ACT_BN_INNER else 'channel'} axis")
    if writable and not PyArray_ISWRITEABLE(a):
        raise ValueError(f"bn_kernel: {name} must be writeable")
    v.p = PyArray_BYTES(a)
    v.so = st[0]
    v.sc = st[1]
    v.si = st[2]
    return 0


cdef int bn_vec(dict kw, str name, npy_intp C, int typenum, bint need,
                const void **p) except -1:
    """kw[name]: a contiguous 1-D array of C values of typenum (required when `need`)"""
    p[0] = NULL
    o = kw.get(name)
    if o is None:
        if need:
            raise ValueError(f"bn_kernel: {name} is required")
        return 0
    cdef PyArrayObject *a = <PyArrayObject *>o
    if (not PyArray_Check(o) or PyArray_NDIM(a) != 1 or PyArray_DIM(a, 0) != C
            or PyArray_TYPE(a) != typenum or not PyArray_IS_C_CONTIGUOUS(a)
            or not PyArray_ISALIGNED(a) or not PyArray_ISNOTSWAPPED(a)):
        raise ValueError(f"bn_kernel: {name} must be a contiguous 1-D array of {C} "
                         f"{'float32' if typenum == NPY_FLOAT else 'float64'} values")
    p[0] = PyArray_DATA(a)
    return 0


cdef int bn_params_of(object po, act_bn_args *a) except -1:
    """the activation's (up to 2) parameters from a tuple of floats, or None"""
    cdef Py_ssize_t k
    if po is None:
        return 0
    if len(po) > 2:
        raise TypeError(f"batch norm: an activation takes at most 2 parameters, got {len(po)}")
    for k in range(len(po)):
        a.act_params[k] = po[k]
    return 0


cdef int bn_run(const act_bn_table *t, int w, act_bn_args *a, double *d1,
                double *d2) noexcept nogil:
    """one of the four passes: 0 stats, 1 apply, 2 grad_reduce, 3 grad_apply (-1: out of
    memory)"""
    if w == 0:
        return t.stats(a, d1, d2)
    if w == 1:
        t.apply(a)
        return 0
    if w == 2:
        return t.grad_reduce(a, d1, d2)
    t.grad_apply(a)
    return 0


cdef dict BN_WHICH = {"stats": 0, "apply": 1, "grad_reduce": 2, "grad_apply": 3}


def bn_kernel(str which not None, **kw):
    """bn_kernel(which, **kw): one batch-norm kernel (see actcore/batchnorm.py)"""
    cdef int w = BN_WHICH.get(which, -1), rc = 0, pt
    cdef act_bn_args a
    cdef long layout, act_op, act_kind, dres_ready
    cdef npy_intp C, c
    cdef double *d1 = NULL
    cdef double *d2 = NULL
    if w < 0:
        raise ValueError(f"bn_kernel: unknown kernel {which}")
    xo = kw.get("x")
    if xo is None or not PyArray_Check(xo):
        raise TypeError("bn_kernel: x must be an ndarray")
    cdef PyArrayObject *x = <PyArrayObject *>xo
    memset(&a, 0, sizeof(a))
    a.dtype = dtype_index(PyArray_TYPE(x))
    layout = kw.get("layout", 0) or 0
    act_op = -1 if kw.get("act_op") is None else kw["act_op"]
    act_kind = ACT_GRAD if kw.get("act_kind") is None else kw["act_kind"]
    dres_ready = kw.get("dres_ready", 0) or 0
    if a.dtype < 0 or PyArray_NDIM(x) != 3:
        raise TypeError("bn_kernel: x must be a 3-D float16, bfloat16, float32 or float64 array")
    if layout != ACT_BN_INNER and layout != ACT_BN_CHAN:
        raise ValueError("bn_kernel: layout must be 0 or 1")
    if (act_op < -1 or act_op >= ACT_NOPS or (act_kind != ACT_GRAD and act_kind != ACT_GOUT)
            or (act_op >= 0 and act_kind == ACT_GOUT and not act_ops[act_op].has_gout)):
        raise ValueError("bn_kernel: bad act_op/act_kind")
    a.layout = <int>layout
    a.act_op = <int>act_op
    a.act_grad_kind = <int>act_kind
    a.dres_ready = <int>dres_ready
    a.outer = PyArray_DIM(x, 0)
    a.C = PyArray_DIM(x, 1)
    a.inner = PyArray_DIM(x, 2)
    bn_params_of(kw.get("params"), &a)
    bn_view(kw, "x", x, a.layout, False, &a.x)
    bn_view(kw, "out", x, a.layout, True, &a.out)
    bn_view(kw, "r", x, a.layout, False, &a.r)
    bn_view(kw, "dy", x, a.layout, False, &a.dy)
    bn_view(kw, "yin", x, a.layout, False, &a.yin)
    bn_view(kw, "dres", x, a.layout, True, &a.dres)
    pt = NPY_DOUBLE if a.dtype == ACT_F64 else NPY_FLOAT
    C = a.C
    cdef bint fwd_params = w == 1 or ((w == 2 or w == 3) and a.act_op >= 0
                                      and act_kind == ACT_GRAD and not a.dres_ready)
    bn_vec(kw, "mh", C, pt, fwd_params or w == 3, &a.mh)
    bn_vec(kw, "ml", C, pt, fwd_params or w == 3, &a.ml)
    bn_vec(kw, "scale", C, pt, fwd_params, &a.scale)
    bn_vec(kw, "shift", C, pt, fwd_params, &a.shift)
    bn_vec(kw, "ga", C, pt, w == 3, &a.ga)
    bn_vec(kw, "gd", C, pt, w == 3, &a.gd)
    bn_vec(kw, "ge", C, pt, w == 3, &a.ge)
    bn_vec(kw, "mean", C, NPY_DOUBLE, w == 2, <const void **>&a.mean)
    bn_vec(kw, "pw", C, pt, False, &a.pw)
    if a.pw != NULL and (w != 2 or a.act_op >= 0 or a.out.p == NULL or a.dy.p == NULL
                         or a.dres.p != NULL):
        raise ValueError("bn_kernel: pw is for grad_reduce with dy and out, no activation, "
                         "no dres")
    # prelu_grad's dweight is sum dy x over x < 0: the kernel's one-row blocks (bn_prelu_dot)
    # form dy x without a mean
    if a.pw != NULL:
        for c in range(C):
            if a.mean[c] != 0.0:
                raise ValueError("bn_kernel: with pw, mean must be 0")
    if (w == 1 or w == 3) and a.out.p == NULL:
        raise ValueError("bn_kernel: out is required")
    if (w == 2 or w == 3) and not a.dres_ready and a.dy.p == NULL:
        raise ValueError("bn_kernel: dy is required")
    if (w == 2 or w == 3) and a.dres_ready and a.dres.p == NULL:
        raise ValueError("bn_kernel: dres_ready needs dres")
    if ((w == 2 or w == 3) and a.act_op >= 0 and act_kind == ACT_GOUT and not a.dres_ready
            and a.yin.p == NULL):
        raise ValueError("bn_kernel: a gradient from the output needs yin")
    r1 = r2 = None
    if w == 0 or w == 2:
        r1 = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
        r2 = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
        d1 = <double *>PyArray_DATA(<PyArrayObject *>r1)
        d2 = <double *>PyArray_DATA(<PyArrayObject *>r2)
    cdef const act_bn_table *t = act_bn_current()
    cdef npy_intp n = a.outer * a.C * a.inner
    cdef run_state s
    if n > 0:  # empty: nothing to read or write, sums 0
        s = run_begin(n)
        rc = bn_run(t, w, &a, d1, d2)
        run_end(s)
    if rc < 0:
        raise MemoryError()
    if w == 1 or w == 3:
        return None
    return r1, r2


cdef object param_f64(object o, str name, npy_intp C):
    """A 1-D real array (or None) as a contiguous float64 array of C values (None for None)"""
    if o is None:
        return None
    a = PyArray_FROMANY(o, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST)
    if PyArray_DIM(<PyArrayObject *>a, 0) != C:
        raise ValueError(f"bn_params: {name} must have {C} values")
    return a


cdef inline double *f64_data(object a) noexcept:
    return NULL if a is None else <double *>PyArray_DATA(<PyArrayObject *>a)


cdef tuple params_tuple(object mo, object io, object wo, object bo, bint dbl, object vo,
                        double eps):
    """(mh, ml, scale, shift), the per-channel parameters of the kernels in float32 (float64
    when `dbl`):
      mh = T(mean), ml = T(mean - mh), scale = T(weight * invstd) (T(invstd) without a weight),
      shift = T(bias) (0 without one); with var given, invstd = 1 / sqrt(var + eps) (invstd
      must be None).
    All in float64 before the one rounding to T: the same operations, in the same order, as
    the NumPy expressions they replace (batchnorm.py), so the same bits.  One call instead of
    ten NumPy calls: right after a pass over 25 MB of tensor every NumPy call runs with cold
    caches, and the ten took 60-100 us per call, against a memory floor of ~1.1 ms for
    32x64x56x56 float32 on 2 threads (the whole Python side of batch_norm: 0.14-0.28 ms
    before, 0.13-0.20 after; interleaved rounds, 2026-12-02)."""
    cdef npy_intp C, c
    cdef double inv, sc, sh, h
    cdef float hf
    m = PyArray_FROMANY(mo, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST)
    C = PyArray_DIM(<PyArrayObject *>m, 0)
    cdef bint have_var = vo is not None
    if have_var == (io is not None):
        raise ValueError("bn_params: give invstd or var, not both")
    v = param_f64(vo, "var", C) if have_var else None
    iv = None if have_var else param_f64(io, "invstd", C)
    w = param_f64(wo, "weight", C)
    b = param_f64(bo, "bias", C)
    cdef int tn = NPY_DOUBLE if dbl else NPY_FLOAT
    o0 = PyArray_EMPTY(1, &C, tn, 0)
    o1 = PyArray_EMPTY(1, &C, tn, 0)
    o2 = PyArray_EMPTY(1, &C, tn, 0)
    o3 = PyArray_EMPTY(1, &C, tn, 0)
    cdef const double *pm = f64_data(m)
    cdef const double *pv = f64_data(v)
    cdef const double *pi = f64_data(iv)
    cdef const double *pw = f64_data(w)
    cdef const double *pb = f64_data(b)
    cdef void *q0 = PyArray_DATA(<PyArrayObject *>o0)
    cdef void *q1 = PyArray_DATA(<PyArrayObject *>o1)
    cdef void *q2 = PyArray_DATA(<PyArrayObject *>o2)
    cdef void *q3 = PyArray_DATA(<PyArrayObject *>o3)
    for c in range(C):
        inv = 1.0 / sqrt(pv[c] + eps) if pv != NULL else pi[c]
        sc = pw[c] * inv if pw != NULL else inv
        sh = pb[c] if pb != NULL else 0.0
        if dbl:
            h = pm[c]
            (<double *>q0)[c] = h
            (<double *>q1)[c] = pm[c] - h
            (<double *>q2)[c] = sc
            (<double *>q3)[c] = sh
        else:
            hf = <float>pm[c]
            (<float *>q0)[c] = hf
            (<float *>q1)[c] = <float>(pm[c] - <double>hf)
            (<float *>q2)[c] = <float>sc
            (<float *>q3)[c] = <float>sh
    return (o0, o1, o2, o3)


def bn_params(mean, invstd, weight, bias, bint double, var=None, double eps=0.0):
    """bn_params(mean, invstd, weight, bias, double[, var, eps]) -> (mh, ml, scale, shift)"""
    return params_tuple(mean, invstd, weight, bias, double, var, eps)


cdef inline bint fast_vec(object o, npy_intp C, bint none_ok) noexcept:
    """a running buffer, weight or bias the fast path takes as it is: an exact 1-D ndarray of
    C float32/float64 values (None too, where `none_ok`)"""
    if o is None:
        return none_ok
    if not PyArray_CheckExact(o):
        return False
    cdef PyArrayObject *a = <PyArrayObject *>o
    cdef int t = PyArray_TYPE(a)
    return (t == NPY_FLOAT or t == NPY_DOUBLE) and PyArray_NDIM(a) == 1 and \
        PyArray_DIM(a, 0) == C


cdef inline bint fast_running(object o, npy_intp C) noexcept:
    """a running buffer the training fast path updates in place itself: fast_vec's,
    C-contiguous, aligned, native and writeable"""
    return fast_vec(o, C, False) and PyArray_ISCARRAY(<PyArrayObject *>o) and \
        PyArray_ISNOTSWAPPED(<PyArrayObject *>o)


cdef int fast_x(object xo, object axo, act_bn_args *a, int *nd) except -1:
    """The fast paths' x: fast_operand, an axis in range, not empty, and what _Plan.direct
    takes (an inner run, NCHW, or contiguous channels; one channel without an inner run is
    left to the planner).  Sets the kernels' shape, layout and dtype in a (zeroed by the
    caller) and x's view; 0: NotImplemented, 1: taken."""
    cdef int ax
    cdef npy_intp outer, C, inner, isz
    if not fast_operand(xo, -1):
        return 0
    cdef PyArrayObject *x = <PyArrayObject *>xo
    nd[0] = PyArray_NDIM(x)
    if not fast_axis(axo, nd[0], &ax):
        return 0
    split3(x, ax, &outer, &C, &inner, "batch_norm")
    if (inner <= 1 and C <= 1) or PyArray_SIZE(x) == 0:
        return 0
    isz = PyArray_ITEMSIZE(x)
    a.dtype = ACT_F64 if PyArray_TYPE(x) == NPY_DOUBLE else ACT_F32
    a.layout = ACT_BN_INNER if inner > 1 else ACT_BN_CHAN
    a.act_grad_kind = ACT_GRAD
    a.outer = outer
    a.C = C
    a.inner = inner
    a.x.p = PyArray_BYTES(x)
    a.x.so = C * inner * isz
    a.x.sc = inner * isz
    a.x.si = isz
    return 1


cdef inline act_bn_view fast_view(const act_bn_args *a, object o) noexcept:
    """another operand of x's shape and layout"""
    cdef act_bn_view v = a.x
    v.p = PyArray_BYTES(<PyArrayObject *>o)
    return v


cdef inline int fast_params(act_bn_args *a, tuple pr) except -1:
    """the kernels' (mh, ml, scale, shift) from a params_tuple result"""
    a.mh = PyArray_DATA(<PyArrayObject *>pr[0])
    a.ml = PyArray_DATA(<PyArrayObject *>pr[1])
    a.scale = PyArray_DATA(<PyArrayObject *>pr[2])
    a.shift = PyArray_DATA(<PyArrayObject *>pr[3])
    return 0


cdef object fast_stat_out(object v, bint dbl):
    """a float64 (C,) array as the statistics' dtype P (float32 for float32 input), a new
    one"""
    return PyArray_CastToType(<PyArrayObject *>v,
                              PyArray_DescrFromType(NPY_DOUBLE if dbl else NPY_FLOAT), 0)


def bn_infer_fast(x, running_mean, running_var, weight, bias, double eps, axis, int act_op,
                  act_params, out):
    """bn_infer_fast(x, rm, rv, w, b, eps, axis, act_op, params, out): batch_norm inference in
    C for the common call, or NotImplemented, and batchnorm.py does the full work (every
    check and error message, conversions, the planner).  Taken: x and out as fast_operand /
    fast_out (C-contiguous float32/float64; out x itself or no overlap), running buffers,
    weight and bias exact 1-D float32/float64 ndarrays of C values (weight and bias may be
    None), eps a float > 0, an int axis in range, act_op (-1: none) with its parameters; no
    residual.  The same parameters (params_tuple, as bn_params) and the same kernel as the
    full path's direct call, so the same bits.  The Python argument handling was ~8 of a
    (1, 64, 16, 16) float32 call's 12 us (cProfile, timeit), against PyTorch's 8.4."""
    cdef act_bn_args a
    cdef int nd
    cdef PyArrayObject *ins[1]
    memset(&a, 0, sizeof(a))
    if not (0.0 < eps < INFINITY) or act_op < -1 or act_op >= ACT_NOPS:
        return NotImplemented
    if not fast_x(x, axis, &a, &nd):
        return NotImplemented
    cdef npy_intp C = a.C
    if (not fast_vec(running_mean, C, False) or not fast_vec(running_var, C, False)
            or not fast_vec(weight, C, True) or not fast_vec(bias, C, True)):
        return NotImplemented
    bn_params_of(act_params, &a)
    ins[0] = <PyArrayObject *>x
    cdef int type = PyArray_TYPE(ins[0])
    y = fast_out(out, nd, PyArray_SHAPE(ins[0]), type, ins, 1, True)
    if y is None:
        return NotImplemented
    pr = params_tuple(running_mean, None, weight, bias, type == NPY_DOUBLE, running_var, eps)
    a.act_op = act_op
    a.out = fast_view(&a, y)
    fast_params(&a, pr)
    cdef const act_bn_table *t = act_bn_current()
    cdef run_state s = run_begin(PyArray_SIZE(ins[0]))
    bn_run(t, 1, &a, NULL, NULL)
    run_end(s)
    return y


def bn_train_fast(x, weight, bias, running_mean, running_var, double momentum, double eps,
                  axis, int act_op, act_params, out):
    """bn_train_fast(x, w, b, rm, rv, momentum, eps, axis, act_op, params, out) -> (y, mean,
    invstd): batch_norm_train's common call here, or NotImplemented (as bn_infer_fast;
    besides: running buffers both None or both fast_running, momentum a float in [0, 1], more
    than one value per channel, no residual, no batch count).  The arithmetic of
    batchnorm.py's _forward_train and _update_running, operation for operation in float64
    (var = M2 / n, invstd = 1 / sqrt(var + eps), running = (1 - m) running + m batch with var
    n / (n - 1) for running_var, rounded once to the buffer's dtype), the same kernels and
    parameters: the same bits (tests/test_batchnorm.py).  The Python layer's checks, planner
    and NumPy calls on (C,) vectors were ~38 of the 60 us of a (1, 16, 16, 64) float32
    forward + backward (with bn_grad_fast), where PyTorch takes 32."""
    cdef act_bn_args a
    cdef int nd, rc, k
    cdef PyArrayObject *ins[1]
    cdef npy_intp c
    cdef double f, batch, old, v
    cdef void *p
    cdef bint d
    memset(&a, 0, sizeof(a))
    if (not (0.0 < eps < INFINITY) or not (0.0 <= momentum <= 1.0) or act_op < -1
            or act_op >= ACT_NOPS):
        return NotImplemented
    if not fast_x(x, axis, &a, &nd):
        return NotImplemented
    cdef npy_intp C = a.C, n = a.outer * a.inner
    cdef bint track = running_mean is not None
    if (n <= 1 or not fast_vec(weight, C, True) or not fast_vec(bias, C, True)
            or not ((fast_running(running_mean, C) and fast_running(running_var, C)) if track
                    else running_var is None)):
        return NotImplemented
    bn_params_of(act_params, &a)
    ins[0] = <PyArrayObject *>x
    cdef int type = PyArray_TYPE(ins[0])
    cdef bint dbl = type == NPY_DOUBLE
    y = fast_out(out, nd, PyArray_SHAPE(ins[0]), type, ins, 1, True)
    if y is None:
        return NotImplemented
    mo = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
    vo = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
    io = PyArray_EMPTY(1, &C, NPY_DOUBLE, 0)
    cdef double *mean = f64_data(mo)
    cdef double *var = f64_data(vo)
    cdef double *inv = f64_data(io)
    cdef const act_bn_table *t = act_bn_current()
    cdef npy_intp size = PyArray_SIZE(ins[0])
    cdef run_state s = run_begin(size)
    rc = bn_run(t, 0, &a, mean, var)
    run_end(s)
    if rc < 0:
        raise MemoryError()
    for c in range(C):
        var[c] = var[c] / <double>n  # M2 -> the biased variance
        inv[c] = 1.0 / sqrt(var[c] + eps)
    pr = params_tuple(mo, io, weight, bias, dbl, None, 0.0)
    a.act_op = act_op
    a.out = fast_view(&a, y)
    fast_params(&a, pr)
    s = run_begin(size)
    bn_run(t, 1, &a, NULL, NULL)
    run_end(s)
    if track:
        # running_mean first, then running_var read afresh: as the two NumPy assignments
        f = <double>n / <double>(n - 1)
        for k in range(2):
            buf = running_mean if k == 0 else running_var
            p = PyArray_DATA(<PyArrayObject *>buf)
            d = PyArray_TYPE(<PyArrayObject *>buf) == NPY_DOUBLE
            for c in range(C):
                batch = mean[c] if k == 0 else var[c] * f
                old = (<double *>p)[c] if d else <double>(<float *>p)[c]
                v = (1.0 - momentum) * old + momentum * batch
                if d:
                    (<double *>p)[c] = v
                else:
                    (<float *>p)[c] = <float>v
    return y, fast_stat_out(mo, dbl), fast_stat_out(io, dbl)


def bn_grad_fast(dy, x, mean, invstd, weight, bias, axis, bint training, out, int act_op=-1,
                 act_params=None, y=None):
    """bn_grad_fast(dy, x, mean, invstd, w, b, axis, training, out[, act_op, params, y]) ->
    (dx, dweight, dbias): batch_norm_grad's common call without a residual here, or
    NotImplemented (x as bn_infer_fast; dy a fast_operand of x's shape and dtype; mean,
    invstd, weight, bias fast_vec (mean and invstd required); out sharing no memory with x, dy
    or y).  act_op -1: no activation (y ignored); else an activation whose gradient comes from
    its output y (the caller checks that it has one for these parameters), y as dy.  The
    arithmetic of batch_norm_grad operation for operation (a = weight invstd, ge = a s1 / n,
    gd = a invstd invstd s2 / n, rounded once to the kernels' dtype), the same kernels: the
    same bits."""
    cdef act_bn_args a
    cdef int nd, rc, k
    cdef PyArrayObject *ins[3]
    cdef npy_intp c
    cdef double ga, ge, gd
    if act_op < -1 or act_op >= ACT_NOPS or (act_op >= 0 and not act_ops[act_op].has_gout):
        return NotImplemented
    memset(&a, 0, sizeof(a))
    if not fast_x(x, axis, &a, &nd):
        return NotImplemented
    cdef npy_intp C = a.C, n = a.outer * a.inner
    ins[0] = <PyArrayObject *>x
    cdef int type = PyArray_TYPE(ins[0])
    cdef bint dbl = type == NPY_DOUBLE
    if (not fast_operand(dy, type) or not PyArray_SAMESHAPE(<PyArrayObject *>dy, ins[0])
            or not fast_vec(mean, C, False) or not fast_vec(invstd, C, False)
            or not fast_vec(weight, C, True) or not fast_vec(bias, C, True)
            or (act_op >= 0 and (not fast_operand(y, type)
                                 or not PyArray_SAMESHAPE(<PyArrayObject *>y, ins[0])))):
        return NotImplemented
    if act_op >= 0:
        bn_params_of(act_params, &a)
    a.act_op = act_op
    a.act_grad_kind = ACT_GOUT if act_op >= 0 else ACT_GRAD
    ins[1] = <PyArrayObject *>dy
    ins[2] = <PyArrayObject *>y
    dx = fast_out(out, nd, PyArray_SHAPE(ins[0]), type, ins, 3 if act_op >= 0 else 2, False)
    if dx is None:
        return NotImplemented
    md = PyArray_FROMANY(mean, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO)
    idd = PyArray_FROMANY(invstd, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO)
    wd = None if weight is None else PyArray_FROMANY(weight, NPY_DOUBLE, 1, 1,
                                                     NPY_ARRAY_CARRAY_RO)
    pr = params_tuple(md, idd, weight, bias, dbl, None, 0.0)
    s1o = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
    s2o = PyArray_ZEROS(1, &C, NPY_DOUBLE, 0)
    cdef int gt = NPY_DOUBLE if dbl else NPY_FLOAT
    g = (PyArray_EMPTY(1, &C, gt, 0), PyArray_EMPTY(1, &C, gt, 0), PyArray_EMPTY(1, &C, gt, 0))
    cdef double *s1 = f64_data(s1o)
    cdef double *s2 = f64_data(s2o)
    cdef const double *inv = f64_data(idd)
    cdef const double *w = f64_data(wd)
    a.dy = fast_view(&a, dy)
    if act_op >= 0:
        a.yin = fast_view(&a, y)
    a.mean = f64_data(md)
    fast_params(&a, pr)
    cdef const act_bn_table *t = act_bn_current()
    cdef npy_intp size = PyArray_SIZE(ins[0])
    cdef run_state s = run_begin(size)
    rc = bn_run(t, 2, &a, s1, s2)
    run_end(s)
    if rc < 0:
        raise MemoryError()
    cdef void *pg[3]
    for k in range(3):
        pg[k] = PyArray_DATA(<PyArrayObject *>g[k])
    cdef double gv[3]
    for c in range(C):
        ga = (w[c] if w != NULL else 1.0) * inv[c]
        ge = 0.0
        gd = 0.0
        if training:
            ge = ga * s1[c] / <double>n
            gd = ga * inv[c] * inv[c] * s2[c] / <double>n
        gv[0] = ga
        gv[1] = gd
        gv[2] = ge
        for k in range(3):
            if dbl:
                (<double *>pg[k])[c] = gv[k]
            else:
                (<float *>pg[k])[c] = <float>gv[k]
    a.ga = pg[0]
    a.gd = pg[1]
    a.ge = pg[2]
    a.out = fast_view(&a, dx)
    s = run_begin(size)
    bn_run(t, 3, &a, NULL, NULL)
    run_end(s)
    if w == NULL:
        return dx, None, None
    for c in range(C):
        s2[c] *= inv[c]  # dweight = s2 invstd
    return dx, fast_stat_out(s2o, dbl), fast_stat_out(s1o, dbl)


def bn_read_floor(*arrays):
    """bn_read_floor(*arrays): read float32 arrays once (benchmark floor)"""
    cdef const float *arrs[8]
    cdef npy_intp n = -1
    cdef int k = len(arrays), i
    cdef PyArrayObject *a
    cdef float total
    if k < 1 or k > 8:
        raise ValueError("bn_read_floor: 1 to 8 arrays")
    for i in range(k):
        o = arrays[i]
        a = <PyArrayObject *>o
        if (not PyArray_Check(o) or PyArray_TYPE(a) != NPY_FLOAT
                or not PyArray_IS_C_CONTIGUOUS(a) or not PyArray_ISALIGNED(a)
                or (n >= 0 and PyArray_SIZE(a) != n)):
            raise ValueError("bn_read_floor: expected C-contiguous float32 arrays of one size")
        n = PyArray_SIZE(a)
        arrs[i] = <const float *>PyArray_DATA(a)
    cdef const act_bn_table *t = act_bn_current()
    with nogil:
        total = t.read_floor(arrs, k, n)
    return total


def bn_isa():
    """name of the batch-norm kernel table in use"""
    return act_bn_current().name.decode()
