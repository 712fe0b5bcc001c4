# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""actcore._core: the glue between NumPy and the C cores in csrc/.

It makes one ufunc per (op, kind) of csrc/ops.def, all sharing one inner loop
(act_eltwise_loop), with float16/float32/float64 loops; registers bfloat16 loops on them once
ml_dtypes is imported (register_bfloat16, called by actcore/_bfloat16.py); and exposes
dispatch, threads and the memory-floor kernels.  The axis functions (_axis.pxi) and batch norm
(_bnorm.pxi) are part of this one module, so that every kernel family follows the one dispatch
state of csrc/dispatch.c.  Everything numeric lives in csrc/, which never includes Python.h.
"""

from cpython.exc cimport PyErr_Clear, PyErr_ExceptionMatches
from cpython.long cimport PyLong_CheckExact
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF, Py_XINCREF
from libc.stddef cimport ptrdiff_t
from libc.stdlib cimport getenv, malloc
from libc.string cimport memcpy, strdup

from actcore._csrc cimport *

import warnings

_import_array()
_import_umath()

# The dtypes with a NumPy type number known at compile time come first (act.h): the ufuncs are
# made with these; bfloat16 (ACT_BF16) is a user dtype, its loops are added later.
cdef enum:
    NBUILTIN = 3

# Run a kernel over `nwork` elements with the GIL released only when the work is worth it.
# Releasing and taking it back costs a futex round trip, ~12% of a (1, 1) softmax call (perf);
# NumPy's own loops keep the GIL below 500 elements (NPY_BEGIN_THREADS_THRESHOLDED), and below
# ~8K elements our kernels take a few microseconds, less than another Python thread would wait
# for the GIL anyway.  `with nogil` cannot be conditional at run time (Cython 3 takes only
# compile-time conditions), hence the pair below, which is what Py_BEGIN/END_ALLOW_THREADS
# expand to.  Between run_begin and run_end only C may run: kernel calls on C variables.  Both
# also keep the caller's floating-point flags (act_fp_save, act.h).
cdef enum:
    GIL_MIN = 8192

cdef struct run_state:
    PyThreadState *ts
    int fp

cdef inline run_state run_begin(Py_ssize_t nwork) noexcept:
    cdef run_state s
    s.fp = act_fp_save()
    s.ts = PyEval_SaveThread() if nwork >= GIL_MIN else NULL
    return s

cdef inline void run_end(run_state s) noexcept:
    if s.ts != NULL:
        PyEval_RestoreThread(s.ts)
    act_fp_restore(s.fp)


# ---- the elementwise ufuncs

cdef act_loop_data loop_data[ACT_NOPS][ACT_NKINDS][ACT_NDTYPES]
cdef void *loop_data_ptrs[ACT_NOPS][ACT_NKINDS][NBUILTIN]
cdef char *type_arrays[ACT_NOPS][ACT_NKINDS]  # nin + 1 types per built-in dtype, contiguous
cdef char made_bf16[ACT_NOPS][ACT_NKINDS]     # whether each ufunc has its bfloat16 loop
cdef char dtype_nums[NBUILTIN]
dtype_nums[:] = [NPY_HALF, NPY_FLOAT, NPY_DOUBLE]
KIND_SUFFIX = ("", "_grad", "_grad_from_output")

# bfloat16's NumPy type number once register_bfloat16 has run, else -1 (_bnorm.pxi uses it)
cdef int bf16_type = -1
# the ufuncs make_ufuncs made, by (op, kind): they live as long as the module
cdef dict made = {}


cdef void ufunc_loop(char **args, const npy_intp *dims, const npy_intp *steps,
                     void *data) noexcept nogil:
    act_eltwise_loop(args, <const ptrdiff_t *>dims, <const ptrdiff_t *>steps,
                     <const act_loop_data *>data)


cdef PyUFuncGenericFunction loop_funcs[NBUILTIN]
loop_funcs[:] = [ufunc_loop, ufunc_loop, ufunc_loop]


cdef int add_bf16_loop(int op, int kind) except -1:
    """The bfloat16 loop of one ufunc: the same inner loop, its own act_loop_data (dtype
    ACT_BF16).  PyUFunc_RegisterLoopForType is the API for legacy user dtypes such as
    ml_dtypes' (NumPy 2 also wraps the loop as an ArrayMethod for the all-bfloat16 signature;
    mixed inputs reach it through type_resolver below)."""
    cdef int types[5]  # up to 4 inputs + the output
    cdef int k, nargs
    uf = made.get((op, kind))
    if made_bf16[op][kind] or uf is None or bf16_type < 0:
        return 0
    nargs = (1 if kind == ACT_FWD else 2) + act_ops[op].nparams + 1
    for k in range(nargs):
        types[k] = bf16_type
    loop_data[op][kind][ACT_BF16].op = op
    loop_data[op][kind][ACT_BF16].kind = kind
    loop_data[op][kind][ACT_BF16].dtype = ACT_BF16
    PyUFunc_RegisterLoopForType(<PyUFuncObject *>uf, bf16_type, ufunc_loop, types,
                                &loop_data[op][kind][ACT_BF16])
    made_bf16[op][kind] = 1
    return 0


cdef bint bf16_mixed(PyUFuncObject *ufunc, PyArrayObject **operands, PyObject *type_tup,
                     PyArray_Descr **out_dtypes) noexcept:
    """bfloat16 inputs mixed with others (only all-bfloat16 calls find the bfloat16 loop without
    a resolver): the loop of the inputs' result type when that is bfloat16, as NumPy's own
    ufuncs pick it (np.multiply(x_bf16, 0.2) is bfloat16).  The default resolver would not: it
    checks a Python float as a float64 that cannot be cast safely to bfloat16, and takes the
    float32 loop.  The bfloat16 operands go first, because np.result_type(0.2, x_bf16) is
    float32 while np.result_type(x_bf16, 0.2) is bfloat16 (ml_dtypes 0.7, NumPy 2.4).  True:
    resolved; False: not a bfloat16 case (or no common type): the default resolver decides."""
    cdef int nin = ufunc.nin, n = 0, i
    cdef PyArrayObject *ops[4]
    cdef PyArray_Descr *rt
    if bf16_type < 0 or type_tup != NULL or nin > 4:
        return False
    for i in range(nin):
        if PyArray_DESCR(operands[i]).type_num == bf16_type:
            ops[n] = operands[i]
            n += 1
    if n == 0:
        return False
    for i in range(nin):
        if PyArray_DESCR(operands[i]).type_num != bf16_type:
            ops[n] = operands[i]
            n += 1
    rt = PyArray_ResultType(nin, ops, 0, NULL)
    if rt == NULL:
        PyErr_Clear()  # e.g. complex input: the default resolver raises our TypeError
        return False
    if rt.type_num != bf16_type:
        Py_XDECREF(<PyObject *>rt)
        return False
    for i in range(ufunc.nargs):
        Py_XINCREF(<PyObject *>rt)
        out_dtypes[i] = rt
    Py_XDECREF(<PyObject *>rt)
    return True


cdef int type_resolver(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands,
                       PyObject *type_tup, PyArray_Descr **out_dtypes) except -1:
    """NumPy's own "no loop" message names neither the dtype nor what is accepted: wrap the
    default resolver and say both (SPEC §1: TypeError naming the function and the dtype)."""
    cdef int i, r
    if bf16_mixed(ufunc, operands, type_tup, out_dtypes):
        return 0
    r = PyUFunc_DefaultTypeResolver(ufunc, casting, operands, type_tup, out_dtypes)
    if r < 0 and PyErr_ExceptionMatches(TypeError):
        PyErr_Clear()
        names = ", ".join([str(<object><PyObject *>PyArray_DESCR(operands[i]))
                           for i in range(ufunc.nin)])
        accepted = (", or bfloat16" if bf16_type >= 0
                    else " (bfloat16 needs the ml_dtypes package)")
        raise TypeError(f"{ufunc.name.decode()}: unsupported input dtype ({names}); expected "
                        f"float16, float32 or float64{accepted} (integer and bool inputs are "
                        "converted as for np.tanh)")
    return r


def make_ufuncs(dict docs not None):
    """make_ufuncs(docs) -> {name: ufunc}"""
    cdef int op, kind, nin, dt, k
    cdef char *t
    cdef char *docc
    out = {}
    for op in range(ACT_NOPS):
        for kind in range(ACT_NKINDS):
            if kind == ACT_GOUT and not act_ops[op].has_gout:
                continue
            nin = (1 if kind == ACT_FWD else 2) + act_ops[op].nparams
            if type_arrays[op][kind] == NULL:
                t = <char *>malloc(<size_t>(nin + 1) * NBUILTIN)
                if t == NULL:
                    raise MemoryError()
                for dt in range(NBUILTIN):
                    for k in range(nin + 1):
                        t[dt * (nin + 1) + k] = dtype_nums[dt]
                    loop_data[op][kind][dt].op = op
                    loop_data[op][kind][dt].kind = kind
                    loop_data[op][kind][dt].dtype = dt
                    loop_data_ptrs[op][kind][dt] = &loop_data[op][kind][dt]
                type_arrays[op][kind] = t
            name = act_ops[op].name.decode() + KIND_SUFFIX[kind]
            # name and docstring must outlive the ufunc: strdup'd copies kept forever
            doc = docs.get(name)
            docc = strdup(doc.encode()) if isinstance(doc, str) else NULL
            uf = PyUFunc_FromFuncAndData(loop_funcs, loop_data_ptrs[op][kind],
                                         type_arrays[op][kind], NBUILTIN, nin, 1, PyUFunc_None,
                                         strdup(name.encode()), docc, 0)
            (<PyUFuncObject *>uf).type_resolver = type_resolver
            out[name] = uf
            made[(op, kind)] = uf
            made_bf16[op][kind] = 0
            add_bf16_loop(op, kind)  # bfloat16 already registered: the ufuncs made again
    return out


def register_bfloat16(dtype):
    """register_bfloat16(dtype) -> bool: add the bfloat16 loop to every ufunc made (and to any
    made later); True when this call registered it, False when it already was.  dtype:
    ml_dtypes' bfloat16, a legacy user dtype of 2 bytes (the caller checks that it is
    bfloat16)."""
    global bf16_type
    cdef PyArray_Descr *d = NULL
    cdef int num, op, kind
    PyArray_DescrConverter(dtype, &d)
    num = d.type_num
    isz = PyDataType_ELSIZE(d)
    Py_XDECREF(<PyObject *>d)
    if num < NPY_USERDEF or isz != 2:
        raise TypeError("register_bfloat16: expected ml_dtypes' bfloat16 (a 2-byte user "
                        f"dtype), got {dtype!r}")
    if bf16_type >= 0 and bf16_type != num:
        raise RuntimeError("register_bfloat16: bfloat16 loops are already registered for type "
                           f"number {bf16_type}, not {num}")
    fresh = bf16_type < 0
    bf16_type = num
    for (op, kind) in made:
        if not made_bf16[op][kind]:
            fresh = True
            add_bf16_loop(op, kind)
    return fresh


def bfloat16_type():
    """the registered bfloat16 type number, or -1"""
    return bf16_type


def op_table():
    """[(name, nparams, has_gout, cost)] of ops.def"""
    return [(act_ops[i].name.decode(), act_ops[i].nparams, act_ops[i].has_gout, act_ops[i].cost)
            for i in range(ACT_NOPS)]


# ---- dispatch and threads

def isa_info():
    """{'current', 'built', 'supported', 'fma'}"""
    cdef int i
    names = [act_isa_name(i).decode() for i in range(ACT_NISAS)]
    return {"current": act_isa_name(act_isa_current()).decode(),
            "built": [names[i] for i in range(ACT_NISAS) if act_isa_built(i)],
            "supported": [names[i] for i in range(ACT_NISAS) if act_isa_supported(i)],
            "fma": [names[i] for i in range(ACT_NISAS) if act_isa_fma(i)]}


def set_isa(str name not None):
    """set_isa(name): switch kernel tables (tests)"""
    cdef int isa = act_isa_from_name(name.encode())
    if isa < 0:
        raise ValueError(f"isa: expected 'baseline', 'avx2' or 'avx512', got {name!r}")
    if act_set_isa(isa) < 0:
        raise ValueError(f"isa: {name} is not built or not supported on this CPU")


def get_num_threads():
    return act_get_num_threads()


def set_num_threads(int n):
    act_set_num_threads(n)


def parallel_min(Py_ssize_t n=-1):
    """parallel_min([n]) -> old threshold"""
    global act_parallel_min
    old = act_parallel_min
    if n >= 0:
        act_parallel_min = 2 if n < 2 else n
    return old


def stream_min(Py_ssize_t n=-1):
    """stream_min([bytes]) -> old threshold: elementwise outputs this large use streaming
    stores"""
    global act_stream_min
    old = act_stream_min
    if n >= 0:
        act_stream_min = <size_t>n
    return old


def stream_always(int flag=-1):
    """stream_always([flag]) -> old flag: 1 makes every eligible call stream (tests, the
    streaming benchmark); 0 (the default) lets each call's measured speed decide
    (csrc/loops.c)"""
    global act_stream_always
    old = bool(act_stream_always)
    if flag >= 0:
        act_stream_always = flag != 0
    return old


def stream_calls():
    """stream_calls() -> how many calls have taken streaming stores (tests)"""
    return act_stream_calls


def stream_kinds(int op, int mask=-1):
    """stream_kinds(op_index[, mask]) -> old mask: which kinds of an op stream (ops.def's
    column; bit 0 forward, 1 gradient, 2 from output); for bench/streaming.py"""
    # one unsigned comparison: gcc 12 warned of act_stream_kinds[-1] after `op < 0 or ...`
    if <unsigned int>op >= <unsigned int>ACT_NOPS:
        raise ValueError(f"stream_kinds: op index must be in [0, {ACT_NOPS}), got {op}")
    old = act_stream_kinds[op]
    if mask >= 0:
        act_stream_kinds[op] = mask & 7
    return old


def threads_for(Py_ssize_t n):
    """threads used for n elements"""
    return act_threads_for(n)


# ---- operand checks shared by the kernel entry points

cdef inline PyArrayObject *as_array(object o, str fname, str what) except NULL:
    """o as an ndarray (borrowed), or TypeError"""
    if not PyArray_Check(o):
        raise TypeError(f"{fname}: {what} must be an ndarray, got {type(o).__name__}")
    return <PyArrayObject *>o


cdef inline int dtype_index(int typenum) noexcept:
    """act.h's dtype index of a NumPy type number, -1 for others"""
    if typenum == NPY_HALF:
        return ACT_F16
    if typenum == NPY_FLOAT:
        return ACT_F32
    if typenum == NPY_DOUBLE:
        return ACT_F64
    if bf16_type >= 0 and typenum == bf16_type:
        return ACT_BF16
    return -1


cdef int split3(PyArrayObject *x, int axis, npy_intp *outer, npy_intp *L, npy_intp *inner,
                str fname) except -1:
    """x's shape as (outer, L, inner) around axis"""
    cdef int nd = PyArray_NDIM(x), k
    if axis < 0 or axis >= nd:
        raise ValueError(f"{fname}: axis {axis} out of range for {nd} dimensions")
    cdef npy_intp *sh = PyArray_SHAPE(x)
    outer[0] = 1
    inner[0] = 1
    L[0] = sh[axis]
    for k in range(axis):
        outer[0] *= sh[k]
    for k in range(axis + 1, nd):
        inner[0] *= sh[k]
    return 0


# ---- helpers of the fast paths (_axis.pxi softmax_fast / glu_fast, _bnorm.pxi bn_*_fast): the
# common call done here, anything unusual answered NotImplemented so that the Python layer does
# the full work.  They accept only what needs no conversion: exact ndarrays of native
# float32/float64 (or `type`), C-contiguous and aligned; out None or such an array of the
# result's shape and dtype, writeable, that is an input itself (where the kernel reads each
# element before writing it) or shares no memory with the inputs.

cdef inline bint fast_operand(object o, int type) noexcept:
    if not PyArray_CheckExact(o):
        return False
    cdef PyArrayObject *a = <PyArrayObject *>o
    cdef int t = PyArray_TYPE(a)
    return ((t == NPY_FLOAT or t == NPY_DOUBLE) if type < 0 else t == type) and \
        PyArray_IS_C_CONTIGUOUS(a) and PyArray_ISALIGNED(a) and PyArray_ISNOTSWAPPED(a) and \
        PyArray_NDIM(a) > 0


cdef inline bint fast_axis(object axis, int nd, int *ax) noexcept:
    """an exact int in [-nd, nd), normalised into ax"""
    cdef int overflow = 0
    if not PyLong_CheckExact(axis):
        return False
    cdef long v = PyLong_AsLongAndOverflow(axis, &overflow)
    if overflow:
        return False
    if v < -nd or v >= nd:
        return False
    ax[0] = <int>(v + nd if v < 0 else v)
    return True


cdef inline bint overlaps(PyArrayObject *a, PyArrayObject *b) noexcept:
    cdef const char *pa = PyArray_BYTES(a)
    cdef const char *pb = PyArray_BYTES(b)
    return pa < pb + PyArray_NBYTES(b) and pb < pa + PyArray_NBYTES(a)


cdef object fast_out(object out, int nd, npy_intp *shape, int type, PyArrayObject **ins,
                     int nins, bint inplace):
    """the output: out checked as above (in place allowed for the operands in `ins` when
    `inplace`), or a new array; None when out does not qualify"""
    cdef int k
    cdef bint same
    if out is None:
        return PyArray_EMPTY(nd, shape, type, 0)
    if not fast_operand(out, type) or not PyArray_ISWRITEABLE(<PyArrayObject *>out):
        return None
    cdef PyArrayObject *o = <PyArrayObject *>out
    if PyArray_NDIM(o) != nd or not PyArray_CompareLists(PyArray_SHAPE(o), shape, nd):
        return None
    for k in range(nins):
        same = (PyArray_BYTES(o) == PyArray_BYTES(ins[k])
                and PyArray_SIZE(o) == PyArray_SIZE(ins[k]))
        if overlaps(o, ins[k]) and not (inplace and same):
            return None
    return out


def memory_floor(*arrays):
    """memory_floor(x, y) or memory_floor(a, b, y): the benchmark's floor loops (read x, write
    y once; or y = a + b), with the kernels' threading"""
    cdef PyArrayObject *ops[3]
    cdef const char *inp[2]
    ops[0] = ops[1] = ops[2] = NULL
    cdef int k, nops = len(arrays), dt
    cdef npy_intp n
    cdef act_range_fn f
    if nops not in (2, 3):
        raise TypeError(f"memory_floor: expected 2 or 3 arrays, got {nops}")
    for k in range(nops):
        ops[k] = as_array(arrays[k], "memory_floor", "every argument")
    cdef PyArrayObject *y = ops[nops - 1]
    dt = dtype_index(PyArray_TYPE(y))
    n = PyArray_SIZE(y)
    for k in range(nops):
        if (dt < 0 or dt == ACT_BF16 or PyArray_TYPE(ops[k]) != PyArray_TYPE(y)
                or PyArray_SIZE(ops[k]) != n or not PyArray_IS_C_CONTIGUOUS(ops[k])
                or not PyArray_ISALIGNED(ops[k])):
            raise ValueError("memory_floor: expected aligned C-contiguous float16/32/64 arrays "
                             "of one dtype and size")
    if not PyArray_ISWRITEABLE(y):
        raise ValueError("memory_floor: y must be writeable")
    inp[0] = PyArray_BYTES(ops[0])
    inp[1] = PyArray_BYTES(ops[1]) if nops == 3 else NULL
    f = act_table.add[dt] if nops == 3 else act_table.copy[dt]
    cdef char *py = PyArray_BYTES(y)
    with nogil:
        act_run(f, n, inp, 0, py)


def prelu_channels(x, w, int axis, y):
    """prelu_channels(x, w, axis, y): per-channel prelu forward into y.  act_prelu_channels for
    the prelu wrapper, which has checked the weight's length and the axis; here only what would
    be unsafe in C."""
    cdef PyArrayObject *xa = as_array(x, "prelu_channels", "x")
    cdef PyArrayObject *wa = as_array(w, "prelu_channels", "w")
    cdef PyArrayObject *ya = as_array(y, "prelu_channels", "y")
    cdef int t = PyArray_TYPE(xa), nd = PyArray_NDIM(xa), rc, dt
    dt = dtype_index(t)
    if (dt < 0 or dt == ACT_BF16 or PyArray_TYPE(wa) != t or PyArray_TYPE(ya) != t
            or axis < 0 or axis >= nd or PyArray_NDIM(wa) != 1
            or PyArray_DIM(wa, 0) != PyArray_DIM(xa, axis) or not PyArray_SAMESHAPE(xa, ya)
            or not PyArray_IS_C_CONTIGUOUS(xa) or not PyArray_IS_C_CONTIGUOUS(ya)
            or not PyArray_IS_C_CONTIGUOUS(wa) or not PyArray_ISALIGNED(xa)
            or not PyArray_ISALIGNED(ya) or not PyArray_ISALIGNED(wa)
            or not PyArray_ISWRITEABLE(ya) or not PyArray_ISNOTSWAPPED(xa)
            or not PyArray_ISNOTSWAPPED(ya) or not PyArray_ISNOTSWAPPED(wa)):
        raise ValueError("prelu_channels: expected aligned C-contiguous float16/32/64 x and y "
                         "of one shape and w of x.shape[axis] elements, all of one dtype")
    # y may be x itself (elementwise, each element read before it is written), not a part of
    # it, nor the slopes
    cdef size_t x0 = <size_t>PyArray_BYTES(xa), y0 = <size_t>PyArray_BYTES(ya)
    cdef size_t w0 = <size_t>PyArray_BYTES(wa), nb = <size_t>PyArray_NBYTES(xa)
    if ((x0 != y0 and x0 < y0 + nb and y0 < x0 + nb)
            or (w0 < y0 + nb and y0 < w0 + <size_t>PyArray_NBYTES(wa))):
        raise ValueError("prelu_channels: y overlaps x (not in place) or w")
    cdef npy_intp outer, C, inner
    split3(xa, axis, &outer, &C, &inner, "prelu_channels")
    cdef const char *px = PyArray_BYTES(xa)
    cdef const char *pw = PyArray_BYTES(wa)
    cdef char *pyy = PyArray_BYTES(ya)
    cdef int flags
    with nogil:
        flags = act_fp_save()
        rc = act_prelu_channels(dt, px, pw, outer, C, inner, pyy)
        act_fp_restore(flags)
    if rc < 0:
        raise MemoryError()


def build_info():
    """{'compiler', 'openmp'}"""
    return {"compiler": _compiler_name().decode(), "openmp": bool(act_openmp_enabled())}


cdef extern from *:
    """
    #if defined(__clang__)
    #define ACT_CC "clang " __clang_version__
    #elif defined(__GNUC__)
    #define ACT_CC "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #define ACT_CC_S_(x) #x
    #define ACT_CC_S(x) ACT_CC_S_(x)
    #define ACT_CC "msvc " ACT_CC_S(_MSC_FULL_VER)
    #else
    #define ACT_CC "unknown"
    #endif
    static const char *act_compiler_name(void) { return ACT_CC; }
    """
    const char *_compiler_name "act_compiler_name"()


include "_axis.pxi"
include "_bnorm.pxi"


# ---- module initialisation: the kernel target, capped by ACTCORE_ISA
cdef char _warn[256]
cdef const char *_cap = getenv("ACTCORE_ISA")
act_dispatch_init(_cap, _warn, sizeof(_warn))
if _warn[0]:
    warnings.warn(_warn.decode(), RuntimeWarning, stacklevel=1)
