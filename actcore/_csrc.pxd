# Cython declarations of what actcore._core uses: the C cores' headers (csrc/, plain C with no
# Python in them) and the parts of NumPy's and CPython's C API that the glue calls directly.
#
# NumPy's own numpy/__init__.pxd is not used: its declarations take `ndarray` objects (a type
# check per use) and its ufunc loop type lacks NumPy 2's `const`; the glue works on borrowed
# PyArrayObject pointers, as NumPy's C code does.

from cpython.object cimport PyObject
from libc.stddef cimport ptrdiff_t


cdef extern from "act.h" nogil:
    enum:
        ACT_NOPS
        ACT_FWD
        ACT_GRAD
        ACT_GOUT
        ACT_NKINDS
        ACT_F16
        ACT_F32
        ACT_F64
        ACT_BF16
        ACT_NDTYPES
        ACT_ISA_BASELINE
        ACT_ISA_AVX2
        ACT_ISA_AVX512
        ACT_NISAS

    ctypedef void (*act_range_fn)(ptrdiff_t lo, ptrdiff_t hi, const char *const *inp, int pvec,
                                  char *out) noexcept nogil

    ctypedef struct act_isa_table:
        const char *name
        act_range_fn copy[ACT_NDTYPES]
        act_range_fn add[ACT_NDTYPES]

    ctypedef struct act_op_info:
        const char *name
        int nparams
        int has_gout
        int cost

    const act_op_info act_ops[]
    const act_isa_table *act_table
    const char *act_isa_name(int isa)
    int act_isa_built(int isa)
    int act_isa_supported(int isa)
    int act_isa_current()
    int act_isa_fma(int isa)
    int act_set_isa(int isa)
    int act_isa_from_name(const char *name)
    void act_dispatch_init(const char *cap, char *warn, size_t warnlen)

    ctypedef struct act_loop_data:
        int op, kind, dtype

    void act_eltwise_loop(char **args, const ptrdiff_t *dims, const ptrdiff_t *steps,
                          const act_loop_data *d)
    void act_run(act_range_fn f, ptrdiff_t n, const char *const *inp, int pvec, char *out)
    int act_prelu_channels(int dtype, const char *x, const char *w, ptrdiff_t outer,
                           ptrdiff_t C, ptrdiff_t inner, char *y)
    int act_threads_for(ptrdiff_t work)
    int act_get_num_threads()
    void act_set_num_threads(int n)
    int act_openmp_enabled()
    ptrdiff_t act_parallel_min
    size_t act_stream_min
    size_t act_stream_calls
    int act_stream_always
    int act_stream_kinds[]
    int act_fp_save()
    void act_fp_restore(int saved)


cdef extern from "axis.h" nogil:
    enum:
        ACT_AX_SOFTMAX
        ACT_AX_LOG_SOFTMAX
        ACT_AX_LOGSUMEXP
        ACT_AX_SOFTMAX_GRAD
        ACT_AX_LOG_SOFTMAX_GRAD
        ACT_AX_NSOFTMAX
        ACT_NGLU

    ctypedef struct act_axis_fns:
        int (*softmax)(int op, int dtype, const void *x, const void *x2,
                       const unsigned char *mask, void *y, ptrdiff_t outer, ptrdiff_t L,
                       ptrdiff_t inner) noexcept nogil
        void (*glu)(int op, int dtype, const void *a, const void *b, ptrdiff_t istride, void *y,
                    ptrdiff_t outer, ptrdiff_t n) noexcept nogil
        void (*glu_grad)(int op, int dtype, const void *dy, const void *a, const void *b,
                         ptrdiff_t istride, void *da, void *db, ptrdiff_t ostride,
                         ptrdiff_t outer, ptrdiff_t n) noexcept nogil
        void (*maxout)(int dtype, const void *x, void *y, ptrdiff_t outer, ptrdiff_t G,
                       ptrdiff_t pool, ptrdiff_t inner) noexcept nogil
        void (*maxout_grad)(int dtype, const void *dy, const void *x, void *dx, ptrdiff_t outer,
                            ptrdiff_t G, ptrdiff_t pool, ptrdiff_t inner) noexcept nogil

    const act_axis_fns *act_axis_current()


cdef extern from "bnorm.h" nogil:
    enum:
        ACT_BN_INNER
        ACT_BN_CHAN

    ctypedef struct act_bn_view:
        char *p
        ptrdiff_t so, sc, si

    ctypedef struct act_bn_args:
        ptrdiff_t outer, C, inner
        int layout, dtype
        act_bn_view x, out, r, dy, yin, dres
        int dres_ready
        const void *mh
        const void *ml
        const void *scale
        const void *shift
        const void *ga
        const void *gd
        const void *ge
        const double *mean
        const void *pw
        int act_op
        int act_grad_kind
        double act_params[2]

    ctypedef struct act_bn_table:
        const char *name
        int (*stats)(const act_bn_args *a, double *mean, double *m2) noexcept nogil
        void (*apply)(const act_bn_args *a) noexcept nogil
        int (*grad_reduce)(const act_bn_args *a, double *sum_dz,
                           double *sum_dzxm) noexcept nogil
        void (*grad_apply)(const act_bn_args *a) noexcept nogil
        float (*read_floor)(const float *const *arrs, int k, ptrdiff_t n) noexcept nogil

    const act_bn_table *act_bn_current()


cdef extern from "Python.h":
    # noexcept: Cython's cpython.long declares it `except? -1`, and a check of its own in a
    # noexcept function reports an overflow as an "unraisable" exception on stderr
    long PyLong_AsLongAndOverflow(object o, int *overflow) noexcept
    ctypedef struct PyThreadState
    PyThreadState *PyEval_SaveThread() nogil
    void PyEval_RestoreThread(PyThreadState *) nogil


cdef extern from "numpy/arrayobject.h":
    ctypedef Py_ssize_t npy_intp

    ctypedef struct PyArray_Descr:
        int type_num

    ctypedef struct PyArrayObject

    enum:
        NPY_BOOL
        NPY_HALF
        NPY_FLOAT
        NPY_DOUBLE
        NPY_USERDEF
        NPY_MAXDIMS
        NPY_ARRAY_CARRAY_RO
        NPY_ARRAY_FORCECAST

    ctypedef enum NPY_CASTING:
        pass

    bint PyArray_Check(object)
    bint PyArray_CheckExact(object)
    int PyArray_TYPE(PyArrayObject *)
    int PyArray_NDIM(PyArrayObject *)
    npy_intp *PyArray_SHAPE(PyArrayObject *)
    npy_intp *PyArray_DIMS(PyArrayObject *)
    npy_intp *PyArray_STRIDES(PyArrayObject *)
    npy_intp PyArray_DIM(PyArrayObject *, int)
    npy_intp PyArray_SIZE(PyArrayObject *)
    npy_intp PyArray_NBYTES(PyArrayObject *)
    npy_intp PyArray_ITEMSIZE(PyArrayObject *)
    char *PyArray_BYTES(PyArrayObject *)
    void *PyArray_DATA(PyArrayObject *)
    PyArray_Descr *PyArray_DESCR(PyArrayObject *)
    bint PyArray_IS_C_CONTIGUOUS(PyArrayObject *)
    bint PyArray_ISALIGNED(PyArrayObject *)
    bint PyArray_ISNOTSWAPPED(PyArrayObject *)
    bint PyArray_ISWRITEABLE(PyArrayObject *)
    bint PyArray_ISCARRAY(PyArrayObject *)
    bint PyArray_SAMESHAPE(PyArrayObject *, PyArrayObject *)
    bint PyArray_CompareLists(const npy_intp *, const npy_intp *, int)
    npy_intp PyDataType_ELSIZE(PyArray_Descr *)
    object PyArray_EMPTY(int nd, npy_intp *dims, int type, int fortran)
    object PyArray_ZEROS(int nd, npy_intp *dims, int type, int fortran)
    object PyArray_FROMANY(object o, int type, int mind, int maxd, int flags)
    # steals the reference to the descriptor
    object PyArray_CastToType(PyArrayObject *, PyArray_Descr *, int)
    PyArray_Descr *PyArray_DescrFromType(int) except NULL
    int PyArray_DescrConverter(object, PyArray_Descr **) except 0
    # a new reference, or NULL with an exception set
    PyArray_Descr *PyArray_ResultType(npy_intp, PyArrayObject **, npy_intp, PyArray_Descr **)
    int _import_array() except -1


cdef extern from "numpy/ufuncobject.h":
    ctypedef void (*PyUFuncGenericFunction)(char **args, const npy_intp *dims,
                                            const npy_intp *steps, void *data) noexcept nogil

    # the fields the glue reads or sets (the struct is NumPy's; Cython only needs these).
    # type_resolver is NumPy's `PyUFunc_TypeResolutionFunc *`, a pointer to a function type.
    ctypedef struct PyUFuncObject:
        int nin
        int nargs
        const char *name
        int (*type_resolver)(PyUFuncObject *ufunc, NPY_CASTING casting,
                             PyArrayObject **operands, PyObject *type_tup,
                             PyArray_Descr **out_dtypes) except -1

    enum:
        PyUFunc_None

    object PyUFunc_FromFuncAndData(PyUFuncGenericFunction *func, void *const *data,
                                   const char *types, int ntypes, int nin, int nout,
                                   int identity, const char *name, const char *doc, int unused)
    int PyUFunc_RegisterLoopForType(PyUFuncObject *ufunc, int usertype,
                                    PyUFuncGenericFunction function, const int *arg_types,
                                    void *data) except -1
    int PyUFunc_DefaultTypeResolver(PyUFuncObject *ufunc, NPY_CASTING casting,
                                    PyArrayObject **operands, PyObject *type_tup,
                                    PyArray_Descr **out_dtypes)
    int _import_umath() except -1
