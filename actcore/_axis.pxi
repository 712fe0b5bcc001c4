# Glue for the axis functions (included by _core.pyx): softmax family, GLU family, maxout.
# actcore/axis.py validates arguments, makes operands C-contiguous float32/float64 and
# allocates outputs; the *_kernel functions re-check what the kernels rely on (so a wrong call
# is a ValueError, never a crash), pick the table of the current target and run it.  The *_fast
# functions do the common call from the raw arguments, or answer NotImplemented.


cdef int check(PyArrayObject *a, int type, bint out, str fname, str what) except -1:
    """a C-contiguous, aligned array of dtype `type` (writeable if `out`)"""
    if (not PyArray_IS_C_CONTIGUOUS(a) or not PyArray_ISALIGNED(a) or PyArray_TYPE(a) != type
            or (out and not PyArray_ISWRITEABLE(a))):
        raise ValueError(f"{fname}: {what} must be an aligned C-contiguous"
                         f"{' writeable' if out else ''} array of the computation dtype")
    return 0


cdef int axis_dtype(PyArrayObject *x, str fname) except -1:
    """the kernels' dtype index: float32 or float64"""
    cdef int t = PyArray_TYPE(x)
    if t == NPY_FLOAT:
        return ACT_F32
    if t == NPY_DOUBLE:
        return ACT_F64
    raise TypeError(f"{fname}: kernel dtype must be float32 or float64")


def softmax_kernel(int op, x, x2, mask, y, int axis):
    """softmax_kernel(op, x, dy|None, mask|None, y, axis): softmax family (actcore/axis.py)"""
    fn = "softmax_kernel"
    cdef PyArrayObject *xa = as_array(x, fn, "x")
    cdef PyArrayObject *ya = as_array(y, fn, "y")
    cdef PyArrayObject *a2
    cdef npy_intp outer, L, inner, need
    cdef const void *p2 = NULL
    cdef const unsigned char *mk = NULL
    cdef int rc = 0, dt
    if op < 0 or op >= ACT_AX_NSOFTMAX:
        raise ValueError("softmax_kernel: unknown op")
    dt = axis_dtype(xa, fn)
    check(xa, PyArray_TYPE(xa), False, fn, "x")
    check(ya, PyArray_TYPE(xa), True, fn, "y")
    split3(xa, axis, &outer, &L, &inner, fn)
    need = outer * inner if op == ACT_AX_LOGSUMEXP else PyArray_SIZE(xa)
    if PyArray_SIZE(ya) != need:
        raise ValueError("softmax_kernel: y has the wrong size")
    if op >= ACT_AX_SOFTMAX_GRAD:
        a2 = as_array(x2, fn, "dy")
        check(a2, PyArray_TYPE(xa), False, fn, "dy")
        if PyArray_SIZE(a2) != PyArray_SIZE(xa):
            raise ValueError("softmax_kernel: dy has the wrong size")
        p2 = PyArray_DATA(a2)
    if mask is not None:
        if op != ACT_AX_SOFTMAX or not PyArray_Check(mask):
            raise ValueError("softmax_kernel: bad mask")
        check(<PyArrayObject *>mask, NPY_BOOL, False, fn, "mask")
        if PyArray_SIZE(<PyArrayObject *>mask) != PyArray_SIZE(xa):
            raise ValueError("softmax_kernel: bad mask")
        mk = <const unsigned char *>PyArray_DATA(<PyArrayObject *>mask)
    cdef const act_axis_fns *t = act_axis_current()
    cdef const void *px = PyArray_DATA(xa)
    cdef void *py = PyArray_DATA(ya)
    cdef run_state s
    if PyArray_SIZE(ya) > 0:
        s = run_begin(PyArray_SIZE(xa))
        rc = t.softmax(op, dt, px, p2, mk, py, outer, L, inner)
        run_end(s)
    if rc < 0:
        raise MemoryError()


# ---- fast paths: the common call done here, without axis.py's argument handling (~2 us of a
# (1, 1000) softmax, against ~0.5 us of arithmetic).  Anything unusual returns NotImplemented
# and axis.py does the full work (conversions, broadcasting, every error message); what they
# accept: see fast_operand & co. in _core.pyx (and an int axis in range).

def softmax_fast(int op, x, x2, axis, out):
    """softmax_fast(op, x, dy|None, axis, out|None): the common softmax-family call
    (softmax / log_softmax without where=, and their gradients with x = y, x2 = dy of one
    shape), or NotImplemented"""
    cdef bint grad = op == ACT_AX_SOFTMAX_GRAD or op == ACT_AX_LOG_SOFTMAX_GRAD
    cdef PyArrayObject *ins[2]
    cdef int nd, type, ax, rc = 0
    cdef npy_intp outer, L, inner
    if ((not grad and op != ACT_AX_SOFTMAX and op != ACT_AX_LOG_SOFTMAX)
            or not fast_operand(x, -1) or grad != (x2 is not None)):
        return NotImplemented
    ins[0] = <PyArrayObject *>x
    ins[1] = <PyArrayObject *>x2
    nd = PyArray_NDIM(ins[0])
    type = PyArray_TYPE(ins[0])
    if grad and (not fast_operand(x2, type) or PyArray_NDIM(ins[1]) != nd
                 or not PyArray_CompareLists(PyArray_SHAPE(ins[1]), PyArray_SHAPE(ins[0]), nd)):
        return NotImplemented
    if not fast_axis(axis, nd, &ax):
        return NotImplemented
    y = fast_out(out, nd, PyArray_SHAPE(ins[0]), type, ins, 2 if grad else 1, True)
    if y is None:
        return NotImplemented
    split3(ins[0], ax, &outer, &L, &inner, "softmax_fast")
    cdef npy_intp n = PyArray_SIZE(ins[0])
    cdef const void *px = PyArray_DATA(ins[0])
    cdef const void *p2 = PyArray_DATA(ins[1]) if grad else NULL
    cdef void *py = PyArray_DATA(<PyArrayObject *>y)
    cdef int dt = ACT_F32 if type == NPY_FLOAT else ACT_F64
    cdef run_state s
    if n > 0:
        s = run_begin(n)
        rc = act_axis_current().softmax(op, dt, px, p2, NULL, py, outer, L, inner)
        run_end(s)
    if rc < 0:
        raise MemoryError()
    return y


def glu_fast(int op, x, b, axis, out):
    """glu_fast(op, x, b|None, axis, out|None): the GLU family's forward, x split in halves
    along axis (b None) or two operands of one shape (no broadcasting), or NotImplemented"""
    cdef int nd, type, ax
    cdef npy_intp shape[NPY_MAXDIMS]
    cdef npy_intp outer, n, istride, L, inner
    cdef PyArrayObject *ins[2]
    if op < 0 or op >= ACT_NGLU or not fast_operand(x, -1):
        return NotImplemented
    ins[0] = <PyArrayObject *>x
    ins[1] = NULL
    nd = PyArray_NDIM(ins[0])
    type = PyArray_TYPE(ins[0])
    if not fast_axis(axis, nd, &ax):
        return NotImplemented
    memcpy(shape, PyArray_SHAPE(ins[0]), sizeof(npy_intp) * <size_t>nd)
    if b is None:
        split3(ins[0], ax, &outer, &L, &inner, "glu_fast")
        if L % 2:
            return NotImplemented
        shape[ax] = L // 2
        n = L // 2 * inner
        istride = L * inner
    else:
        if not fast_operand(b, type):
            return NotImplemented
        ins[1] = <PyArrayObject *>b
        if PyArray_NDIM(ins[1]) != nd or not PyArray_CompareLists(PyArray_SHAPE(ins[1]), shape,
                                                                  nd):
            return NotImplemented
        outer = 1
        n = PyArray_SIZE(ins[0])
        istride = n
    y = fast_out(out, nd, shape, type, ins, 1 if b is None else 2, b is not None)
    if y is None:
        return NotImplemented
    cdef const char *pa = PyArray_BYTES(ins[0])
    cdef const char *pb = (pa + n * PyArray_ITEMSIZE(ins[0]) if b is None
                           else PyArray_BYTES(ins[1]))
    cdef void *py = PyArray_DATA(<PyArrayObject *>y)
    cdef int dt = ACT_F32 if type == NPY_FLOAT else ACT_F64
    cdef run_state s
    if outer * n > 0:
        s = run_begin(outer * n)
        act_axis_current().glu(op, dt, pa, pb, istride, py, outer, n)
        run_end(s)
    return y


def glu_kernel(int op, a, b, y, int axis):
    """glu_kernel(op, a, b|None, y, axis): b None -> a is x, split in halves along axis into
    y; else a and b are same-size operands"""
    fn = "glu_kernel"
    cdef PyArrayObject *aa = as_array(a, fn, "x")
    cdef PyArrayObject *ya = as_array(y, fn, "y")
    cdef PyArrayObject *ba
    cdef npy_intp outer, n, istride, L, inner
    cdef const char *pa = PyArray_BYTES(aa)
    cdef const char *pb
    if op < 0 or op >= ACT_NGLU:
        raise ValueError("glu_kernel: unknown op")
    cdef int dt = axis_dtype(aa, fn)
    check(aa, PyArray_TYPE(aa), False, fn, "x")
    check(ya, PyArray_TYPE(aa), True, fn, "y")
    if b is None:
        split3(aa, axis, &outer, &L, &inner, fn)
        if L % 2 or PyArray_SIZE(ya) * 2 != PyArray_SIZE(aa):
            raise ValueError("glu_kernel: odd axis or wrong y size")
        n = L // 2 * inner
        istride = L * inner
        pb = pa + n * PyArray_ITEMSIZE(aa)
    else:
        ba = as_array(b, fn, "b")
        check(ba, PyArray_TYPE(aa), False, fn, "b")
        if PyArray_SIZE(ba) != PyArray_SIZE(aa) or PyArray_SIZE(ya) != PyArray_SIZE(aa):
            raise ValueError("glu_kernel: a, b, y sizes differ")
        outer = 1
        n = PyArray_SIZE(aa)
        istride = n
        pb = PyArray_BYTES(ba)
    cdef const act_axis_fns *t = act_axis_current()
    cdef void *py = PyArray_DATA(ya)
    cdef run_state s
    if outer * n > 0:
        s = run_begin(outer * n)
        t.glu(op, dt, pa, pb, istride, py, outer, n)
        run_end(s)


def glu_grad_kernel(int op, dy, a, b, da, db, int axis):
    """glu_grad_kernel(op, dy, a, b|None, da, db|None, axis): b None -> a is x and da is dx
    (x's shape), db ignored; else two operands and two outputs"""
    fn = "glu_grad_kernel"
    cdef PyArrayObject *dya = as_array(dy, fn, "dy")
    cdef PyArrayObject *aa = as_array(a, fn, "x")
    cdef PyArrayObject *daa = as_array(da, fn, "dx")
    cdef PyArrayObject *ba
    cdef PyArrayObject *dba
    cdef npy_intp outer, n, stride, L, inner
    if op < 0 or op >= ACT_NGLU:
        raise ValueError("glu_grad_kernel: unknown op")
    cdef int dt = axis_dtype(aa, fn), ty = PyArray_TYPE(aa)
    check(aa, ty, False, fn, "x")
    check(dya, ty, False, fn, "dy")
    check(daa, ty, True, fn, "dx")
    cdef size_t isz = PyArray_ITEMSIZE(aa)
    cdef const char *pa = PyArray_BYTES(aa)
    cdef const char *pb
    cdef char *pda = PyArray_BYTES(daa)
    cdef char *pdb
    if b is None:
        split3(aa, axis, &outer, &L, &inner, fn)
        if (L % 2 or PyArray_SIZE(dya) * 2 != PyArray_SIZE(aa)
                or PyArray_SIZE(daa) != PyArray_SIZE(aa)):
            raise ValueError("glu_grad_kernel: odd axis or wrong sizes")
        n = L // 2 * inner
        stride = L * inner
        pb = pa + n * isz
        pdb = pda + n * isz
    else:
        ba = as_array(b, fn, "b")
        dba = as_array(db, fn, "db")
        check(ba, ty, False, fn, "b")
        check(dba, ty, True, fn, "db")
        n = PyArray_SIZE(aa)
        if (PyArray_SIZE(ba) != n or PyArray_SIZE(dya) != n or PyArray_SIZE(daa) != n
                or PyArray_SIZE(dba) != n):
            raise ValueError("glu_grad_kernel: operand sizes differ")
        outer = 1
        stride = n
        pb = PyArray_BYTES(ba)
        pdb = PyArray_BYTES(dba)
    cdef const act_axis_fns *t = act_axis_current()
    cdef const void *pdy = PyArray_DATA(dya)
    cdef run_state s
    if outer * n > 0:
        s = run_begin(outer * n)
        t.glu_grad(op, dt, pdy, pa, pb, stride, pda, pdb, stride, outer, n)
        run_end(s)


cdef maxout_common(object dy, object x, object y, Py_ssize_t pool, int axis, bint grad):
    """maxout_kernel(x, y, pool, axis) / maxout_grad_kernel(dy, x, dx, pool, axis)"""
    fn = "maxout_grad_kernel" if grad else "maxout_kernel"
    cdef PyArrayObject *dya = as_array(dy, fn, "dy") if grad else NULL
    cdef PyArrayObject *xa = as_array(x, fn, "x")
    cdef PyArrayObject *ya = as_array(y, fn, "dx" if grad else "y")
    cdef npy_intp outer, C, inner
    cdef int dt = axis_dtype(xa, fn), ty = PyArray_TYPE(xa)
    check(xa, ty, False, fn, "x")
    check(ya, ty, True, fn, "dx" if grad else "y")
    if grad:
        check(dya, ty, False, fn, "dy")
    split3(xa, axis, &outer, &C, &inner, fn)
    if pool < 1 or C % pool:
        raise ValueError(f"{fn}: pool_size must divide the channel count")
    cdef npy_intp G = C // pool
    cdef npy_intp nsmall = outer * G * inner
    if (PyArray_SIZE(ya) != (PyArray_SIZE(xa) if grad else nsmall)
            or (grad and PyArray_SIZE(dya) != nsmall)):
        raise ValueError(f"{fn}: operand sizes do not match")
    cdef const act_axis_fns *t = act_axis_current()
    cdef const void *pdy = PyArray_DATA(dya) if grad else NULL
    cdef const void *px = PyArray_DATA(xa)
    cdef void *py = PyArray_DATA(ya)
    cdef run_state s
    if nsmall > 0:
        s = run_begin(PyArray_SIZE(xa))
        if grad:
            t.maxout_grad(dt, pdy, px, py, outer, G, pool, inner)
        else:
            t.maxout(dt, px, py, outer, G, pool, inner)
        run_end(s)


def maxout_kernel(x, y, Py_ssize_t pool, int axis):
    """maxout_kernel(x, y, pool, axis)"""
    maxout_common(None, x, y, pool, axis, False)


def maxout_grad_kernel(dy, x, dx, Py_ssize_t pool, int axis):
    """maxout_grad_kernel(dy, x, dx, pool, axis)"""
    maxout_common(dy, x, dx, pool, axis, True)
