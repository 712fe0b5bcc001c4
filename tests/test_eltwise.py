"""Elementwise activations as NumPy ufuncs: SPEC §1 and §2 behaviour, for every kernel.

Values are compared with actcore.reference (float64); accuracy in ULP is tests/test_accuracy.py.
"""

import platform
import warnings

import numpy as np
import pytest
from conftest import EXAMPLE_PARAMS, GOUT_KERNELS, KERNEL_NAMES, KERNELS, call, sample, ufunc

import actcore
from actcore import _core, reference


def bits(a):
    """The bytes of an array in C order, for bit-for-bit comparisons of any layout."""
    return np.ascontiguousarray(a).view(np.uint8)


def ref(name, kind, x, params, dy=None):
    fn = reference.REFERENCES[name][kind]
    x64 = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        if kind == "fwd":
            return fn(x64, *params)
        return fn(np.ones_like(x64) if dy is None else np.asarray(dy, np.float64), x64, *params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_reference(kernel, kind, dtype):
    name, params = kernel
    x = sample(1000, dtype)
    dy = sample(1000, dtype, seed=1) if kind == "grad" else None
    got = call(name, kind, x, params, dy=dy)
    assert got.dtype == dtype and got.shape == x.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref(name, kind, x, params, dy), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,params", GOUT_KERNELS, ids=[k for k, _ in GOUT_KERNELS])
def test_grad_from_output_matches_grad(name, params):
    x = sample(2000, np.float64)
    dy = sample(2000, np.float64, seed=3)
    y = ufunc(name)(x, *params)
    got = ufunc(name, "gout")(dy, y, *params)
    want = ufunc(name, "grad")(dy, x, *params)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_parameter_free_ops_are_ufuncs():
    for name in ["sigmoid", "log_sigmoid", "tanh", "relu", "relu6", "selu", "silu", "mish",
                 "softsign", "hardsigmoid", "hardswish", "tanhshrink", "step"]:
        assert isinstance(getattr(actcore, name), np.ufunc), name
        assert isinstance(getattr(actcore, name + "_grad"), np.ufunc), name
    assert actcore.relu is actcore.ufuncs.relu
    assert isinstance(actcore.ufuncs.leaky_relu, np.ufunc) and actcore.ufuncs.leaky_relu.nin == 2


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_out_and_in_place_bit_identical(kernel, kind, dtype):
    name, params = kernel
    x = sample(3000, dtype)
    want = call(name, kind, x, params)
    out = np.empty_like(x)
    got = call(name, kind, x, params, out=out)
    assert got is out
    np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8))
    xx = x.copy()
    call(name, kind, xx, params, out=xx)  # aliasing: out is the input
    np.testing.assert_array_equal(xx.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_streamed_outputs_same_bits(kernel, dtype):
    """Outputs of _core.stream_min bytes and more go out through streaming stores
    (csrc/ntstore.h) for the kinds ops.def marks: float32 and float64 with scalar parameters
    from the kernel's own loop in 512-byte chunks (eltwise.c DEF_RANGE_NT), the rest
    (parameter arrays, the 16-bit types) through an L1 buffer.  With the threshold at 0 and
    every kind marked, every kernel gives the bits of the direct path: fresh and misaligned
    out= (element offsets 1-3, so partial cache lines at both ends), parameter arrays that vary
    along x (each block must take its own slice), 1 and 2 threads, and in place (out is x,
    aligned or not, dy, or a parameter array: each chunk is computed before it is stored)."""
    name, params = kernel
    n = 9000 + 13  # several 4 KB blocks and a tail, for every dtype
    x = sample(n, dtype)
    dy = sample(n, dtype, seed=5)
    wave = 1 + 0.1 * np.sin(np.arange(n))  # keeps each parameter's sign and order
    parrays = tuple((p * wave).astype(dtype) for p in params)
    kinds = ["fwd", "grad"] + (["gout"] if (name, params) in GOUT_KERNELS else [])
    for kind in kinds:
        for ps in (params, parrays):
            want = call(name, kind, x, ps, dy=dy)
            op = KERNEL_NAMES.index(name)
            old_min, old_par = _core.stream_min(0), _core.parallel_min(64)
            old_kinds = _core.stream_kinds(op, 7)
            old_always = _core.stream_always(1)  # every call streams, not as measured
            calls = _core.stream_calls()
            try:
                for threads in (1, 2):
                    with actcore.num_threads(threads):
                        got = call(name, kind, x, ps, dy=dy)
                        np.testing.assert_array_equal(bits(got), bits(want),
                                                      err_msg=f"{kind} t={threads}")
                        for off in (1, 2, 3):
                            o = np.full(n + 4, 7, dtype)[off:off + n]
                            call(name, kind, x, ps, dy=dy, out=o)
                            np.testing.assert_array_equal(bits(o), bits(want),
                                                          err_msg=f"{kind} offset {off}")
                        xx = x.copy()
                        call(name, kind, xx, ps, dy=dy, out=xx)
                        np.testing.assert_array_equal(bits(xx), bits(want), err_msg=kind)
                        # in place on a misaligned x (a head before the first whole line)
                        xm = np.empty(n + 1, dtype)[1:]
                        xm[...] = x
                        call(name, kind, xm, ps, dy=dy, out=xm)
                        np.testing.assert_array_equal(bits(xm), bits(want), err_msg=kind)
                        streamed = 6  # fresh, 3 offsets, 2 in place
                        if kind != "fwd":  # in place on dy
                            dd = dy.copy()
                            call(name, kind, x, ps, dy=dd, out=dd)
                            np.testing.assert_array_equal(bits(dd), bits(want), err_msg=kind)
                            streamed += 1
                        if ps is parrays and ps:  # in place on a parameter array
                            p0 = ps[0].copy()
                            call(name, kind, x, (p0,) + ps[1:], dy=dy, out=p0)
                            np.testing.assert_array_equal(bits(p0), bits(want), err_msg=kind)
                            streamed += 1
                # every call above streamed, for each of the 2 thread counts.  x86-64 only:
                # targets without streaming stores have no stream path
                if STREAMING_STORES:
                    assert _core.stream_calls() - calls == 2 * streamed, kind
            finally:
                _core.stream_min(old_min)
                _core.parallel_min(old_par)
                _core.stream_kinds(op, old_kinds)
                _core.stream_always(old_always)


STREAMING_STORES = platform.machine().lower() in ("x86_64", "amd64")


def test_streaming_follows_measurement():
    """By default an eligible call streams only while streaming measures faster: each method is
    measured, the faster taken, and the other still sampled (one call in 32), with the same
    bits either way."""
    if not STREAMING_STORES:
        pytest.skip("no streaming stores on this target")
    x = sample(20000, np.float64)
    want = actcore.ufuncs.relu(x)
    op = KERNEL_NAMES.index("relu")
    old_min, old_kinds = _core.stream_min(0), _core.stream_kinds(op, 7)
    old_always = _core.stream_always(0)
    try:
        dy = sample(20000, np.float64, seed=2)
        calls = _core.stream_calls()
        outs = []
        for _ in range(70):
            outs.append(actcore.ufuncs.relu_grad(dy, x))
        took = _core.stream_calls() - calls
        # whichever method is in favour, the other is sampled every 32nd call (earlier tests
        # may have measured one already), so both are taken
        assert 70 // 32 <= took <= 70 - 70 // 32
        for o in outs:
            np.testing.assert_array_equal(bits(o), bits(actcore.ufuncs.relu_grad(dy, x)))
        np.testing.assert_array_equal(bits(actcore.ufuncs.relu(x)), bits(want))
    finally:
        _core.stream_min(old_min)
        _core.stream_kinds(op, old_kinds)
        _core.stream_always(old_always)


def _layouts(x2d):
    yield "F", np.asfortranarray(x2d)
    yield "sliced", x2d[:, ::2]
    yield "negative", x2d[::-1, ::-3]
    yield "transposed", x2d.T
    buf = np.zeros(x2d.size * x2d.itemsize + 1, np.uint8)  # unaligned: offset by one byte
    un = np.frombuffer(buf[1:].data, dtype=x2d.dtype).reshape(x2d.shape)
    un[...] = x2d
    assert not un.flags.aligned
    yield "unaligned", un


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_any_layout_same_bits(kernel, kind, dtype):
    name, params = kernel
    x2d = sample(40 * 60, dtype).reshape(40, 60)
    for label, xv in _layouts(x2d):
        want = call(name, kind, np.ascontiguousarray(xv), params)
        got = call(name, kind, xv, params)
        np.testing.assert_array_equal(bits(got), bits(want), err_msg=label)


def test_sizes_and_strides_sweep():
    """As NumPy's umath tests: lengths 1..70 and strides +-1..4 agree with the contiguous case
    (exercises the vector body, the tail, and the strided gather path)."""
    base = sample(300, np.float32)
    for name, params in KERNELS:
        for n in list(range(1, 34)) + [63, 64, 65, 70]:
            for stride in (1, 2, 3, 4, -1, -2):
                xv = base[::stride][:n]
                want = call(name, "fwd", np.ascontiguousarray(xv), params)
                got = call(name, "fwd", xv, params)
                np.testing.assert_array_equal(got, want, err_msg=f"{name} n={n} s={stride}")


def test_zero_d_empty_and_broadcast(kernel, kind):
    name, params = kernel
    x0 = np.float32(-0.75)
    r0 = call(name, kind, x0, params)
    assert np.ndim(r0) == 0
    want = call(name, kind, np.array([x0]), params)[0]
    assert np.array_equal(r0, want, equal_nan=True)
    e = call(name, kind, np.zeros((0, 3), np.float32), params)
    assert e.shape == (0, 3) and e.dtype == np.float32
    b = np.broadcast_to(np.float32(1.25), (5, 7))  # stride 0
    np.testing.assert_array_equal(call(name, kind, b, params),
                                  call(name, kind, np.full((5, 7), 1.25, np.float32), params))


def test_broadcasting_parameters():
    x = sample(24, np.float32).reshape(4, 6)
    slopes = np.linspace(0.0, 0.5, 6, dtype=np.float32)
    got = actcore.leaky_relu(x, slopes)
    want = np.where(x > 0, x, x * slopes)
    np.testing.assert_array_equal(got, want)
    col = slopes[:4, None]
    np.testing.assert_array_equal(actcore.leaky_relu(x, col), np.where(x > 0, x, x * col))
    # mixed: one parameter an array, the other a scalar
    lo = np.full(6, -0.5, np.float32)
    np.testing.assert_array_equal(actcore.hardtanh(x, lo, 2.0), np.clip(x, -0.5, 2.0))


PARAM_KERNELS = [(n, p) for n, p in KERNELS if p]


@pytest.mark.parametrize("kernel_p", PARAM_KERNELS, ids=[n for n, _ in PARAM_KERNELS])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("first", ["example", 1.0])
def test_scalar_and_array_parameters_same_bits(kernel_p, kind, dtype, first):
    """A scalar first parameter of 1 runs in its own constant-folded loop (eltwise.c), an array
    of parameters through per-lane selects of the same formula: both must give the same bits,
    and the values of the reference (beta = 1 is softplus's and swish's default).  That the
    a == 1 branches agree with the general formula is test_unit_parameter_branch_is_continuous."""
    name, params = kernel_p
    if first != "example":
        params = (first,) + params[1:]
    x = sample(777, dtype)
    dy = sample(777, dtype, seed=1) if kind == "grad" else None
    got = call(name, kind, x, params, dy=dy)
    arrays = tuple(np.full(x.shape, p, dtype) for p in params)
    np.testing.assert_array_equal(bits(got), bits(call(name, kind, x, arrays, dy=dy)))
    if dtype != np.float16:
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, ref(name, kind, x, params, dy), rtol=tol, atol=tol)


@pytest.mark.parametrize("kernel_p", PARAM_KERNELS, ids=[n for n, _ in PARAM_KERNELS])
def test_unit_parameter_branch_is_continuous(kernel_p, kind):
    """The formulas' `a == 1` branches (softplus, swish, celu') against the general formula one
    float above 1: the results may differ only by what the parameter itself changes."""
    name, params = kernel_p
    x = sample(2000, np.float64).astype(np.float32)
    dy = sample(2000, np.float32, seed=1) if kind == "grad" else None
    one = call(name, kind, x, (1.0,) + params[1:], dy=dy)
    above = call(name, kind, x, (float(np.nextafter(np.float32(1), np.float32(2))),) + params[1:],
                 dy=dy)
    np.testing.assert_allclose(one, above, rtol=4e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_extreme_beta_and_x(dtype):
    """beta x beyond the range, tiny and subnormal beta, infinite threshold: the limits, never
    NaN for a non-NaN x (x was once clamped at 1e15 here)."""
    x = np.array([1e20, 2e15, -1e20, np.inf, -np.inf, 1.0, -3.0, 0.0], dtype)
    tiny = np.finfo(dtype).tiny / 4  # subnormal
    for beta, thr in [(1.0000001, np.inf), (1.0, np.inf), (1e-20, 20.0), (-2.0, 20.0),
                      (1e30, np.inf), (tiny, 20.0)]:
        got = actcore.softplus(x, beta, thr)
        b = np.float64(dtype(beta))
        with np.errstate(all="ignore"):
            u = b * x.astype(np.float64)
            ref = np.where(u > 0, u + np.log1p(np.exp(-u)), np.log1p(np.exp(u))) / b
            ref = np.where((u > thr) | np.isposinf(u), x, ref).astype(dtype)
        assert not np.isnan(got).any(), (beta, thr, got)
        np.testing.assert_allclose(got, ref, rtol=2e-6 if dtype == np.float32 else 1e-14)
        np.testing.assert_array_equal(np.signbit(got[ref == 0]), np.signbit(ref[ref == 0]))


def test_where_keyword():
    x = sample(100, np.float64)
    mask = np.arange(100) % 3 == 0
    out = np.full(100, 7.0)
    actcore.relu(x, out=out, where=mask)
    np.testing.assert_array_equal(out[mask], np.maximum(x[mask], 0))
    assert np.all(out[~mask] == 7.0)
    out2 = np.full(100, 7.0)
    actcore.leaky_relu(x, 0.1, out=out2, where=mask)
    assert np.all(out2[~mask] == 7.0)


def test_float16_is_float32_rounded_once(kernel, kind):
    name, params = kernel
    x16 = sample(4000, np.float16)
    got = call(name, kind, x16, params)
    assert got.dtype == np.float16
    # the float16 loop sees the parameters rounded to float16, as NumPy casts them
    p32 = tuple(np.float32(np.float16(p)) for p in params)
    want = call(name, kind, x16.astype(np.float32), p32).astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_float16_conversion_exhaustive():
    """Every float16 bit pattern through relu6's identity range and hardtanh(-inf, inf):
    the f16 <-> f32 conversions in C must round-trip every value, NaN stays NaN."""
    h = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    got = actcore.hardtanh(h, -np.inf, np.inf)
    nan = np.isnan(h)
    np.testing.assert_array_equal(got.view(np.uint16)[~nan], h.view(np.uint16)[~nan])
    assert np.all(np.isnan(got[nan]))
    # and float32 -> float16 rounding (to nearest even, overflow to inf, subnormals)
    f = np.random.default_rng(0).standard_normal(200000).astype(np.float32) * 3e4
    f = np.concatenate([f, np.float32([6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 65519.9, 65520.0,
                                       1e9, -1e9, 1e-10])])
    with np.errstate(over="ignore"):  # NumPy's own cast warns for 1e9 -> inf
        f16 = f.astype(np.float16)
    # sigmoid's float16 loop converts in C: compare its input rounding through relu, whose
    # float32 result is exact, against NumPy's float32 -> float16 cast
    got = actcore.ufuncs.relu6(f16, dtype=np.float16)
    want = np.clip(f16, 0, 6)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    # and the output rounding: a float32 kernel result rounded in C vs NumPy's cast
    y16 = actcore.softsign(f16.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(actcore.softsign(f16).view(np.uint16), y16.view(np.uint16))


def test_hard_variants_divide_by_six_as_pytorch_does():
    """float32 hardsigmoid and hardswish round t/6 and x(x + 3)/6 without a division (formulas_t.h
    act_div_6): the bits of the quotient wherever it is normal, on every float32 of [-3, 3] in a
    dense sample (every 61st bit pattern) and on every float32 within 2^16 ulp of the kinks."""
    top = int(np.array(3.0, np.float32).view(np.uint32))  # the bit patterns of [0, 3]
    mag = np.arange(0, top + 1, 61, dtype=np.uint32)
    x = np.concatenate([mag, mag | np.uint32(0x80000000)]).view(np.float32)
    for k in (-3.0, 3.0, 0.0):
        kb = int(np.array(k, np.float32).view(np.int32))
        x = np.concatenate([x, np.arange(kb - 65536, kb + 65536).astype(np.int32)
                            .view(np.float32)])
    x = x[np.isfinite(x)]
    t = np.clip(x + np.float32(3), np.float32(0), np.float32(6))
    np.testing.assert_array_equal(bits(actcore.hardsigmoid(x)), bits(t / np.float32(6)))
    with np.errstate(under="ignore"):
        q = (x * (x + np.float32(3))) / np.float32(6)
    normal = np.abs(q) >= np.finfo(np.float32).tiny
    got = actcore.hardswish(x)
    mid = (x > -3) & (x < 3) & normal
    np.testing.assert_array_equal(bits(got[mid]), bits(q[mid]))


def test_integer_and_bool_inputs_follow_numpy():
    for dt in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_):
        x = np.arange(-3, 4).astype(dt)
        assert actcore.relu(x).dtype == np.tanh(x).dtype, dt
        np.testing.assert_allclose(actcore.sigmoid(x), 1 / (1 + np.exp(-x.astype(np.float64))),
                                   rtol=2e-3)


@pytest.mark.parametrize("bad", [np.ones(3, complex), np.array(["a"]), np.array([1], object)])
def test_bad_dtypes_raise_typeerror_naming_op_and_dtype(bad):
    for fn, name in [(actcore.relu, "relu"), (lambda v: actcore.leaky_relu(v, 0.1), "leaky_relu"),
                     (lambda v: actcore.gelu(v), "gelu")]:
        with pytest.raises(TypeError) as exc:
            fn(bad)
        assert name in str(exc.value) and str(bad.dtype) in str(exc.value)


def test_nan_propagates_everywhere(kernel, kind):
    name, params = kernel
    x = np.array([np.nan, -np.nan, 1.0, -1.0], np.float32)
    got = call(name, kind, x, params)
    assert np.isnan(got[0]) and np.isnan(got[1]), (name, kind, got)
    assert not np.isnan(got[2:]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infinities_give_the_limits(kernel, kind, dtype):
    name, params = kernel
    x = np.array([np.inf, -np.inf], dtype)
    got = call(name, kind, x, params)
    want = ref(name, kind, x, params).astype(dtype)  # the limit, rounded to the dtype
    np.testing.assert_array_equal(got, want)


def test_no_warnings_for_finite_extremes(kernel, kind):
    name, params = kernel
    for dt in (np.float16, np.float32, np.float64):
        fi = np.finfo(dt)
        x = np.array([fi.max, -fi.max, fi.tiny, -fi.tiny, fi.smallest_subnormal, 0, 1e4, -1e4,
                      88.7, -88.7, 710, -745], dtype=np.float64).astype(dt)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):  # even with raise, nothing is flagged
                got = call(name, kind, x, params)
        # finite wherever the true value fits the dtype (selu(65504) overflows float16)
        want = ref(name, kind, x, params)
        fits = np.abs(want) <= fi.max
        assert np.all(np.isfinite(got[fits])), (name, kind, dt, got)


def test_fp_flags_of_the_caller_left_as_found():
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            np.float32(3e38) * np.float32(10)  # the caller's own overflow still raises
    x = np.array([1e30, -1e30, 100, -100], np.float32)
    with np.errstate(all="raise"):
        actcore.sigmoid(x)
        actcore.gelu(x)


def test_inputs_are_not_mutated(kernel, kind):
    name, params = kernel
    x = sample(100, np.float32)
    keep = x.copy()
    dy = sample(100, np.float32, seed=2)
    dkeep = dy.copy()
    call(name, kind, x, params, dy=dy)
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_array_equal(dy, dkeep)


# ---- wrappers, parameters and their errors ----

def test_wrappers_pass_ufunc_keywords_through():
    x = sample(10, np.float64)
    out = np.empty(10, np.float32)
    r = actcore.leaky_relu(x, 0.3, out=out, casting="same_kind")
    assert r is out
    np.testing.assert_allclose(out, np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    r = actcore.softplus(x, dtype=np.float32)
    assert r.dtype == np.float32
    assert actcore.gelu(x, "tanh", out=np.empty(10)).shape == (10,)


def test_cached_parameters_are_checked_per_function():
    """A cache hit skips the parameter checks, so an entry must belong to the function that
    checked it: elu's alpha -1.0 is valid, elu_grad_from_output's is not, before or after the
    other call and on the first call or a later one."""
    from actcore import activations
    activations._pcache.clear()
    x = np.ones(3)
    for _ in range(2):
        actcore.elu(x, -1.0)
        actcore.leaky_relu(x, -0.1)
        with pytest.raises(ValueError, match="alpha"):
            actcore.elu_grad_from_output(x, x, -1.0)
        with pytest.raises(ValueError, match="negative_slope"):
            actcore.leaky_relu_grad_from_output(x, x, -0.1)


def test_default_parameters_take_their_own_cache_entry():
    """Parameters left at their defaults take an entry looked up by dtype alone (the
    function's _pd, filled after the checks passed once): the ufunc's bits and dtype with the
    defaults, on the miss and on the hits, with out=; an equal float that is not the default
    object, and float16, take the general path with the same results."""
    from actcore._registry import OPS, REQUIRED
    wrapped = [op for op in OPS.values() if op.kind != "axis" and op.kernel is not None
               and op.params and op.name != "gelu"
               and all(d is not REQUIRED for _, d in op.params)
               and hasattr(getattr(actcore, op.name), "ufunc")]
    assert len(wrapped) >= 8
    for op in wrapped:
        for suffix, narg in (("", 1), ("_grad", 2)):
            fn = getattr(actcore, op.name + suffix)
            defaults = tuple(d for _, d in op.params)
            fn.__globals__["_pd"].clear()
            for dt in (np.float32, np.float64, np.float16):
                x = sample(300, dt)
                args = (x,) if narg == 1 else (sample(300, dt, seed=2), x)
                with np.errstate(all="ignore"):
                    want = fn.ufunc(*args, *defaults)
                    for _ in range(3):
                        got = fn(*args)
                        assert got.dtype == want.dtype, (op.name, suffix, dt)
                        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
                    out = np.empty_like(want)
                    assert fn(*args, out=out) is out
                    np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8))
                    eq = tuple(float(repr(d)) if isinstance(d, float) else d for d in defaults)
                    got = fn(*args, *eq)  # equal values, other objects
                    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
            # the default path took entries for float32 and float64, never float16
            assert set(fn.__globals__["_pd"]) == {"f", "d"}, (op.name, suffix)


def test_python_float_parameters_take_cached_0d_arrays_with_the_same_results():
    """The wrappers hand Python-float parameters of plain float32/float64 arrays to the ufunc
    as cached 0-d arrays of that dtype (activations._pfill, a call-overhead saving): the
    result must be the ufunc's with the floats, bits and dtype, on the first call (a miss) and
    the next (a hit), with out=; float16, NumPy-scalar parameters, -0.0 and NaN go as given."""
    from actcore import activations
    from actcore._registry import OPS, REQUIRED
    activations._pcache.clear()
    wrapped = [op for op in OPS.values() if op.kind != "axis" and op.kernel is not None
               and op.params and op.name != "gelu"
               and getattr(actcore, op.name).__module__ == "actcore"
               and hasattr(getattr(actcore, op.name), "ufunc")]
    assert len(wrapped) >= 8
    for op in wrapped:
        base = tuple(EXAMPLE_PARAMS.get(op.kernel) or (
            d for _, d in op.params if d is not REQUIRED))
        sets = [base, tuple(0.75 * v for v in base)]
        if op.name == "leaky_relu":
            # +0.0 and -0.0 are one dict key: a cached +0.0 must not serve a -0.0 call
            sets += [(0.0,), (-0.0,), (0.0,), (float("nan"),), (np.float64(0.25),)]
        if op.name == "threshold":
            sets += [(0.1, 0.0), (0.1, -0.0), (-0.0, 0.0)]
        kinds = [("", 1), ("_grad", 2)]
        if hasattr(actcore, op.name + "_grad_from_output"):
            kinds.append(("_grad_from_output", 2))
        for dt in (np.float16, np.float32, np.float64):
            x = sample(300, dt)
            for suffix, narg in kinds:
                fn = getattr(actcore, op.name + suffix)
                args = (x,) if narg == 1 else (sample(300, dt, seed=2), x)
                if suffix == "_grad_from_output":
                    args = (args[0], getattr(actcore, op.name)(x, *base))
                # (the output-based gradient refuses a NaN or negative slope: see its test)
                for ps in sets if suffix != "_grad_from_output" else sets[:2]:
                    with np.errstate(all="ignore"):
                        want = fn.ufunc(*args, *ps)
                        for _ in range(2):
                            got = fn(*args, *ps)
                            assert got.dtype == want.dtype, (op.name, suffix, ps, dt)
                            np.testing.assert_array_equal(got.view(np.uint8),
                                                          want.view(np.uint8))
                            out = np.empty_like(want)
                            assert fn(*args, *ps, out=out) is out
                            np.testing.assert_array_equal(out.view(np.uint8),
                                                          want.view(np.uint8))
    keys = set(activations._pcache)
    # leaky_relu's slope took the cache, and threshold's usual value 0.0 as well
    assert ("leaky_relu", "f", 0.2) in keys and ("leaky_relu", "d", 0.2) in keys
    assert ("threshold", "f", 0.1, 0.0) in keys
    assert not any(k[1] == "e" for k in keys)
    assert not any(v != v for k in keys for v in k[2:])
    assert not any(a == 0 and np.signbit(a) for e in activations._pcache.values()
                   for a in e[:-1])  # only +0.0 is stored


class _Duck:
    """A minimal __array_ufunc__ implementer, as dask/xarray are."""

    def __init__(self, data):
        self.data = data
        self.seen = []

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        self.seen.append(uf.__name__)
        args = [i.data if isinstance(i, _Duck) else i for i in inputs]
        return _Duck(getattr(uf, method)(*args, **kwargs))


def test_array_ufunc_dispatch_survives_wrappers():
    d = _Duck(np.array([-1.0, 2.0]))
    r = actcore.leaky_relu(d, 0.5)
    assert isinstance(r, _Duck) and d.seen == ["leaky_relu"]
    np.testing.assert_array_equal(r.data, [-0.5, 2.0])
    r = actcore.gelu(d, approximate="tanh")
    assert isinstance(r, _Duck) and d.seen[-1] == "gelu_tanh"
    assert isinstance(actcore.relu(d), _Duck)


def test_dask_arrays_stay_lazy():
    da = pytest.importorskip("dask.array")
    x = da.from_array(sample(1000, np.float32), chunks=100)
    y = actcore.leaky_relu(x, 0.2)
    assert isinstance(y, da.Array)
    np.testing.assert_array_equal(y.compute(), actcore.leaky_relu(x.compute(), 0.2))


@pytest.mark.parametrize("call_, match", [
    (lambda: actcore.gelu(np.ones(3), approximate="fast"), "approximate"),
    (lambda: actcore.gelu_grad(np.ones(3), np.ones(3), approximate=None), "approximate"),
    (lambda: actcore.celu(np.ones(3), alpha=0.0), "alpha"),
    (lambda: actcore.hardtanh(np.ones(3), 2.0, 1.0), "min_val"),
    (lambda: actcore.softshrink(np.ones(3), -1.0), "lambd"),
    (lambda: actcore.hardshrink(np.ones(3), np.array([0.1, -1.0, 0.2])), "lambd"),
    (lambda: actcore.leaky_relu_grad_from_output(np.ones(3), np.ones(3), -0.1),
     "negative_slope"),
    (lambda: actcore.elu_grad_from_output(np.ones(3), np.ones(3), -1.0), "alpha"),
    (lambda: actcore.prelu(np.ones((2, 3)), np.ones(4)), "weight"),
    (lambda: actcore.prelu(np.ones((2, 3)), np.ones((3, 1))), "weight"),
    (lambda: actcore.prelu(np.ones((2, 3)), np.ones(3), axis=5), "axis"),
    (lambda: actcore.rrelu(np.ones(3), 0.5, 0.1), "lower"),
    (lambda: actcore.rrelu_grad(np.ones(3), np.ones(3), training=True), "noise"),
    (lambda: actcore.set_num_threads(0), "n"),
])
def test_bad_parameters_raise_valueerror_naming_the_argument(call_, match):
    with pytest.raises(ValueError, match=match):
        call_()


def test_nothing_written_to_out_on_error():
    out = np.full(3, 5.0)
    with pytest.raises(ValueError):
        actcore.gelu(np.ones(3), approximate="bad", out=out)
    with pytest.raises(ValueError):
        actcore.hardtanh(np.ones(3), 3.0, 1.0, out=out)
    with pytest.raises(TypeError):
        actcore.relu(np.ones(3, complex), out=out)
    with pytest.raises(ValueError):
        actcore.prelu(np.ones((1, 3)), np.ones(2), out=out.reshape(1, 3))
    assert np.all(out == 5.0)


def test_complex_parameter_is_typeerror():
    with pytest.raises(TypeError, match="negative_slope"):
        actcore.leaky_relu(np.ones(3), 1j)


def test_threshold_requires_its_parameters():
    with pytest.raises(TypeError):
        actcore.threshold(np.ones(3))
    np.testing.assert_array_equal(actcore.threshold(np.array([0.0, 1.0, 2.0]), 1.0, -5.0),
                                  [-5.0, -5.0, 2.0])


# ---- prelu and rrelu ----

def test_prelu_per_channel_and_grad():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.3], np.float32)
    y = actcore.prelu(x, w)
    wb = w.reshape(1, 3, 1, 1)
    np.testing.assert_array_equal(y, np.where(x > 0, x, wb * x))
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx, dw = actcore.prelu_grad(dy, x, w)
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, dy * wb))
    want_dw = np.where(x > 0, 0, dy * x).astype(np.float64).sum(axis=(0, 2, 3))
    assert dw.shape == w.shape and dw.dtype == np.float32
    np.testing.assert_allclose(dw, want_dw, rtol=1e-5)
    # channels-last and a single shared weight
    xl = np.moveaxis(x, 1, -1)
    np.testing.assert_array_equal(actcore.prelu(xl, w, axis=-1), np.moveaxis(y, 1, -1))
    # a Python-number weight stays weak: float32 in, float32 loop and result
    assert actcore.prelu(x, 0.25).dtype == np.float32
    assert actcore.prelu_grad(dy, x, 0.25)[0].dtype == np.float32
    dx1, dw1 = actcore.prelu_grad(dy, x, np.float32(0.25))
    assert np.shape(dw1) == ()
    np.testing.assert_allclose(dw1, np.where(x > 0, 0, dy * x).astype(np.float64).sum(),
                               rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((4, 6, 33, 35), 1), ((5, 300, 7), 1), ((3, 5, 7, 64), -1),
                                        ((2, 3, 600), 1), ((1, 3, 70000), 1), ((9000, 70), 1),
                                        ((7,), 0), ((3, 4), 0), ((3, 5000), 1),
                                        ((2, 300, 300), 1)])
def test_prelu_per_channel_threaded_path_same_bits(dtype, shape, axis, monkeypatch):
    """prelu with a weight per channel runs csrc/loops.c's act_prelu_channels (planes with a
    scalar slope, rows with a tile of slopes, long channels-last rows with the weight itself,
    long rows of short planes back to planes), threaded over the whole array: the same bits as
    the leaky_relu ufunc with the broadcast weight, on 1 and 2 threads, streamed or not, fresh,
    into out= and in place; out= it cannot write (strided, overlapping, another dtype) and a
    weight of a wider dtype go to the ufunc, with its result dtype."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.flat[:5] = [np.nan, -0.0, np.inf, -np.inf, -1e-30]
    ax = axis % x.ndim
    C = shape[ax]
    w = np.linspace(-0.5, 0.7, C).astype(dtype)
    wb = w.reshape((C,) + (1,) * (x.ndim - ax - 1))
    want = actcore.ufuncs.leaky_relu(x, wb)
    ran = []
    real = _core.prelu_channels
    monkeypatch.setattr(actcore.activations._core, "prelu_channels",
                        lambda *a: (ran.append(a[2]), real(*a))[1], raising=False)
    for threads in (1, 2):
        for smin in (None, 0):
            old_par = _core.parallel_min(64)
            old_min = _core.stream_min() if smin is None else _core.stream_min(smin)
            old_always = _core.stream_always(1)
            calls = _core.stream_calls()
            try:
                with actcore.num_threads(threads):
                    got = actcore.prelu(x, w, axis=axis)
                    o = np.full_like(x, 5)
                    assert actcore.prelu(x, w, axis=axis, out=o) is o
                    xx = x.copy()
                    actcore.prelu(xx, w, axis=axis, out=xx)
            finally:
                _core.parallel_min(old_par)
                _core.stream_min(old_min)
                _core.stream_always(old_always)
            for a in (got, o, xx):
                assert a.dtype == dtype
                np.testing.assert_array_equal(bits(a), bits(want), err_msg=f"t={threads}")
            if STREAMING_STORES:  # fresh, out= and in place streamed at threshold 0
                assert _core.stream_calls() - calls == (3 if smin == 0 else 0)
    assert ran == [ax] * 12  # the C path ran for every call above
    # out= the threaded path cannot take: strided, overlapping x, another dtype
    strided = np.zeros(shape + (2,), dtype)[..., 0]
    np.testing.assert_array_equal(bits(actcore.prelu(x, w, axis=axis, out=strided)), bits(want))
    if x.size > 1:
        xs = np.concatenate([x.ravel(), x.ravel()[:1]])
        shifted = xs[1:].reshape(shape)  # overlaps xs[:-1] by all but one element
        src = xs[:-1].reshape(shape)
        ref = actcore.ufuncs.leaky_relu(src.copy(), wb)
        np.testing.assert_array_equal(bits(actcore.prelu(src, w, axis=axis, out=shifted)),
                                      bits(ref))
    other = np.float32 if dtype == np.float64 else np.float64
    np.testing.assert_array_equal(actcore.prelu(x, w, axis=axis, out=np.empty(shape, other)),
                                  actcore.ufuncs.leaky_relu(x, wb, out=np.empty(shape, other)))
    assert ran == [ax] * 12  # none of these took it
    if dtype != np.float64:
        wide = w.astype(np.float64)
        assert actcore.prelu(x, wide, axis=axis).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((6, 7, 9, 11), 1), ((50, 30, 8), -1), ((3000,), 0),
                                        ((2, 5, 40000), 1)])
def test_prelu_grad_dweight_reduction(dtype, shape, axis):
    """dweight (the per-channel sum of dy*x over x <= 0) against a float64 sum, in any layout,
    and with the same bits for 1 and 2 threads; a NaN reaches only its channel."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C = shape[axis]
    w = np.linspace(0.1, 0.3, C).astype(dtype)
    ax = axis % x.ndim
    others = tuple(i for i in range(x.ndim) if i != ax)
    xd, dyd = x.astype(np.float64), dy.astype(np.float64)
    want = np.where(xd > 0, 0, dyd * xd).sum(axis=others)
    old = _core.parallel_min(64)
    try:
        with actcore.num_threads(1):
            dx1, dw1 = actcore.prelu_grad(dy, x, w, axis=axis)
        with actcore.num_threads(2):
            dx2, dw2 = actcore.prelu_grad(dy, x, w, axis=axis)
    finally:
        _core.parallel_min(old)
    assert dw1.dtype == dtype and dw1.shape == (C,)
    np.testing.assert_array_equal(dw1.view(np.uint8), dw2.view(np.uint8))
    np.testing.assert_array_equal(dx1, dx2)
    tol = {np.float16: 1e-3, np.float32: 1e-6, np.float64: 1e-13}[dtype]
    scale = np.abs(dyd * xd).sum(axis=others)  # the sum's condition: rounding of the result
    assert np.all(np.abs(dw1.astype(np.float64) - want) <= tol * scale + 1e-300)
    # other memory layouts: the same sums (their reduction order may differ)
    xf, dyf = np.asfortranarray(x), np.asfortranarray(dy)
    for xa, dya in ((x[::-1].copy()[::-1], dy[::-1].copy()[::-1]), (xf, dyf)):
        dwa = actcore.prelu_grad(dya, xa, w, axis=axis)[1].astype(np.float64)
        assert np.all(np.abs(dwa - want) <= tol * scale + 1e-300)
    # one shared weight: the sum over everything
    dws = actcore.prelu_grad(dy, x, dtype(0.25) if dtype != np.float16 else w[:1], axis=axis)[1]
    assert abs(float(np.asarray(dws).ravel()[0]) - want.sum()) <= tol * scale.sum()
    # NaN in channel 0 only
    xn = x.copy()
    xn[(0,) * ax + (0,)] = np.nan
    dwn = actcore.prelu_grad(dy, xn, w, axis=axis)[1]
    assert np.isnan(dwn[0]) and not np.isnan(dwn[1:]).any()
    # dx into out=
    o = np.empty_like(x)
    assert actcore.prelu_grad(dy, x, w, axis=axis, out=o)[0] is o
    np.testing.assert_array_equal(o, dx1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nchw", "nhwc", "reversed", "fortran", "lines"])
def test_prelu_grad_one_pass_matches_ufunc(dtype, layout):
    """prelu_grad's single pass (dx written by the dweight reduction) gives dx bit for bit equal
    to the leaky_relu_grad ufunc and dweight equal to the two-pass path's, with special values,
    out= (fresh, strided, in place on dy, on x itself) and single weights."""
    rng = np.random.default_rng(7)
    shape, axis = ((5, 6, 9, 13), 1) if layout != "lines" else ((700, 3, 40), 1)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    x.flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -1e-40]
    dy.flat[6:9] = [np.nan, np.inf, -np.inf]
    if layout == "nhwc":
        x, dy, axis = np.moveaxis(x, 1, -1).copy(), np.moveaxis(dy, 1, -1).copy(), -1
    elif layout == "reversed":
        x, dy = x[::-1, :, ::-1], dy[:, :, ::-1]
    elif layout == "fortran":
        x, dy = np.asfortranarray(x), np.asfortranarray(dy)
    C = x.shape[axis]
    w = np.linspace(-0.5, 0.75, C).astype(dtype)
    wb = w.reshape((C,) + (1,) * (x.ndim - axis % x.ndim - 1))
    want = actcore.ufuncs.leaky_relu_grad(dy, x, wb)
    ax = axis % x.ndim
    others = tuple(i for i in range(x.ndim) if i != ax)
    xd, dyd = x.astype(np.float64), dy.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want_dw = np.where(xd > 0, 0, dyd * xd).sum(axis=others)
    dx, dw = actcore.prelu_grad(dy, x, w, axis=axis)
    np.testing.assert_array_equal(np.ascontiguousarray(dx).view(np.uint8),
                                  np.ascontiguousarray(want).view(np.uint8))
    assert dw.dtype == dtype and dw.shape == (C,)
    np.testing.assert_allclose(dw, want_dw, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # out=: a fresh array, a strided view, dy itself (in place), x itself (dweight from x first)
    o = np.empty_like(x)
    assert actcore.prelu_grad(dy, x, w, axis=axis, out=o)[0] is o
    np.testing.assert_array_equal(o, want)
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype)
    ov = big[..., ::2]
    d2, dw2 = actcore.prelu_grad(dy, x, w, axis=axis, out=ov)
    assert d2 is ov and not big[..., 1::2].any()
    np.testing.assert_array_equal(ov, want)
    np.testing.assert_array_equal(dw2, dw)
    dyc = dy.copy()
    d3, dw3 = actcore.prelu_grad(dyc, x, w, axis=axis, out=dyc)
    np.testing.assert_array_equal(d3, want)
    np.testing.assert_array_equal(dw3, dw)
    xc = x.copy()
    d4, dw4 = actcore.prelu_grad(dy, xc, w, axis=axis, out=xc)
    np.testing.assert_array_equal(d4, want)
    np.testing.assert_allclose(dw4, dw, rtol=1e-12)
    # one weight: a Python number, a 0-d and a 1-element array (contiguous or not)
    for wt in (0.25, np.array(0.25, dtype), np.array([0.25], dtype)):
        want1 = actcore.ufuncs.leaky_relu_grad(dy, x, wt)
        d1, s1 = actcore.prelu_grad(dy, x, wt, axis=axis)
        np.testing.assert_array_equal(d1, want1)
        assert np.shape(s1) == np.shape(wt) and s1.dtype == dtype
        np.testing.assert_allclose(np.asarray(s1).ravel()[0], want_dw.sum(),
                                   rtol=1e-5 if dtype == np.float32 else 1e-12)
    # lists and a 0-d weight: converted first, then the same shortcut
    dl, sl = actcore.prelu_grad([1.0, -2.0, 3.0], [-1.0, 2.0, -3.0], np.array(0.25))
    np.testing.assert_array_equal(dl, [0.25, -2.0, 0.75])
    assert sl.shape == () and sl == -1.0 * 1.0 + 3.0 * -3.0
    # a Python number skips the planner (activations._prelu_grad_one), into a new dx or a
    # contiguous out=: the bits of the planned path (finite data: the sums above are NaN)
    from actcore.batchnorm import _negative_part_dot

    xf, dyf = (rng.standard_normal(x.shape).astype(dtype) for _ in range(2))
    d5, s5 = actcore.prelu_grad(dyf, xf, 0.25)
    o6 = np.empty_like(xf)
    d6, s6 = actcore.prelu_grad(dyf, xf, 0.25, out=o6)
    d7, s7 = _negative_part_dot(xf.reshape(1, -1), dyf.reshape(1, -1), 0, weight=0.25)
    assert d6 is o6 and np.isfinite(s5)
    assert s5.tobytes() == s6.tobytes() == s7.astype(dtype).tobytes()
    assert d5.tobytes() == d6.tobytes() == d7.tobytes()
    # out= sharing x's memory, or dy's other than dy itself, leaves the shortcut: still the
    # ufunc's dx (x read before it is overwritten)
    dyc, xc = dyf.copy(), xf.copy()
    assert actcore.prelu_grad(dyc, xc, 0.25, out=dyc)[0] is dyc
    np.testing.assert_array_equal(dyc, d5)
    dyc = dyf.copy()
    assert actcore.prelu_grad(dyc, xc, 0.25, out=xc)[0] is xc
    np.testing.assert_array_equal(xc, d5)


def test_prelu_kernel_requires_zero_mean():
    """The batch-norm kernel's prelu mode (pw) forms dy x without a mean (bn_prelu_dot): the
    glue refuses another mean before anything is written."""
    x = np.linspace(-1, 1, 4096, dtype=np.float32).reshape(1, 1, -1)
    out = np.full_like(x, 7.0)
    with pytest.raises(ValueError, match="mean must be 0"):
        _core.bn_kernel("grad_reduce", x=x, layout=0, dy=x, out=out,
                        pw=np.array([0.25], np.float32), mean=np.array([0.5]))
    assert (out == 7.0).all()


def test_shifted_overlapping_out_on_two_threads():
    """out = x shifted back by k elements: NumPy passes the two views unbuffered, counting on
    one forward pass over them, which a split over threads is not (the second thread's first
    stores land on inputs of the first thread's last elements).  Such calls run serially; the
    results must be those of a separate output, for any thread count."""
    n = 1 << 16
    old_par = _core.parallel_min(64)
    try:
        for dt in (np.float16, np.float32, np.float64):
            for k in (1, 3):
                with actcore.num_threads(2):
                    b = np.linspace(-4, 4, n + k).astype(dt)
                    want = actcore.ufuncs.silu(b[k:].copy())
                    actcore.ufuncs.silu(b[k:], out=b[:-k])
                    np.testing.assert_array_equal(bits(b[:-k]), bits(want), err_msg=f"{dt} {k}")
                    b = np.linspace(-4, 4, n + k).astype(dt)
                    s = np.full(n, 0.2, dt)
                    want = actcore.ufuncs.leaky_relu(b[k:].copy(), s)
                    actcore.ufuncs.leaky_relu(b[k:], s, out=b[:-k])
                    np.testing.assert_array_equal(bits(b[:-k]), bits(want), err_msg=f"{dt} {k}")
                    x = np.linspace(-3, 3, n).astype(dt)
                    d = np.linspace(-1, 1, n + k).astype(dt)
                    want = actcore.ufuncs.silu_grad(d[k:].copy(), x)
                    actcore.ufuncs.silu_grad(d[k:], x, out=d[:-k])
                    np.testing.assert_array_equal(bits(d[:-k]), bits(want), err_msg=f"{dt} {k}")
    finally:
        _core.parallel_min(old_par)


def test_rrelu_eval_and_training():
    x = sample(10000, np.float32)
    np.testing.assert_array_equal(actcore.rrelu(x), actcore.leaky_relu(x, (1 / 8 + 1 / 3) / 2))
    # eval with float bounds takes a shortcut to the cached slope (activations.rrelu): the
    # ufunc's bits, dtype and out=, twice (a miss, then a hit), a -0.0 slope kept apart
    for xx in (x, x.astype(np.float64), x.astype(np.float16)):
        for lo, hi in ((0.125, 1 / 3), (0.0, 0.0), (-0.0, -0.0), (0.0, 0.0), (0.2, 0.2)):
            want = actcore.ufuncs.leaky_relu(xx, (lo + hi) / 2.0)
            for _ in range(2):
                got = actcore.rrelu(xx, lo, hi)
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
            out = np.empty_like(want)
            assert actcore.rrelu(xx, lo, hi, out=out) is out
            np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8))
    # ... and on a hit it does not go through the leaky_relu wrapper at all (the cache's key
    # must be the one that wrapper fills: a stale key format made every call a miss)
    from actcore import activations
    real = activations._LEAKY
    activations._LEAKY = None  # calling it would raise TypeError
    try:
        for xx in (x, x.astype(np.float64)):
            np.testing.assert_array_equal(actcore.rrelu(xx), real(xx, (1 / 8 + 1 / 3) / 2))
    finally:
        activations._LEAKY = real
    y, noise = actcore.rrelu(x, 0.1, 0.3, training=True, rng=0, return_noise=True)
    neg = x < 0
    slopes = y[neg] / x[neg]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6
    assert slopes.std() > 0.03  # really random, not one slope
    np.testing.assert_array_equal(y[~neg], x[~neg])
    y2 = actcore.rrelu(x, 0.1, 0.3, training=True, rng=0)
    np.testing.assert_array_equal(y, y2)  # a seed reproduces
    dx = actcore.rrelu_grad(np.ones_like(x), x, 0.1, 0.3, training=True, noise=noise)
    np.testing.assert_array_equal(dx[neg], noise[neg])


# ---- PyTorch cross-check (when installed) ----

TORCH_MAP = {
    "sigmoid": ("sigmoid", {}), "log_sigmoid": ("logsigmoid", {}), "tanh": ("tanh", {}),
    "relu": ("relu", {}), "relu6": ("relu6", {}), "leaky_relu": ("leaky_relu", {}),
    "elu": ("elu", {}), "selu": ("selu", {}), "celu": ("celu", {}), "gelu": ("gelu", {}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}), "silu": ("silu", {}), "mish": ("mish", {}),
    "softplus": ("softplus", {}), "softsign": ("softsign", {}),
    "hardsigmoid": ("hardsigmoid", {}), "hardswish": ("hardswish", {}),
    "hardtanh": ("hardtanh", {}), "threshold": ("threshold", {}),
    "hardshrink": ("hardshrink", {}), "softshrink": ("softshrink", {}),
    "tanhshrink": ("tanhshrink", {}),
}


@pytest.mark.torch
@pytest.mark.parametrize("name,params", [k for k in KERNELS if k[0] in TORCH_MAP],
                         ids=[k[0] for k in KERNELS if k[0] in TORCH_MAP])
def test_matches_pytorch_forward_and_autograd(name, params):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    fname, kw = TORCH_MAP[name]
    fn = getattr(F, fname)
    x = sample(5000, np.float64)
    x = x[(np.abs(x) > 1e-3)]  # away from kinks, where conventions are tested separately
    for k in (0.0, 3.0, -3.0, 6.0, 0.7, -0.7, 0.25, 1.5, -2.0, 5.0):
        x = x[np.abs(x - k) > 1e-6]
    # PyTorch rounds some constants to float32 even in float64 (hardsigmoid's 1/6, celu's
    # 1/alpha in the backward): compare those to float32 precision
    rtol = 1e-6 if name in ("celu", "hardsigmoid") else 1e-10
    tx = torch.tensor(x, requires_grad=True)
    ty = fn(tx, *params, **kw)
    ty.backward(torch.ones_like(ty))
    np.testing.assert_allclose(ufunc(name)(x, *params), ty.detach().numpy(), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(ufunc(name, "grad")(np.ones_like(x), x, *params),
                               tx.grad.numpy(), rtol=rtol, atol=1e-14)
