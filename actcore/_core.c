/* actcore._core: the glue between NumPy and the C cores in csrc/.
 *
 * It makes one ufunc per (op, kind) from csrc/ops.def, all sharing act_eltwise_loop, with
 * float16/float32/float64 loops, and registers bfloat16 loops on them once ml_dtypes is imported
 * (register_bfloat16, called by actcore/_bfloat16.py); and exposes dispatch, threads and the
 * memory-floor kernels.
 * Everything numeric lives in csrc/, which never includes Python.h.
 */
#define ACT_GLUE_MAIN
#include "_glue.h"
#include <stdlib.h>

_Static_assert(sizeof(npy_intp) == sizeof(ptrdiff_t), "npy_intp and ptrdiff_t must match");

/* The dtypes with a NumPy type number known at compile time come first (act.h): the ufuncs are
 * made with these; bfloat16 (ACT_BF16) is a user dtype, its loops are added later. */
enum { NBUILTIN = 3 };
_Static_assert(ACT_F16 == 0 && ACT_F32 == 1 && ACT_F64 == 2 &&
                   (int)ACT_BF16 == (int)NBUILTIN && (int)ACT_NDTYPES == (int)NBUILTIN + 1,
               "built-in dtypes first, then bfloat16");

static act_loop_data loop_data[ACT_NOPS][ACT_NKINDS][ACT_NDTYPES];
static void *loop_data_ptrs[ACT_NOPS][ACT_NKINDS][ACT_NDTYPES];
static const char dtype_nums[NBUILTIN] = {NPY_HALF, NPY_FLOAT, NPY_DOUBLE};
static const char *const kind_suffix[ACT_NKINDS] = {"", "_grad", "_grad_from_output"};

/* bfloat16's type number once register_bfloat16 has run, else -1 (_glue.h: _bnorm.c uses it) */
int act_glue_bf16_type = -1;
/* the ufuncs make_ufuncs made (references kept: they live as long as the module), and whether
 * each has its bfloat16 loop */
static PyObject *made[ACT_NOPS][ACT_NKINDS];
static char made_bf16[ACT_NOPS][ACT_NKINDS];

static void ufunc_loop(char **args, npy_intp const *dims, npy_intp const *steps, void *data)
{
    act_eltwise_loop(args, (const ptrdiff_t *)dims, (const ptrdiff_t *)steps,
                     (const act_loop_data *)data);
}
static PyUFuncGenericFunction loop_funcs[NBUILTIN] = {ufunc_loop, ufunc_loop, ufunc_loop};
static char *type_arrays[ACT_NOPS][ACT_NKINDS]; /* nin+1 types per built-in dtype, contiguous */

/* The bfloat16 loop of one ufunc: the same inner loop, its own act_loop_data (dtype ACT_BF16).
 * PyUFunc_RegisterLoopForType is the API for legacy user dtypes such as ml_dtypes' (NumPy 2
 * also wraps the loop as an ArrayMethod for the all-bfloat16 signature; mixed inputs reach it
 * through type_resolver below). */
static int add_bf16_loop(int op, int kind)
{
    if (made_bf16[op][kind] || !made[op][kind] || act_glue_bf16_type < 0) return 0;
    int types[5]; /* up to 4 inputs + the output */
    int nargs = (kind == ACT_FWD ? 1 : 2) + act_ops[op].nparams + 1;
    for (int k = 0; k < nargs; k++) types[k] = act_glue_bf16_type;
    loop_data[op][kind][ACT_BF16] = (act_loop_data){op, kind, ACT_BF16};
    if (PyUFunc_RegisterLoopForType((PyUFuncObject *)made[op][kind], act_glue_bf16_type,
                                    ufunc_loop, types, &loop_data[op][kind][ACT_BF16]) < 0)
        return -1;
    made_bf16[op][kind] = 1;
    return 0;
}

/* bfloat16 inputs mixed with others (only all-bfloat16 calls find the bfloat16 loop without a
 * resolver): the loop of the inputs' result type when that is bfloat16, as NumPy's own ufuncs
 * pick it (np.multiply(x_bf16, 0.2) is bfloat16).  The default resolver would not: it checks a
 * Python float as a float64 that cannot be cast safely to bfloat16, and takes the float32 loop.
 * The bfloat16 operands go first, because np.result_type(0.2, x_bf16) is float32 while
 * np.result_type(x_bf16, 0.2) is bfloat16 (ml_dtypes 0.7, NumPy 2.4).  1: resolved,
 * 0: not a bfloat16 case (or no common type): the default resolver decides. */
static int bf16_mixed(PyUFuncObject *ufunc, PyArrayObject **operands, PyObject *type_tup,
                      PyArray_Descr **out_dtypes)
{
    int nin = ufunc->nin, n = 0;
    if (act_glue_bf16_type < 0 || type_tup != NULL || nin > 4) return 0;
    PyArrayObject *ops[4];
    for (int i = 0; i < nin; i++)
        if (PyArray_DESCR(operands[i])->type_num == act_glue_bf16_type) ops[n++] = operands[i];
    if (n == 0) return 0;
    for (int i = 0; i < nin; i++)
        if (PyArray_DESCR(operands[i])->type_num != act_glue_bf16_type) ops[n++] = operands[i];
    PyArray_Descr *rt = PyArray_ResultType(nin, ops, 0, NULL);
    if (!rt) {
        PyErr_Clear(); /* e.g. complex input: the default resolver raises our TypeError */
        return 0;
    }
    if (rt->type_num != act_glue_bf16_type) {
        Py_DECREF(rt);
        return 0;
    }
    for (int i = 0; i < ufunc->nargs; i++) {
        Py_INCREF(rt);
        out_dtypes[i] = rt;
    }
    Py_DECREF(rt);
    return 1;
}

/* NumPy's own "no loop" message names neither the dtype nor what is accepted: wrap the default
 * resolver and say both (SPEC §1: TypeError naming the function and the dtype). */
static int type_resolver(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands,
                         PyObject *type_tup, PyArray_Descr **out_dtypes)
{
    if (bf16_mixed(ufunc, operands, type_tup, out_dtypes)) return 0;
    int r = PyUFunc_DefaultTypeResolver(ufunc, casting, operands, type_tup, out_dtypes);
    if (r < 0 && PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *names = PyUnicode_FromString("");
        for (int i = 0; names && i < ufunc->nin; i++) {
            PyObject *s = PyObject_Str((PyObject *)PyArray_DESCR(operands[i]));
            PyObject *joined = s ? PyUnicode_FromFormat("%U%s%U", names, i ? ", " : "", s) : NULL;
            Py_XDECREF(s);
            Py_SETREF(names, joined);
        }
        if (names) {
            PyErr_Format(PyExc_TypeError,
                         "%s: unsupported input dtype (%U); expected float16, float32 or "
                         "float64%s (integer and bool inputs are converted as for np.tanh)",
                         ufunc->name, names,
                         act_glue_bf16_type >= 0 ? ", or bfloat16"
                                                 : " (bfloat16 needs the ml_dtypes package)");
            Py_DECREF(names);
            Py_XDECREF(et);
            Py_XDECREF(ev);
            Py_XDECREF(tb);
        }
        else {
            PyErr_Restore(et, ev, tb);
        }
    }
    return r;
}

/* make_ufuncs(docs: dict) -> dict name -> ufunc */
static PyObject *make_ufuncs(PyObject *self, PyObject *args)
{
    PyObject *docs;
    if (!PyArg_ParseTuple(args, "O!", &PyDict_Type, &docs)) return NULL;
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    for (int op = 0; op < ACT_NOPS; op++) {
        for (int kind = 0; kind < ACT_NKINDS; kind++) {
            if (kind == ACT_GOUT && !act_ops[op].has_gout) continue;
            int nin = (kind == ACT_FWD ? 1 : 2) + act_ops[op].nparams;
            if (!type_arrays[op][kind]) {
                char *t = malloc((size_t)(nin + 1) * NBUILTIN);
                if (!t) return PyErr_NoMemory();
                for (int dt = 0; dt < NBUILTIN; dt++) {
                    for (int k = 0; k <= nin; k++) t[dt * (nin + 1) + k] = dtype_nums[dt];
                    loop_data[op][kind][dt] = (act_loop_data){op, kind, dt};
                    loop_data_ptrs[op][kind][dt] = &loop_data[op][kind][dt];
                }
                type_arrays[op][kind] = t;
            }
            char name[96];
            snprintf(name, sizeof name, "%s%s", act_ops[op].name, kind_suffix[kind]);
            /* the docstring must outlive the ufunc: keep a strdup'd copy forever */
            PyObject *d = PyDict_GetItemString(docs, name);
            const char *doc = d && PyUnicode_Check(d) ? PyUnicode_AsUTF8(d) : NULL;
            char *docc = doc ? strdup(doc) : NULL;
            char *namec = strdup(name);
            PyObject *uf = PyUFunc_FromFuncAndData(loop_funcs, loop_data_ptrs[op][kind],
                                                   type_arrays[op][kind], NBUILTIN, nin, 1,
                                                   PyUFunc_None, namec, docc, 0);
            if (uf) ((PyUFuncObject *)uf)->type_resolver = type_resolver;
            if (!uf || PyDict_SetItemString(out, name, uf) < 0) {
                Py_XDECREF(uf);
                Py_DECREF(out);
                return NULL;
            }
            Py_XSETREF(made[op][kind], uf); /* keeps make_ufuncs' reference */
            made_bf16[op][kind] = 0;
            if (add_bf16_loop(op, kind) < 0) { /* bfloat16 already registered: made again */
                Py_DECREF(out);
                return NULL;
            }
        }
    }
    return out;
}

/* register_bfloat16(dtype) -> bool: add the bfloat16 loop to every ufunc made (and to any made
 * later); True when this call registered it, False when it already was.  dtype: ml_dtypes'
 * bfloat16, a legacy user dtype of 2 bytes (the caller checks that it is bfloat16). */
static PyObject *register_bfloat16(PyObject *self, PyObject *arg)
{
    PyArray_Descr *d = NULL;
    if (!PyArray_DescrConverter(arg, &d)) return NULL;
    int num = d->type_num;
    npy_intp isz = PyDataType_ELSIZE(d);
    Py_DECREF(d);
    if (num < NPY_USERDEF || isz != 2) {
        PyErr_Format(PyExc_TypeError,
                     "register_bfloat16: expected ml_dtypes' bfloat16 (a 2-byte user dtype), "
                     "got %R", arg);
        return NULL;
    }
    if (act_glue_bf16_type >= 0 && act_glue_bf16_type != num) {
        PyErr_Format(PyExc_RuntimeError,
                     "register_bfloat16: bfloat16 loops are already registered for type number "
                     "%d, not %d",
                     act_glue_bf16_type, num);
        return NULL;
    }
    int fresh = act_glue_bf16_type < 0;
    act_glue_bf16_type = num;
    for (int op = 0; op < ACT_NOPS; op++)
        for (int kind = 0; kind < ACT_NKINDS; kind++)
            if (!made_bf16[op][kind] && made[op][kind]) {
                fresh = 1;
                if (add_bf16_loop(op, kind) < 0) return NULL;
            }
    return PyBool_FromLong(fresh);
}

/* bfloat16_type() -> the registered bfloat16 type number, or -1 */
static PyObject *bfloat16_type(PyObject *self, PyObject *noargs)
{
    return PyLong_FromLong(act_glue_bf16_type);
}

static PyObject *op_table(PyObject *self, PyObject *noargs)
{
    PyObject *lst = PyList_New(ACT_NOPS);
    if (!lst) return NULL;
    for (int i = 0; i < ACT_NOPS; i++) {
        PyObject *t = Py_BuildValue("(siii)", act_ops[i].name, act_ops[i].nparams,
                                    act_ops[i].has_gout, act_ops[i].cost);
        if (!t) {
            Py_DECREF(lst);
            return NULL;
        }
        PyList_SET_ITEM(lst, i, t);
    }
    return lst;
}

static PyObject *isa_info(PyObject *self, PyObject *noargs)
{
    PyObject *built = PyList_New(0), *supported = PyList_New(0), *fma = PyList_New(0);
    if (!built || !supported || !fma) return NULL;
    for (int i = 0; i < ACT_NISAS; i++) {
        PyObject *s = PyUnicode_FromString(act_isa_name(i));
        if (act_isa_built(i)) PyList_Append(built, s);
        if (act_isa_supported(i)) PyList_Append(supported, s);
        if (act_isa_fma(i)) PyList_Append(fma, s);
        Py_DECREF(s);
    }
    return Py_BuildValue("{s:s,s:N,s:N,s:N}", "current", act_isa_name(act_isa_current()), "built",
                         built, "supported", supported, "fma", fma);
}

static PyObject *set_isa(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    int isa = act_isa_from_name(name);
    if (isa < 0) {
        PyErr_Format(PyExc_ValueError, "isa: expected 'baseline', 'avx2' or 'avx512', got %R",
                     PyTuple_GET_ITEM(args, 0));
        return NULL;
    }
    if (act_set_isa(isa) < 0) {
        PyErr_Format(PyExc_ValueError, "isa: %s is not built or not supported on this CPU",
                     name);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *get_num_threads(PyObject *self, PyObject *noargs)
{
    return PyLong_FromLong(act_get_num_threads());
}

static PyObject *set_num_threads(PyObject *self, PyObject *args)
{
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return NULL;
    act_set_num_threads(n);
    Py_RETURN_NONE;
}

static PyObject *parallel_min(PyObject *self, PyObject *args)
{
    Py_ssize_t n = -1;
    if (!PyArg_ParseTuple(args, "|n", &n)) return NULL;
    Py_ssize_t old = act_parallel_min;
    if (n >= 0) act_parallel_min = n < 2 ? 2 : n;
    return PyLong_FromSsize_t(old);
}

static PyObject *stream_min(PyObject *self, PyObject *args)
{
    Py_ssize_t n = -1;
    if (!PyArg_ParseTuple(args, "|n", &n)) return NULL;
    Py_ssize_t old = (Py_ssize_t)act_stream_min;
    if (n >= 0) act_stream_min = (size_t)n;
    return PyLong_FromSsize_t(old);
}

/* stream_always([flag]) -> old flag: 1 makes every eligible call stream (tests, the streaming
 * benchmark); 0 (the default) lets each call's measured speed decide (csrc/loops.c) */
static PyObject *stream_always(PyObject *self, PyObject *args)
{
    int v = -1;
    if (!PyArg_ParseTuple(args, "|i", &v)) return NULL;
    int old = act_stream_always;
    if (v >= 0) act_stream_always = v != 0;
    return PyBool_FromLong(old);
}

static PyObject *stream_calls(PyObject *self, PyObject *noargs)
{
    return PyLong_FromSize_t(act_stream_calls);
}

/* stream_kinds(op_index[, mask]) -> old mask: which kinds of an op stream (ops.def's column;
 * bit 0 forward, 1 gradient, 2 from output); for bench/streaming.py */
static PyObject *stream_kinds(PyObject *self, PyObject *args)
{
    int op, mask = -1;
    if (!PyArg_ParseTuple(args, "i|i", &op, &mask)) return NULL;
    if (op < 0 || op >= ACT_NOPS) {
        PyErr_Format(PyExc_ValueError, "stream_kinds: op index must be in [0, %d), got %d",
                     ACT_NOPS, op);
        return NULL;
    }
    int old = act_stream_kinds[op];
    if (mask >= 0) act_stream_kinds[op] = mask & 7;
    return PyLong_FromLong(old);
}

static PyObject *threads_for(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
    return PyLong_FromLong(act_threads_for(n));
}

/* memory_floor(x, y) or memory_floor(a, b, y): the benchmark's floor loops, same threading */
static PyObject *memory_floor(PyObject *self, PyObject *args)
{
    PyArrayObject *a = NULL, *b = NULL, *y = NULL;
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs == 2) {
        if (!PyArg_ParseTuple(args, "O!O!", &PyArray_Type, &a, &PyArray_Type, &y)) return NULL;
    }
    else if (!PyArg_ParseTuple(args, "O!O!O!", &PyArray_Type, &a, &PyArray_Type, &b,
                               &PyArray_Type, &y))
        return NULL;
    PyArrayObject *ops[3] = {a, b, y};
    int dt = PyArray_TYPE(y) == NPY_HALF ? ACT_F16 : PyArray_TYPE(y) == NPY_FLOAT ? ACT_F32
             : PyArray_TYPE(y) == NPY_DOUBLE ? ACT_F64 : -1;
    npy_intp n = PyArray_SIZE(y);
    for (int k = 0; k < 3; k++) {
        if (!ops[k]) continue;
        if (dt < 0 || PyArray_TYPE(ops[k]) != PyArray_TYPE(y) || PyArray_SIZE(ops[k]) != n ||
            !PyArray_IS_C_CONTIGUOUS(ops[k]) || !PyArray_ISALIGNED(ops[k])) {
            PyErr_SetString(PyExc_ValueError,
                            "memory_floor: expected aligned C-contiguous float16/32/64 arrays "
                            "of one dtype and size");
            return NULL;
        }
    }
    if (!PyArray_ISWRITEABLE(y)) {
        PyErr_SetString(PyExc_ValueError, "memory_floor: y must be writeable");
        return NULL;
    }
    const char *in[2] = {PyArray_BYTES(a), b ? PyArray_BYTES(b) : NULL};
    act_range_fn f = b ? act_table->add[dt] : act_table->copy[dt];
    Py_BEGIN_ALLOW_THREADS
    act_run(f, n, in, 0, PyArray_BYTES(y));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* prelu_channels(x, w, axis, y): act_prelu_channels for the prelu wrapper, which has checked
 * the weight's length and the axis; here only what would be unsafe in C */
static PyObject *prelu_channels(PyObject *self, PyObject *args)
{
    PyArrayObject *x, *w, *y;
    int axis;
    if (!PyArg_ParseTuple(args, "O!O!iO!", &PyArray_Type, &x, &PyArray_Type, &w, &axis,
                          &PyArray_Type, &y))
        return NULL;
    int t = PyArray_TYPE(x);
    int dt = t == NPY_HALF ? ACT_F16 : t == NPY_FLOAT ? ACT_F32 : t == NPY_DOUBLE ? ACT_F64 : -1;
    int nd = PyArray_NDIM(x);
    if (dt < 0 || PyArray_TYPE(w) != t || PyArray_TYPE(y) != t || axis < 0 || axis >= nd ||
        PyArray_NDIM(w) != 1 || PyArray_DIM(w, 0) != PyArray_DIM(x, axis) ||
        !PyArray_SAMESHAPE(x, y) || !PyArray_IS_C_CONTIGUOUS(x) || !PyArray_IS_C_CONTIGUOUS(y) ||
        !PyArray_IS_C_CONTIGUOUS(w) || !PyArray_ISALIGNED(x) || !PyArray_ISALIGNED(y) ||
        !PyArray_ISALIGNED(w) || !PyArray_ISWRITEABLE(y) || !PyArray_ISNOTSWAPPED(x) ||
        !PyArray_ISNOTSWAPPED(y) || !PyArray_ISNOTSWAPPED(w)) {
        PyErr_SetString(PyExc_ValueError,
                        "prelu_channels: expected aligned C-contiguous float16/32/64 x and y of "
                        "one shape and w of x.shape[axis] elements, all of one dtype");
        return NULL;
    }
    /* y may be x itself (elementwise, each element read before it is written), not a part of
     * it, nor the slopes */
    uintptr_t x0 = (uintptr_t)PyArray_BYTES(x), y0 = (uintptr_t)PyArray_BYTES(y);
    uintptr_t w0 = (uintptr_t)PyArray_BYTES(w), nb = (uintptr_t)PyArray_NBYTES(x);
    if ((x0 != y0 && x0 < y0 + nb && y0 < x0 + nb) ||
        (w0 < y0 + nb && y0 < w0 + (uintptr_t)PyArray_NBYTES(w))) {
        PyErr_SetString(PyExc_ValueError, "prelu_channels: y overlaps x (not in place) or w");
        return NULL;
    }
    npy_intp outer = 1, inner = 1;
    for (int k = 0; k < axis; k++) outer *= PyArray_DIM(x, k);
    for (int k = axis + 1; k < nd; k++) inner *= PyArray_DIM(x, k);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    int flags = act_fp_save();
    rc = act_prelu_channels(dt, PyArray_BYTES(x), PyArray_BYTES(w), outer, PyArray_DIM(x, axis),
                            inner, PyArray_BYTES(y));
    act_fp_restore(flags);
    Py_END_ALLOW_THREADS
    if (rc < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *build_info(PyObject *self, PyObject *noargs)
{
#if defined(__clang__)
    const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define ACT_S_(x) #x
#define ACT_S(x) ACT_S_(x)
    const char *cc = "msvc " ACT_S(_MSC_FULL_VER);
#else
    const char *cc = "unknown";
#endif
    return Py_BuildValue("{s:s,s:O}", "compiler", cc, "openmp",
                         act_openmp_enabled() ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"make_ufuncs", make_ufuncs, METH_VARARGS, "make_ufuncs(docs) -> {name: ufunc}"},
    {"register_bfloat16", register_bfloat16, METH_O,
     "register_bfloat16(dtype) -> bool: add bfloat16 loops to every ufunc"},
    {"bfloat16_type", bfloat16_type, METH_NOARGS, "registered bfloat16 type number, or -1"},
    {"op_table", op_table, METH_NOARGS, "[(name, nparams, has_gout, cost)] of ops.def"},
    {"isa_info", isa_info, METH_NOARGS, "{'current', 'built', 'supported', 'fma'}"},
    {"set_isa", set_isa, METH_VARARGS, "set_isa(name): switch kernel tables (tests)"},
    {"get_num_threads", get_num_threads, METH_NOARGS, NULL},
    {"set_num_threads", set_num_threads, METH_VARARGS, NULL},
    {"parallel_min", parallel_min, METH_VARARGS, "parallel_min([n]) -> old threshold"},
    {"stream_min", stream_min, METH_VARARGS,
     "stream_min([bytes]) -> old threshold: elementwise outputs this large use streaming stores"},
    {"stream_always", stream_always, METH_VARARGS,
     "stream_always([flag]) -> old flag: every eligible call streams (tests)"},
    {"stream_calls", stream_calls, METH_NOARGS,
     "stream_calls() -> how many calls have taken streaming stores (tests)"},
    {"stream_kinds", stream_kinds, METH_VARARGS,
     "stream_kinds(op_index[, mask]) -> old mask of the kinds that stream (ops.def)"},
    {"threads_for", threads_for, METH_VARARGS, "threads used for n elements"},
    {"memory_floor", memory_floor, METH_VARARGS, "memory_floor(x, y) / (a, b, y)"},
    {"prelu_channels", prelu_channels, METH_VARARGS,
     "prelu_channels(x, w, axis, y): per-channel prelu forward into y"},
    {"build_info", build_info, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    import_umath();
    char warn[256];
    act_dispatch_init(getenv("ACTCORE_ISA"), warn, sizeof warn);
    if (warn[0] && PyErr_WarnEx(PyExc_RuntimeWarning, warn, 1) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m && (PyModule_AddFunctions(m, act_bnorm_methods) < 0 ||
              PyModule_AddFunctions(m, act_axis_methods) < 0))
        Py_CLEAR(m);
    return m;
}
