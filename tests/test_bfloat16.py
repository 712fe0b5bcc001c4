"""bfloat16 (ml_dtypes) loops: SPEC §1, "bfloat16 (from ml_dtypes) is supported when that package
is installed", computed as float16 is: the float32 formula on the widened values, rounded once.

The reference for every op and kind is the float32 ufunc on the same (bfloat16-exact) inputs,
rounded by ml_dtypes' own float32 -> bfloat16 cast: the results must be equal bit for bit.
Every test but test_without_ml_dtypes is skipped (pytest.importorskip) when ml_dtypes is not
installed; that one runs either way.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import GOUT_KERNELS, KERNELS, call, sample

import actcore
from actcore import _core

try:
    import ml_dtypes
except ImportError:
    ml_dtypes = None
BF16 = None if ml_dtypes is None else np.dtype(ml_dtypes.bfloat16)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _needs_ml_dtypes(request):
    if request.function is not test_without_ml_dtypes:
        pytest.importorskip("ml_dtypes")


def _run(code):
    """Run code in a fresh interpreter that imports this checkout's actcore."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def test_without_ml_dtypes():
    """ml_dtypes not importable: actcore imports and works, and says why bfloat16 is missing."""
    r = _run("""
        import sys
        sys.modules["ml_dtypes"] = None          # import ml_dtypes -> ImportError
        import numpy as np
        import actcore
        from actcore import _core
        assert _core.bfloat16_type() == -1
        x = np.linspace(-3, 3, 1000)
        for dt in (np.float16, np.float32, np.float64):
            y = actcore.gelu(x.astype(dt))
            assert y.dtype == dt, y.dtype
            assert actcore.leaky_relu(x.astype(dt), 0.2).dtype == dt
        img = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
        actcore.batch_norm(img, None, None, training=True)
        actcore.softmax(x.astype(np.float32))
        status = actcore.config()["bfloat16"]
        assert status.startswith("no") and "ml_dtypes" in status, status
        try:
            actcore.relu(np.ones(3, complex))
        except TypeError as e:
            assert "ml_dtypes" in str(e), e
        else:
            raise AssertionError("complex input did not raise")
        try:
            import ml_dtypes  # noqa: F401
        except ImportError:
            pass
        else:
            raise AssertionError("ml_dtypes should not be importable here")
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def bits16(a):
    return np.ascontiguousarray(a).view(np.uint16)


def u16(a):
    """The bits, every NaN as 0x7fc0: NaN stays NaN, but its sign is whatever the arithmetic
    gave (the baseline build's float32 and bfloat16 loops may order a NaN's operands
    differently), as for float32."""
    b = bits16(a)
    return np.where((b & 0x7FFF) > 0x7F80, np.uint16(0x7FC0), b)


def bf16_sample(n, seed=0, scale=4.0):
    """sample() rounded to bfloat16, with the specials: NaN, +-inf, the largest finite value,
    the smallest normal and subnormals, signed zeros."""
    x = sample(n, np.float32, seed=seed, scale=scale)
    bits = np.array([0x7FC0, 0xFFC0, 0x7F80, 0xFF80, 0x7F7F, 0xFF7F, 0x0080, 0x8080, 0x0001,
                     0x8001, 0x0040, 0x0000, 0x8000, 0x3F80, 0xBF80, 0x4200, 0xC200], np.uint16)
    x = x.astype(BF16)
    k = min(n - 20, bits.size) if n > 40 else 0
    if k > 0:
        x[20:20 + k] = bits[:k].view(BF16)
    return x


def ref(name, kind, x, params, dy=None):
    """The float32 ufunc on the same values, rounded by ml_dtypes' cast.  The bfloat16 loop sees
    Python-float parameters cast to bfloat16 (as NumPy casts them, from float64): so does this."""
    f32 = tuple(np.asarray(p, np.float64).astype(BF16).astype(np.float32) for p in params)
    d32 = None if dy is None else dy.astype(np.float32)
    with np.errstate(all="ignore"):
        return call(name, kind, x.astype(np.float32), f32, dy=d32).astype(BF16)


KINDS = [(n, p, k) for n, p in KERNELS for k in ("fwd", "grad")] + \
        [(n, p, "gout") for n, p in GOUT_KERNELS]


@pytest.mark.parametrize("name,params,kind", KINDS, ids=[f"{n}-{k}" for n, _, k in KINDS])
def test_float32_rounded_once(name, params, kind):
    x = bf16_sample(3000)
    dy = None
    if kind != "fwd":
        dy = bf16_sample(3000, seed=1, scale=2.0)
    if kind == "gout":
        x = call(name, "fwd", x, params)  # the forward output, bfloat16
        assert x.dtype == BF16
    got = call(name, kind, x, params, dy=dy)
    assert got.dtype == BF16 and got.shape == x.shape
    want = ref(name, kind, x, params, dy)
    np.testing.assert_array_equal(u16(got), u16(want), err_msg=f"{name} {kind}")


def test_loops_on_every_ufunc():
    names = [n for n in actcore.ufuncs.__all__ if isinstance(getattr(actcore.ufuncs, n), np.ufunc)]
    assert len(names) == len(KINDS)
    for n in names:
        uf = getattr(actcore.ufuncs, n)
        args = [np.ones(4, BF16)] * uf.nin
        assert uf(*args).dtype == BF16, n
    assert _core.bfloat16_type() == BF16.num
    assert actcore.config()["bfloat16"].startswith("yes")


def test_conversion_exhaustive():
    """Every bfloat16 bit pattern through an identity (hardtanh(-inf, inf)): the widening in C
    must keep every value, NaN stays NaN (quiet; its sign is the arithmetic's, as for float32).
    The narrowing is checked against ml_dtypes' cast by every other test."""
    h = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(BF16)
    inf = np.array(np.inf, BF16)
    got = actcore.ufuncs.hardtanh(h, -inf, inf)
    nan = (bits16(h) & 0x7FFF) > 0x7F80
    np.testing.assert_array_equal(bits16(got)[~nan], bits16(h)[~nan])
    assert np.all((bits16(got)[nan] & 0x7FFF) == 0x7FC0)  # the quiet NaN


def test_rounding_to_nearest_even_overflow_subnormals():
    """The narrowing in C against ml_dtypes' cast, on float32 results that need rounding:
    leaky_relu_grad gives dy * slope where x < 0, a product of two bfloat16 values (exact in
    float32, 16 significant bits: ties to even are frequent), over the whole exponent range,
    into overflow (rounds past the largest finite value to inf) and subnormals."""
    rng = np.random.default_rng(5)
    n = 200_000
    with np.errstate(over="ignore"):
        dy = (rng.standard_normal(n) * np.exp2(rng.integers(-140, 128, n))).astype(np.float32)
        slope = (rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)).astype(np.float32)
        dy, slope = dy.astype(BF16), slope.astype(BF16)
    big = np.array([0x7F7F, 0xFF7F, 0x7F7E], np.uint16).view(BF16)  # around the largest
    dy = np.concatenate([dy, big, big])
    slope = np.concatenate([slope, np.array([1.00390625, 1.0078125, 1.00390625, 0.99609375,
                                             1.0, 0.5], np.float32).astype(BF16)])
    x = -np.ones_like(dy)
    got = actcore.ufuncs.leaky_relu_grad(dy, x, slope)
    with np.errstate(over="ignore"):
        prod = dy.astype(np.float32) * slope.astype(np.float32)
        want = prod.astype(BF16)
    np.testing.assert_array_equal(u16(got), u16(want))
    assert np.isinf(got.astype(np.float32)).any()  # overflow was reached
    tiny = np.abs(prod) < np.finfo(np.float32).tiny
    assert tiny.sum() > 100 and np.any(u16(got)[tiny] & 0x7FFF)  # nonzero subnormal results


@pytest.mark.parametrize("name,params", KERNELS, ids=[n for n, _ in KERNELS])
def test_out_in_place_layouts(name, params):
    for kind in ("fwd", "grad"):
        x2d = bf16_sample(40 * 60).reshape(40, 60)
        want = call(name, kind, x2d, params)
        out = np.empty_like(x2d)
        assert call(name, kind, x2d, params, out=out) is out
        np.testing.assert_array_equal(u16(out), u16(want))
        xx = x2d.copy()
        call(name, kind, xx, params, out=xx)  # in place: out is the input
        np.testing.assert_array_equal(u16(xx), u16(want))
        buf = np.zeros(x2d.size * 2 + 1, np.uint8)
        un = np.frombuffer(buf[1:].data, dtype=BF16).reshape(x2d.shape)
        un[...] = x2d
        assert not un.flags.aligned
        for label, xv in [("F", np.asfortranarray(x2d)), ("sliced", x2d[:, ::2]),
                          ("negative", x2d[::-1, ::-3]), ("transposed", x2d.T),
                          ("unaligned", un)]:
            got = call(name, kind, xv, params)
            assert got.dtype == BF16
            np.testing.assert_array_equal(u16(got), u16(call(name, kind,
                                                             np.ascontiguousarray(xv), params)),
                                          err_msg=f"{name} {kind} {label}")
        # a strided out= and a broadcast (stride 0) input
        o = np.zeros((40, 120), BF16)[:, ::2]
        call(name, kind, x2d, params, out=o)
        np.testing.assert_array_equal(u16(o), u16(want))
        b = np.broadcast_to(np.array(1.25, BF16), (5, 7))
        np.testing.assert_array_equal(u16(call(name, kind, b, params)),
                                      u16(call(name, kind, np.full((5, 7), 1.25, BF16), params)))


def test_lengths_blocks_and_threads():
    """Lengths around the 256-element conversion blocks, and the same bits on 1 and 2 threads
    for an array large enough to be split."""
    base = bf16_sample(1100)
    for n in (1, 2, 7, 255, 256, 257, 511, 512, 513, 1100):
        x = base[:n]
        np.testing.assert_array_equal(u16(actcore.gelu(x)), u16(ref("gelu", "fwd", x, ())))
    big = bf16_sample(1 << 18, seed=3)
    with actcore.num_threads(1):
        one = actcore.silu(big)
    with actcore.num_threads(2):
        two = actcore.silu(big)
    np.testing.assert_array_equal(u16(one), u16(two))
    np.testing.assert_array_equal(u16(one), u16(ref("silu", "fwd", big, ())))


def test_empty_zero_d_and_special_values():
    for name, params in KERNELS:
        e = call(name, "fwd", np.zeros((0, 3), BF16), params)
        assert e.shape == (0, 3) and e.dtype == BF16
        g = call(name, "grad", np.zeros(0, BF16), params)
        assert g.shape == (0,) and g.dtype == BF16
        x0 = np.array(-0.75, BF16)
        r0 = call(name, "fwd", x0, params)
        assert np.ndim(r0) == 0 and r0.dtype == BF16
        np.testing.assert_array_equal(u16(np.asarray(r0).reshape(1)),
                                      u16(call(name, "fwd", x0.reshape(1), params)))
        nan = call(name, "fwd", np.array([np.nan, -np.nan], BF16), params)
        assert np.all(np.isnan(nan.astype(np.float32))), name
    inf = np.array([np.inf, -np.inf], BF16)
    np.testing.assert_array_equal(actcore.sigmoid(inf).astype(np.float32), [1.0, 0.0])
    np.testing.assert_array_equal(actcore.tanh(inf).astype(np.float32), [1.0, -1.0])
    np.testing.assert_array_equal(actcore.relu(inf).astype(np.float32), [np.inf, 0.0])
    np.testing.assert_array_equal(actcore.softplus(inf).astype(np.float32), [np.inf, 0.0])
    with np.errstate(all="raise"):  # no spurious floating-point warnings
        actcore.gelu(bf16_sample(1000))
        actcore.mish_grad(bf16_sample(1000, seed=1), bf16_sample(1000))


def test_where_keyword():
    x = bf16_sample(100)
    mask = np.arange(100) % 3 == 0
    out = np.full(100, 7.0, BF16)
    actcore.leaky_relu(x, 0.1, out=out, where=mask)
    np.testing.assert_array_equal(u16(out[mask]), u16(ref("leaky_relu", "fwd", x, (0.1,))[mask]))
    assert np.all(out[~mask].astype(np.float32) == 7.0)


def test_wrappers_with_python_parameters_stay_bfloat16():
    x = bf16_sample(2000)
    dy = bf16_sample(2000, seed=2)
    cases = [
        (actcore.leaky_relu(x, 0.2), ref("leaky_relu", "fwd", x, (0.2,))),
        (actcore.leaky_relu(x, 2), ref("leaky_relu", "fwd", x, (2.0,))),  # a Python int
        (actcore.elu(x, alpha=0.7), ref("elu", "fwd", x, (0.7,))),
        (actcore.celu(x, 1.3), ref("celu", "fwd", x, (1.3,))),
        (actcore.softplus(x, beta=1.5, threshold=5.0), ref("softplus", "fwd", x, (1.5, 5.0))),
        (actcore.hardtanh(x, -2.0, 1.5), ref("hardtanh", "fwd", x, (-2.0, 1.5))),
        (actcore.swish(x, 1.5), ref("swish", "fwd", x, (1.5,))),
        (actcore.gelu(x, approximate="tanh"), ref("gelu_tanh", "fwd", x, ())),
        (actcore.elu(x), ref("elu", "fwd", x, (1.0,))),  # the default parameter
        (actcore.leaky_relu_grad(dy, x, 0.2), ref("leaky_relu", "grad", x, (0.2,), dy)),
        (actcore.softplus_grad(dy, x, 1.5), ref("softplus", "grad", x, (1.5, 20.0), dy)),
        (actcore.prelu(x, 0.25), ref("leaky_relu", "fwd", x, (0.25,))),
        (actcore.rrelu(x), ref("leaky_relu", "fwd", x, ((1 / 8 + 1 / 3) / 2,))),
        # Python floats in any position, dy included (bfloat16 operands are promoted first)
        (actcore.ufuncs.leaky_relu_grad(1.0, x, 0.2),
         ref("leaky_relu", "grad", x, (0.2,), np.ones_like(x))),
    ]
    for i, (got, want) in enumerate(cases):
        assert got.dtype == BF16, i
        np.testing.assert_array_equal(u16(got), u16(want), err_msg=str(i))
    # NumPy's rules otherwise: a float32 parameter makes the float32 loop run
    assert actcore.leaky_relu(x, np.float32(0.2)).dtype == np.float32
    assert actcore.leaky_relu(x, np.full(2000, 0.2, np.float32)).dtype == np.float32
    # a bfloat16 parameter array is accepted by the checks and broadcasts
    s = np.linspace(0, 0.5, 2000).astype(BF16)
    got = actcore.leaky_relu(x, s)
    assert got.dtype == BF16
    np.testing.assert_array_equal(
        u16(got), u16(actcore.ufuncs.leaky_relu(x.astype(np.float32), s.astype(np.float32))
                      .astype(BF16)))
    with pytest.raises(ValueError, match="lambd"):
        actcore.hardshrink(x, np.array(-1.0, BF16))


def test_prelu_and_rrelu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4, 5)).astype(BF16)
    dy = rng.standard_normal((8, 4, 5)).astype(BF16)
    w = np.array([0.1, 0.2, 0.3, 0.4]).astype(BF16)
    y = actcore.prelu(x, w)
    assert y.dtype == BF16
    w32 = w.astype(np.float32)
    y32 = actcore.prelu(x.astype(np.float32), w32)
    np.testing.assert_array_equal(u16(y), u16(y32.astype(BF16)))
    dx, dw = actcore.prelu_grad(dy, x, w)
    assert dx.dtype == BF16 and dw.dtype == BF16 and dw.shape == (4,)
    dx32, dw32 = actcore.prelu_grad(dy.astype(np.float32), x.astype(np.float32), w32)
    np.testing.assert_array_equal(u16(dx), u16(dx32.astype(BF16)))
    # dweight: the same float64 sums as for float32 input, rounded to bfloat16
    np.testing.assert_allclose(dw.astype(np.float32), dw32, rtol=2.0**-8, atol=0)
    y, noise = actcore.rrelu(x, training=True, rng=1, return_noise=True)
    assert y.dtype == BF16 and noise.dtype == BF16
    g = actcore.rrelu_grad(dy, x, training=True, noise=noise)
    assert g.dtype == BF16


def test_batch_norm_bfloat16_uses_float32_statistics():
    """SPEC §4: bfloat16 input, float32 statistics and parameters: the same bits as float32 input
    holding the same values, rounded once to bfloat16."""
    rng = np.random.default_rng(7)
    for axis, shape in [(1, (4, 6, 9, 11)), (-1, (4, 9, 11, 6)), (1, (32, 6))]:
        x = (rng.standard_normal(shape) * 3 + 10).astype(BF16)
        r = rng.standard_normal(shape).astype(BF16)
        dy = rng.standard_normal(shape).astype(BF16)
        x32, r32, dy32 = (a.astype(np.float32) for a in (x, r, dy))
        w = rng.uniform(0.5, 2, 6).astype(np.float32)
        b = rng.standard_normal(6).astype(np.float32)
        for act in (None, "relu", "gelu", ("leaky_relu", {"negative_slope": 0.2})):
            rm, rv = np.zeros(6, np.float32), np.ones(6, np.float32)
            rm32, rv32 = rm.copy(), rv.copy()
            y, mean, invstd = actcore.batch_norm_train(x, w, b, axis=axis, activation=act,
                                                       residual=r, running_mean=rm,
                                                       running_var=rv)
            y32, mean32, invstd32 = actcore.batch_norm_train(x32, w, b, axis=axis,
                                                             activation=act, residual=r32,
                                                             running_mean=rm32,
                                                             running_var=rv32)
            assert y.dtype == BF16 and mean.dtype == np.float32 and invstd.dtype == np.float32
            np.testing.assert_array_equal(u16(y), u16(y32.astype(BF16)))
            np.testing.assert_array_equal(mean, mean32)
            np.testing.assert_array_equal(invstd, invstd32)
            np.testing.assert_array_equal(rm, rm32)
            np.testing.assert_array_equal(rv, rv32)
            # the backward of the same forward without the residual (the statistics do not
            # depend on it): dz stays float32 inside, dx is rounded once
            dx, dw, db = actcore.batch_norm_grad(dy, x, mean, invstd, w, axis=axis,
                                                 activation=act, bias=b)
            dx32, dw32, db32 = actcore.batch_norm_grad(dy32, x32, mean, invstd, w, axis=axis,
                                                       activation=act, bias=b)
            assert dx.dtype == BF16
            np.testing.assert_array_equal(u16(dx), u16(dx32.astype(BF16)))
            np.testing.assert_array_equal(dw, dw32)
            np.testing.assert_array_equal(db, db32)
            # with the residual, dresidual (= dz) is returned in x's dtype and dx is computed
            # from that rounded dz, as for float16: within bfloat16 rounding of the float32 dx
            dx, _, _, dres = actcore.batch_norm_grad(dy, x, mean, invstd, w, axis=axis,
                                                     activation=act, bias=b, residual=r)
            dx32, _, _, dres32 = actcore.batch_norm_grad(dy32, x32, mean, invstd, w, axis=axis,
                                                         activation=act, bias=b, residual=r32)
            assert dx.dtype == BF16 and dres.dtype == BF16
            np.testing.assert_array_equal(u16(dres), u16(dres32.astype(BF16)))
            scale = np.abs(dx32).max()
            np.testing.assert_allclose(dx.astype(np.float32), dx32, rtol=2.0**-6,
                                       atol=scale * 2.0**-7)
            yi = actcore.batch_norm(x, rm, rv, w, b, axis=axis, activation=act)
            yi32 = actcore.batch_norm(x32, rm, rv, w, b, axis=axis, activation=act)
            np.testing.assert_array_equal(u16(yi), u16(yi32.astype(BF16)))
            out = np.empty_like(x)
            assert actcore.batch_norm(x, rm, rv, w, b, axis=axis, activation=act,
                                      out=out) is out
            np.testing.assert_array_equal(u16(out), u16(yi))
    # a constant channel far from 0 (SPEC §4): variance 0, y = bias
    x = np.full((8, 2, 16), 1.0e7, np.float32).astype(BF16)
    y, mean, invstd = actcore.batch_norm_train(x, None, np.array([0.5, -1.0]))
    np.testing.assert_array_equal(y.astype(np.float32)[:, 0], 0.5)
    np.testing.assert_array_equal(y.astype(np.float32)[:, 1], -1.0)
    layer = actcore.BatchNorm(6)
    z = layer(rng.standard_normal((4, 6, 3)).astype(BF16))
    assert z.dtype == BF16
    assert layer.backward(np.ones_like(z)).dtype == BF16
    with pytest.raises(TypeError, match="running_mean"):
        actcore.batch_norm(x, np.zeros(2, BF16), np.ones(2, np.float32))


def test_axis_ops_accept_bfloat16():
    x = bf16_sample(64 * 8).reshape(64, 8)
    x = np.where(np.isfinite(x.astype(np.float32)), x, np.zeros_like(x))
    p = actcore.softmax(x, axis=-1)
    assert p.dtype == BF16
    np.testing.assert_array_equal(u16(p), u16(actcore.softmax(x.astype(np.float32),
                                                              axis=-1).astype(BF16)))
    assert actcore.swiglu(x, axis=-1).dtype == BF16


def test_unsupported_mixes_raise_clearly():
    with pytest.raises(TypeError) as e:
        actcore.relu(np.ones(3, np.complex64))
    assert "relu" in str(e.value) and "bfloat16" in str(e.value)
    with pytest.raises(TypeError):
        _core.register_bfloat16(np.float16)
    assert _core.register_bfloat16(BF16) is False  # already registered: a no-op


@pytest.mark.parametrize("order", ["ml_dtypes_first", "actcore_first", "find_spec_first"])
def test_registration_in_either_import_order(order):
    """Loops are registered whether ml_dtypes is imported before actcore (at once) or after it
    (by the import hook), also after a mere importlib.util.find_spec("ml_dtypes")."""
    first = {
        "ml_dtypes_first": "import ml_dtypes\nimport actcore",
        "actcore_first": "import actcore\nassert 'ml_dtypes' not in sys.modules\n"
                         "assert actcore.config()['bfloat16'].startswith('when')\n"
                         "import ml_dtypes",
        "find_spec_first": "import actcore, importlib.util\n"
                           "assert importlib.util.find_spec('ml_dtypes') is not None\n"
                           "import ml_dtypes",
    }[order]
    r = _run(f"""
import sys
import numpy as np
{first}
x = np.linspace(-3, 3, 100).astype(ml_dtypes.bfloat16)
assert actcore.gelu(x).dtype == ml_dtypes.bfloat16
assert actcore.leaky_relu(x, 0.2).dtype == ml_dtypes.bfloat16
assert actcore.config()["bfloat16"].startswith("yes"), actcore.config()["bfloat16"]
import actcore._bfloat16 as b
assert b._FINDER not in sys.meta_path
print("ok")
""")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_two_finders_do_not_recurse():
    """Two of actcore's import hooks (the module reloaded, or two copies of actcore) used to ask
    each other for ml_dtypes' spec until RecursionError; now the first registers the loops and
    both leave sys.meta_path."""
    r = _run("""
import sys, importlib
import actcore
import actcore._bfloat16 as b
assert 'ml_dtypes' not in sys.modules
sys.meta_path.insert(0, type(b._FINDER)())
importlib.reload(b)
b.setup()
ours = lambda: [f for f in sys.meta_path if type(f).__module__ == 'actcore._bfloat16']
assert len(ours()) >= 2
import ml_dtypes
import numpy as np
x = np.linspace(-3, 3, 100).astype(ml_dtypes.bfloat16)
assert actcore.gelu(x).dtype == ml_dtypes.bfloat16
assert not ours()
print("ok")
""")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr
