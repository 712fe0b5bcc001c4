"""Batch normalization (SPEC §4) against a float64 NumPy reference, PyTorch when installed."""

import numpy as np
import pytest

import actcore
from actcore import BatchNorm, batch_norm, batch_norm_grad, batch_norm_train, fold_batch_norm

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- float64 reference
def ref_act(name, z, **p):
    if name is None:
        return z
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        s = p.get("negative_slope", 0.01)
        return np.where(z > 0, z, s * z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "gelu":
        from scipy.special import ndtr
        return z * ndtr(z)
    raise KeyError(name)


def ref_act_grad(name, z, **p):
    if name is None:
        return np.ones_like(z)
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, p.get("negative_slope", 0.01))
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    if name == "gelu":
        from scipy.special import ndtr
        return ndtr(z) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    raise KeyError(name)


def bshape(x, axis):
    s = [1] * x.ndim
    s[axis % x.ndim] = x.shape[axis]
    return tuple(s)


def ref_forward(x, w, b, axis, eps=1e-5, residual=None, act=None, **p):
    xd = x.astype(np.float64)
    red = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    mu = xd.mean(red)
    var = ((xd - mu.reshape(bshape(x, axis))) ** 2).mean(red)
    inv = 1 / np.sqrt(var + eps)
    bs = bshape(x, axis)
    z = (xd - mu.reshape(bs)) * inv.reshape(bs)
    if w is not None:
        z = z * w.reshape(bs)
    if b is not None:
        z = z + b.reshape(bs)
    if residual is not None:
        z = z + residual
    return ref_act(act, z, **p), mu, var, inv, z


def ref_backward(dy, x, w, b, axis, eps=1e-5, residual=None, act=None, **p):
    _, mu, var, inv, z = ref_forward(x, w, b, axis, eps, residual, act, **p)
    dz = dy.astype(np.float64) * ref_act_grad(act, z, **p)
    red = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    bs = bshape(x, axis)
    xhat = (x.astype(np.float64) - mu.reshape(bs)) * inv.reshape(bs)
    n = x.size // x.shape[axis]
    wd = np.ones(x.shape[axis]) if w is None else w.astype(np.float64)
    db = dz.sum(red)
    dw = (dz * xhat).sum(red)
    dx = (wd * inv).reshape(bs) * (dz - db.reshape(bs) / n - xhat * dw.reshape(bs) / n)
    return dx, dw, db, dz


def close(got, ref, dtype, scale=1.0):
    tol = {np.float16: 3e-3, np.float32: 2e-6, np.float64: 1e-13}[np.dtype(dtype).type]
    np.testing.assert_allclose(np.asarray(got, np.float64), ref, rtol=tol * 10,
                               atol=tol * scale * 10)


LAYOUTS = [
    ((6, 5), 1), ((4, 3, 7), 1), ((3, 4, 5, 6), 1), ((2, 3, 2, 3, 4), 1),
    ((3, 5, 6, 4), -1), ((40, 3), 1), ((2, 3, 70, 40), 1),   # a line longer than a block
    ((700, 5), -1), ((3, 2500), 1),                          # many rows; wide channels
    ((13, 3, 300), 1),                        # short lines taken one by one, 2 row blocks
    ((20, 30, 30, 64), -1),                   # channels-last super blocks of 2 row blocks
]


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("shape,axis", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_train_forward_matches_reference(shape, axis, dtype):
    C = shape[axis]
    x = (RNG.standard_normal(shape) * 3 + 1.5).astype(dtype)
    w = RNG.standard_normal(C).astype(dtype)
    b = RNG.standard_normal(C).astype(dtype)
    y, mean, invstd = batch_norm_train(x, w, b, axis=axis)
    ry, rmu, _, rinv, _ = ref_forward(x, w, b, axis)
    close(y, ry, dtype, scale=np.abs(ry).max())
    close(mean, rmu, dtype, scale=3)
    close(invstd, rinv, dtype)
    assert y.dtype == dtype and mean.dtype == dtype


@pytest.mark.parametrize("shape,axis", LAYOUTS[:5])
def test_inference_matches_reference(shape, axis):
    C = shape[axis]
    x = RNG.standard_normal(shape).astype(np.float32)
    rm = RNG.standard_normal(C).astype(np.float32)
    rv = RNG.uniform(0.5, 2, C).astype(np.float32)
    w = RNG.standard_normal(C).astype(np.float32)
    y = batch_norm(x, rm, rv, w, None, axis=axis, activation="relu")
    bs = bshape(x, axis)
    ref = np.maximum((x - rm.reshape(bs).astype(np.float64))
                     / np.sqrt(rv.reshape(bs).astype(np.float64) + 1e-5) * w.reshape(bs), 0)
    close(y, ref, np.float32, scale=4)


def _fusable():
    from actcore._registry import OPS
    return sorted(n for n, o in OPS.items() if o.kind == "elementwise" and o.kernel is not None)


@pytest.mark.parametrize("name", _fusable())
@pytest.mark.parametrize("shape,axis", [((4, 3, 5, 6), 1), ((3, 5, 6, 4), -1)])
def test_inference_residual_and_every_activation(name, shape, axis):
    """BN + add + activation in one pass: the bits of the activation's own ufunc applied to
    the fused pass's pre-activation (computed without the activation), for every activation
    that can be fused, at its default parameters (threshold has none: example values)."""
    C = shape[axis]
    x = RNG.standard_normal(shape) * 2
    r = RNG.standard_normal(shape)
    rm, rv = RNG.standard_normal(C), RNG.uniform(0.5, 2, C)
    w, b = RNG.standard_normal(C), RNG.standard_normal(C)
    pre = batch_norm(x, rm, rv, w, b, axis=axis, residual=r)
    bs = bshape(x, axis)
    np.testing.assert_allclose(pre, (x - rm.reshape(bs)) / np.sqrt(rv.reshape(bs) + 1e-5)
                               * w.reshape(bs) + b.reshape(bs) + r, rtol=1e-13, atol=1e-13)
    p = {"threshold": {"threshold": 0.5, "value": -1.0}}.get(name, {})  # required ones
    y = batch_norm(x, rm, rv, w, b, axis=axis, residual=r, activation=name,
                   activation_params=p)
    assert y.tobytes() == getattr(actcore, name)(pre, **p).tobytes()
    # float32 likewise (the fused activation's float32 kernel)
    x32, r32 = x.astype(np.float32), r.astype(np.float32)
    p32 = [v.astype(np.float32) for v in (rm, rv, w, b)]
    pre32 = batch_norm(x32, *p32, axis=axis, residual=r32)
    y32 = batch_norm(x32, *p32, axis=axis, residual=r32, activation=name, activation_params=p)
    assert y32.tobytes() == getattr(actcore, name)(pre32, **p).tobytes()


def test_layouts_strided_and_transposed_agree():
    x = RNG.standard_normal((4, 6, 5, 7)).astype(np.float32)
    y0, m0, i0 = batch_norm_train(x)
    for v, axis in [(np.asfortranarray(x), 1), (x.transpose(0, 2, 3, 1), 3),
                    (np.ascontiguousarray(x.transpose(0, 2, 3, 1)), -1),
                    (x[:, :, ::-1, :], 1), (x.astype(">f4"), 1)]:
        y, m, i = batch_norm_train(v, axis=axis)
        ref = y0.transpose(0, 2, 3, 1) if v.shape != x.shape else y0
        if v.strides[2] < 0:
            ref = y0[:, :, ::-1, :]
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(m, m0, rtol=1e-5, atol=1e-6)
    # a column-major (N, C): the outer axis is the contiguous one
    x2 = np.asfortranarray(RNG.standard_normal((50, 4)).astype(np.float32))
    close(batch_norm_train(x2)[0], ref_forward(x2, None, None, 1)[0], np.float32, 4)


def test_float16_uses_float32_statistics():
    x = (RNG.standard_normal((8, 3, 9, 9)) * 2 + 4).astype(np.float16)
    w = np.array([1.0, -2.0, 0.5], np.float32)
    b = np.array([0.1, 0.2, -0.3], np.float32)
    y, mean, invstd = batch_norm_train(x, w, b)
    assert y.dtype == np.float16 and mean.dtype == np.float32 and invstd.dtype == np.float32
    ry, rmu, _, _, _ = ref_forward(x, w, b, 1)
    np.testing.assert_allclose(y.astype(np.float64), ry, rtol=2e-3, atol=4e-3)
    np.testing.assert_allclose(mean, rmu, rtol=1e-6)


@pytest.mark.parametrize("offset", [1e4, 1e5, 1e6, 1e7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constant_channel_far_from_zero(offset, dtype):
    x = RNG.standard_normal((4, 3, 6, 6)).astype(dtype)
    x[:, 1] = dtype(offset)
    b = np.array([0.5, -1.25, 2.0], dtype)
    w = np.array([2.0, 3.0, 0.5], dtype)
    rm, rv = np.zeros(3, dtype), np.ones(3, dtype)
    y, mean, invstd = batch_norm_train(x, w, b, running_mean=rm, running_var=rv)
    assert np.all(np.isfinite(y))
    assert np.all(y[:, 1] == b[1])
    assert mean[1] == dtype(offset)
    assert rv[1] == dtype(0.9)  # unbiased variance 0 -> 0.9 * 1 + 0.1 * 0


@pytest.mark.parametrize("rows,C", [(500, 85), (3000, 3)])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_one_pass_statistics(rows, C, layout):
    """float32 blocks take their statistics in one pass, shifted by one of the block's values
    (bnorm_t.h: col_shift channels-last, shift16 for channel-first runs): within a float ulp of
    the float64 two-pass statistics on data built to cancel (offsets 1e6, outliers 1e5 sigma
    away, a block's first value among them).  Channels-last 85 channels: register chunks of 64
    and 16 and single channels; 3 channels: blocks of 682 rows, where sums of unshifted squares
    round.  Channel-first (the transpose, axis 1): lines of 500 taken one by one, and channels
    of 3000 cut into blocks.  inf and NaN give NaN, as the other layout."""
    kind = np.arange(C) % 3
    x = RNG.standard_normal((rows, C)) + np.where(kind == 0, 1e6, 0.0)  # offset
    x[(RNG.random((rows, C)) < 0.02) & (kind == 1)] += 1e5  # outliers
    x[0, kind == 2] += 1e5  # the first row of the first block: K far from the block's mean
    x = x.astype(np.float32)
    if layout == "channels_last":
        def stats(v):
            return batch_norm_train(v, axis=-1)

        def other(v):
            return batch_norm_train(np.ascontiguousarray(v.T[None]), axis=1)
    else:
        def stats(v):
            y, m, i = batch_norm_train(np.ascontiguousarray(v.T[None]), axis=1)
            return y[0].T, m, i

        def other(v):
            return batch_norm_train(v, axis=-1)
    _, mean, invstd = stats(x)
    xd = x.astype(np.float64)
    rmu = xd.mean(axis=0)
    rinv = 1.0 / np.sqrt(((xd - rmu) ** 2).mean(axis=0) + 1e-5)
    for got, ref in ((mean, rmu), (invstd, rinv)):
        assert np.all(np.abs(got - ref) <= np.spacing(np.float32(np.abs(ref)))), \
            np.abs(got - ref).max()
    # a non-finite first value (K = 0 then), an inf further down, a NaN, both infinities:
    # those channels' invstd and y are NaN (as in the NCHW path) and no other channel changes
    if C < 6:
        return
    bad = [1, 2, 4, 5]
    x[0, 1], x[7, 2], x[9, 4] = np.inf, -np.inf, np.nan
    x[3, 5], x[4, 5] = np.inf, -np.inf
    y2, m2, i2 = stats(x)
    _, _, i_other = other(x)
    assert np.isnan(i2[bad]).all() and np.isnan(i_other[bad]).all()
    assert not np.isfinite(m2[bad]).any() and np.isnan(y2[:, bad]).all()
    good = np.setdiff1d(np.arange(C), bad)
    assert m2[good].tobytes() == mean[good].tobytes()
    assert i2[good].tobytes() == invstd[good].tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_offset_accuracy(dtype):
    """x = 1e4 + N(0, 1): x - mean is formed with the mean split in two parts."""
    x = (1e4 + RNG.standard_normal((16, 2, 32))).astype(dtype)
    y, _, _ = batch_norm_train(x)
    # float32: mean rounded to float alone would cost up to ulp(1e4)/2 = 4.9e-4 here
    atol = 2e-6 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(y, ref_forward(x, None, None, 1)[0], rtol=0, atol=atol)


def test_one_value_per_channel_in_training_raises():
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        batch_norm(np.ones((1, 3), np.float32), rm, rv, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        batch_norm_train(np.ones((1, 3, 1, 1), np.float32))
    assert np.all(rm == 0) and np.all(rv == 1)
    # inference with one value per channel is fine
    assert batch_norm(np.ones((1, 3), np.float32), rm, rv).shape == (1, 3)


# ---------------------------------------------------------------- running statistics
def test_running_update_pytorch_convention():
    x = RNG.standard_normal((5, 4, 3)).astype(np.float64) * 2 + 1
    rm, rv = np.full(4, 0.5), np.full(4, 2.0)
    batch_norm(x, rm, rv, training=True, momentum=0.3)
    xd = x.transpose(1, 0, 2).reshape(4, -1)
    np.testing.assert_allclose(rm, 0.7 * 0.5 + 0.3 * xd.mean(1), rtol=1e-14)
    np.testing.assert_allclose(rv, 0.7 * 2.0 + 0.3 * xd.var(1, ddof=1), rtol=1e-14)


def test_cumulative_average_with_batch_count():
    rm, rv = np.zeros(3), np.ones(3)
    nbt = np.zeros((), np.int64)
    batches = [RNG.standard_normal((6, 3)) + k for k in range(3)]
    for xb in batches:
        batch_norm(xb, rm, rv, training=True, momentum=None, num_batches_tracked=nbt)
    assert int(nbt) == 3
    np.testing.assert_allclose(rm, np.mean([xb.mean(0) for xb in batches], 0), rtol=1e-13)
    np.testing.assert_allclose(rv, np.mean([xb.var(0, ddof=1) for xb in batches], 0),
                               rtol=1e-13)
    # an int count: batches seen before this one
    rm2, rv2 = rm.copy(), rv.copy()
    x4 = RNG.standard_normal((6, 3))
    batch_norm(x4, rm2, rv2, training=True, momentum=None, num_batches_tracked=3)
    np.testing.assert_allclose(rm2, 0.75 * rm + 0.25 * x4.mean(0), rtol=1e-13)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        batch_norm(x4, rm2, rv2, training=True, momentum=None)
    # inference does not count: a counter at its maximum is fine there
    batch_norm(x4, rm2, rv2, num_batches_tracked=np.array(127, np.int8))
    # a count that is negative, or cannot grow, is refused before anything is written
    out = np.zeros_like(x4)
    for bad in (np.array(-1), np.array(-3), np.array(127, np.int8)):
        keep = (rm2.copy(), rv2.copy(), bad.copy())
        with pytest.raises(ValueError, match="num_batches_tracked"):
            batch_norm(x4, rm2, rv2, training=True, momentum=None, num_batches_tracked=bad,
                       out=out)
        for a, c in zip((rm2, rv2, bad), keep, strict=True):
            np.testing.assert_array_equal(a, c)
        assert not out.any()


# ---------------------------------------------------------------- fused epilogue
ACTS = [None, "relu", ("leaky_relu", {"negative_slope": 0.2}), "sigmoid", "gelu"]


def _act_name(a):
    return (a, {}) if not isinstance(a, tuple) else a


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("with_res", [False, True])
@pytest.mark.parametrize("shape,axis", [((4, 3, 5, 6), 1), ((3, 5, 6, 4), -1),
                                        ((13, 3, 16, 20), 1)])  # taken line by line
def test_fused_activation_and_residual(act, with_res, shape, axis):
    C = shape[axis]
    x = RNG.standard_normal(shape)
    w, b = RNG.standard_normal(C), RNG.standard_normal(C)
    r = RNG.standard_normal(shape) if with_res else None
    name, p = _act_name(act)
    y, mean, invstd = batch_norm_train(x, w, b, axis=axis, activation=act, residual=r)
    ry = ref_forward(x, w, b, axis, residual=r, act=name, **p)[0]
    np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-13)
    # the same activation passed as name + activation_params
    if p:
        y2 = batch_norm_train(x, w, b, axis=axis, activation=name, activation_params=p,
                              residual=r)[0]
        np.testing.assert_array_equal(y, y2)
    # backward, with the residual's gradient
    dy = RNG.standard_normal(shape)
    res_arg = r if with_res else None
    got = batch_norm_grad(dy, x, mean, invstd, w, axis=axis, activation=act, y=y, bias=b,
                          residual=res_arg)
    rdx, rdw, rdb, rdz = ref_backward(dy, x, w, b, axis, residual=r, act=name, **p)
    np.testing.assert_allclose(got[0], rdx, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got[1], rdw, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got[2], rdb, rtol=1e-9, atol=1e-11)
    if with_res:
        assert len(got) == 4
        np.testing.assert_allclose(got[3], rdz, rtol=1e-9, atol=1e-12)
    else:
        assert len(got) == 3


# The ReLU backward is computed inside the reduction and apply loops (bnorm_t.h, dz_mode), from
# y or from the pre-activation recomputed from x; with a residual's gradient asked for, dz goes
# through a block of its own (the activation kernel, then dres written and read back).  Both
# must give the same bits, on every layout path of the kernels.
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [
    ((4, 3, 5, 6), 1),  # NCHW: blocks of several short lines
    ((2, 3, 50, 50), 1),  # NCHW: lines longer than a block, cut
    ((13, 3, 16, 20), 1),  # NCHW: line by line
    ((3, 5, 6, 4), -1),  # channels-last: rows in fours and the rest
    ((20, 30, 30, 64), -1),  # channels-last: super blocks
    ((3, 2100), -1),  # channels-last: channels cut into chunks
    ((4, 3, 10, 24), 1),  # a strided x (every other column, below)
    ((4, 6, 10, 8), -1),  # channels-last, every other column: rows not evenly spaced
])
def test_fused_relu_backward_bits_of_block_path(dtype, shape, axis):
    x = (RNG.standard_normal(shape) * 2 + 0.3).astype(dtype)
    if shape == (4, 3, 10, 24):
        x = x[..., ::2]
    if shape == (4, 6, 10, 8):
        x = x[:, :, ::2, :]
    C = x.shape[axis]
    w, b = RNG.standard_normal(C).astype(dtype), RNG.standard_normal(C).astype(dtype)
    dy = RNG.standard_normal(x.shape).astype(dtype)
    dy.flat[5] = np.nan  # in a masked or an unmasked element: either way the same in both paths
    y, m, i = batch_norm_train(x, w, b, axis=axis, activation="relu")
    assert 0.05 < np.mean(y > 0) < 0.95  # both sides of the kink are exercised
    from_y = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", y=y)
    from_x = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", bias=b)
    block_y = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", y=y,
                              residual=True)
    block_x = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", bias=b,
                              residual=np.zeros_like(x))
    for got in (from_y, from_x, block_x[:3]):
        for a, c in zip(got, block_y[:3], strict=True):
            assert a.dtype == c.dtype and a.tobytes() == c.tobytes()
    np.testing.assert_array_equal(block_y[3], np.where(y > 0, dy, 0))
    # and the values, against the float64 reference (dy without its NaN)
    dy.flat[5] = 0
    got = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", y=y)
    rdx, rdw, rdb, _ = ref_backward(dy, x, w, b, axis, act="relu")
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got[0], rdx, **tol)
    np.testing.assert_allclose(got[1], rdw, **tol)
    np.testing.assert_allclose(got[2], rdb, **tol)


def test_channels_last_super_blocks_gradient():
    """18000 rows of 64 channels: 563 row blocks of 32 rows (the last one of 16), folded two
    per super block (bnorm.c, bn_super_item), against the float64 reference."""
    shape = (20, 30, 30, 64)
    x = RNG.standard_normal(shape) * 2 + 3
    w, b = RNG.standard_normal(64), RNG.standard_normal(64)
    dy = RNG.standard_normal(shape)
    y, mean, invstd = batch_norm_train(x, w, b, axis=-1)
    got = batch_norm_grad(dy, x, mean, invstd, w, axis=-1)
    rdx, rdw, rdb, _ = ref_backward(dy, x, w, b, -1)
    np.testing.assert_allclose(got[0], rdx, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got[1], rdw, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got[2], rdb, rtol=1e-9, atol=1e-10)


def test_relu_gradient_from_output_equals_recomputed():
    x = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)
    w, b = RNG.standard_normal(3).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    y, m, i = batch_norm_train(x, w, b, activation="relu")
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    g1 = batch_norm_grad(dy, x, m, i, w, activation="relu", y=y)
    g2 = batch_norm_grad(dy, x, m, i, w, activation="relu", bias=b)
    for a, c in zip(g1, g2, strict=False):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)


def test_inference_in_place_and_out():
    x = RNG.standard_normal((4, 3, 6, 6)).astype(np.float32)
    rm, rv = RNG.standard_normal(3).astype(np.float32), np.ones(3, np.float32)
    ref = batch_norm(x, rm, rv, activation="relu")
    out = np.empty_like(x)
    assert batch_norm(x, rm, rv, activation="relu", out=out) is out
    np.testing.assert_array_equal(out, ref)
    xc = x.copy()
    batch_norm(xc, rm, rv, activation="relu", out=xc)
    np.testing.assert_array_equal(xc, ref)
    # out in another memory order than x
    outf = np.empty_like(x, order="F")
    batch_norm(x, rm, rv, activation="relu", out=outf)
    np.testing.assert_array_equal(outf, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((3, 5, 4, 7), 1), ((6, 4), 1), ((6, 4), 0),
                                        ((2, 3, 8), -1), ((9,), 0), ((4, 1, 6), 1)])
def test_inference_direct_path_gives_the_planners_bits(dtype, shape, axis):
    """C-contiguous inference calls skip the planner (batchnorm._contiguous_views); an
    F-ordered copy of the same values goes through it: same bits, with every extra."""
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    C = shape[axis]
    rm, rv = RNG.standard_normal(C).astype(dtype), (RNG.random(C) + 0.5).astype(dtype)
    w, b = RNG.standard_normal(C).astype(dtype), RNG.standard_normal(C).astype(dtype)
    r = RNG.standard_normal(shape).astype(dtype)
    for kw in (dict(), dict(activation="relu"), dict(activation="gelu", residual=r),
               dict(activation=("leaky_relu", {"negative_slope": 0.2}))):
        direct = batch_norm(x, rm, rv, w, b, axis=axis, **kw)
        kf = {k: (np.asfortranarray(v) if k == "residual" else v) for k, v in kw.items()}
        planned = batch_norm(np.asfortranarray(x), rm, rv, w, b, axis=axis, **kf)
        assert direct.tobytes() == np.ascontiguousarray(planned).tobytes()
        out = np.empty_like(x)
        assert batch_norm(x, rm, rv, w, b, axis=axis, out=out, **kw) is out
        assert out.tobytes() == direct.tobytes()
        xi = x.copy()
        assert batch_norm(xi, rm, rv, w, b, axis=axis, out=xi, **kw) is xi  # in place
        assert xi.tobytes() == direct.tobytes()
    # in place with a residual that is x shifted (read after being written, were it not for
    # the planner's temporary): the values of separate arrays
    if x.size > 1:
        buf = (RNG.standard_normal(x.size + 1) * 3).astype(dtype)
        xs, rs = buf[1:].reshape(shape), buf[:-1].reshape(shape)
        ref = batch_norm(xs.copy(), rm, rv, w, b, axis=axis, residual=rs.copy())
        assert batch_norm(xs, rm, rv, w, b, axis=axis, residual=rs, out=xs) is xs
        assert xs.tobytes() == ref.tobytes()
    # out overlapping x at an offset: through the planner's temporary, same values
    buf = np.zeros(x.size + 1, dtype)
    buf[:-1] = x.ravel()
    o = buf[1:].reshape(shape)
    batch_norm(buf[:-1].reshape(shape), rm, rv, w, b, axis=axis, out=o)
    assert o.tobytes() == batch_norm(x, rm, rv, w, b, axis=axis).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((3, 5, 4, 7), 1), ((6, 4), 1), ((2, 3, 8), -1),
                                        ((5, 3, 3, 85), -1), ((4, 1, 6), 1)])
def test_training_fast_paths(dtype, shape, axis):
    """batch_norm_train's and batch_norm_grad's common calls run in C (_core.bn_train_fast,
    bn_grad_fast): the full path's bits for y, the statistics, the running buffers (float32
    and float64 ones) and the gradients (the full path forced by an eps or a training flag of a
    NumPy type, which the fast paths decline); NotImplemented, so the full path, for an out
    that overlaps an input."""
    from actcore import _core

    x = (RNG.standard_normal(shape) * 3 + 1).astype(dtype)
    dy = RNG.standard_normal(shape).astype(dtype)
    C = shape[axis]
    other = np.float64 if dtype == np.float32 else np.float32
    w, b = RNG.standard_normal(C).astype(other), RNG.standard_normal(C).astype(dtype)
    for act in (None, "relu", "gelu"):
        batch_norm_train(x, axis=axis, activation=act)  # parsed once: later calls are fast
        for ww, bb, mom, track in ((w, b, 0.1, True), (None, None, 1.0, True),
                                   (w, None, 0.0, False)):
            runs = []
            for eps in (1e-5, np.float64(1e-5)):
                rm = np.linspace(-1, 1, C).astype(dtype) if track else None
                rv = np.linspace(0.5, 2, C).astype(other) if track else None
                y, m, i = batch_norm_train(x, ww, bb, axis=axis, activation=act, eps=eps,
                                           running_mean=rm, running_var=rv, momentum=mom)
                runs.append([y, m, i] + ([rm, rv] if track else []))
            for a, c in zip(*runs, strict=True):
                assert a.dtype == c.dtype and a.tobytes() == c.tobytes()
            fast = _core.bn_train_fast(x, ww, bb, None, None, mom, 1e-5, axis,
                                       -1 if act is None else actcore.batchnorm._ACT_BY_NAME[
                                           act].op, None, None)
            assert fast is not NotImplemented and fast[0].tobytes() == runs[0][0].tobytes()
            out = np.empty_like(x)
            assert batch_norm_train(x, ww, bb, axis=axis, activation=act, out=out)[0] is out
            assert out.tobytes() == runs[0][0].tobytes()
    _, m, i = batch_norm_train(x, w, b, axis=axis)
    for ww, bb in ((w, b), (None, None)):
        for tr in (True, False):
            full = batch_norm_grad(dy, x, m, i, ww, bias=bb, axis=axis, training=np.bool_(tr))
            fast = _core.bn_grad_fast(dy, x, m, i, ww, bb, axis, tr, None)
            assert fast is not NotImplemented
            for got in (fast, batch_norm_grad(dy, x, m, i, ww, bias=bb, axis=axis, training=tr)):
                for a, c in zip(got, full, strict=True):
                    assert (a is None and c is None) or (a.dtype == c.dtype
                                                         and a.tobytes() == c.tobytes())
            out = np.empty_like(x)
            assert batch_norm_grad(dy, x, m, i, ww, bias=bb, axis=axis, training=tr,
                                   out=out)[0] is out
            assert out.tobytes() == full[0].tobytes()
            # dx into dy's own memory: declined by the fast path, done by the full one
            assert _core.bn_grad_fast(dy, x, m, i, ww, bb, axis, tr, dy.copy()) is not \
                NotImplemented
            d2 = dy.copy()
            assert _core.bn_grad_fast(d2, x, m, i, ww, bb, axis, tr, d2) is NotImplemented
            assert batch_norm_grad(d2, x, m, i, ww, bias=bb, axis=axis, training=tr,
                                   out=d2)[0].tobytes() == full[0].tobytes()
            # an activation with a gradient from its output y, y given: also in C
            for act in ("relu", "sigmoid", "leaky_relu"):
                ya, ma, ia = batch_norm_train(x, ww, bb, axis=axis, activation=act)
                kw = dict(bias=bb, axis=axis, activation=act, y=ya)
                fa = batch_norm_grad(dy, x, ma, ia, ww, training=np.bool_(tr), **kw)
                pa = actcore.batchnorm._ACT_BY_NAME[act]
                assert _core.bn_grad_fast(dy, x, ma, ia, ww, bb, axis, tr, None, pa.op,
                                          pa.params, ya) is not NotImplemented
                for got, want in zip(batch_norm_grad(dy, x, ma, ia, ww, training=tr, **kw), fa,
                                     strict=True):
                    assert (got is None and want is None) or got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((3, 5, 4, 7), 1), ((6, 4), 1), ((6, 4), 0),
                                        ((2, 3, 8), -1), ((9,), 0), ((4, 1, 6), 1)])
def test_inference_fast_path(dtype, shape, axis):
    """The common inference call runs in C (_core.bn_infer_fast): the full path's bits (forced
    here by num_batches_tracked=0, which inference ignores), and NotImplemented, so the full
    path with its checks and errors, for anything else."""
    from actcore import _core
    from actcore.batchnorm import _ACT_BY_NAME

    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    C = shape[axis]
    other = np.float64 if dtype == np.float32 else np.float32
    rm, rv = RNG.standard_normal(C).astype(other), (RNG.random(C) + 0.5).astype(dtype)
    w, b = RNG.standard_normal(C).astype(other), RNG.standard_normal(C).astype(dtype)
    for act in (None, "relu", "gelu", "leaky_relu", "elu"):
        batch_norm(x, rm, rv, axis=axis, activation=act)  # parsed once: later calls are fast
        op, params = (-1, None) if act is None else (_ACT_BY_NAME[act].op,
                                                     _ACT_BY_NAME[act].params)
        for ww, bb in ((w, b), (None, None), (w, None)):
            full = batch_norm(x, rm, rv, ww, bb, axis=axis, activation=act, num_batches_tracked=0)
            fast = _core.bn_infer_fast(x, rm, rv, ww, bb, 1e-5, axis, op, params, None)
            assert fast is not NotImplemented
            assert fast.tobytes() == full.tobytes()
            assert batch_norm(x, rm, rv, ww, bb, axis=axis, activation=act).tobytes() == \
                full.tobytes()
            out = np.empty_like(x)
            assert batch_norm(x, rm, rv, ww, bb, axis=axis, activation=act, out=out) is out
            assert out.tobytes() == full.tobytes()
            xi = x.copy()
            assert batch_norm(xi, rm, rv, ww, bb, axis=axis, activation=act, out=xi) is xi
            assert xi.tobytes() == full.tobytes()
    # declined (NotImplemented): the full path does the work, with the same values ...
    ref = batch_norm(x, rm, rv, w, b, axis=axis, num_batches_tracked=0)
    buf = np.zeros(x.size + 1, dtype)
    buf[:-1] = x.ravel()
    args = dict(x=x, rm=rm, rv=rv, w=w, eps=1e-5, axis=axis, out=None)
    valid = [dict(w=list(w)), dict(axis=np.int64(axis)),
             dict(x=buf[:-1].reshape(shape), out=buf[1:].reshape(shape))]  # out overlaps x
    if x.ndim > 1:
        valid.append(dict(x=np.asfortranarray(x)))
    for d in valid:
        a = {**args, **d}
        assert _core.bn_infer_fast(a["x"], a["rm"], a["rv"], a["w"], b, a["eps"], a["axis"], -1,
                                   None, a["out"]) is NotImplemented
        y = batch_norm(a["x"], a["rm"], a["rv"], a["w"], b, axis=a["axis"], out=a["out"])
        assert np.ascontiguousarray(y).tobytes() == ref.tobytes()
    # ... or raises its error, writing nothing
    for d, exc, match in ((dict(rm=rm.astype(np.float16)), TypeError, "running_mean must be"),
                          (dict(rv=np.ones(C + 1, dtype)), ValueError, "running_var must have"),
                          (dict(eps=0.0), ValueError, "eps must be a finite number > 0"),
                          (dict(x=x.astype(np.complex64)), TypeError, "x must be float16")):
        a = {**args, **d}
        assert _core.bn_infer_fast(a["x"], a["rm"], a["rv"], a["w"], b, a["eps"], a["axis"], -1,
                                   None, None) is NotImplemented
        out = np.full_like(x, 7.0)
        with pytest.raises(exc, match=match):
            batch_norm(a["x"], a["rm"], a["rv"], a["w"], b, axis=axis, eps=a["eps"],
                       out=None if "x" in d else out)
        assert (out == 7.0).all()


@pytest.mark.parametrize("shape,axis", [((3, 5, 4, 7), 1), ((6, 4), 1), ((6, 4), 0),
                                        ((2, 3, 8), -1), ((9,), 0), ((4, 1, 6), 1), ((5, 3), 1),
                                        ((0, 3, 4), 1)])
def test_direct_plan_is_the_planners(shape, axis):
    """_Plan.direct (C-contiguous operands, no view trials) picks what _Plan does for them, so
    training's reductions keep their bits."""
    from actcore.batchnorm import _Plan

    x = np.zeros(shape, np.float32)
    ax = axis % len(shape)
    plan, views = _Plan.direct(x, ax, [x.copy()])
    ref = _Plan(x, ax)
    assert (plan.layout, plan.swap, plan.s3) == (ref.layout, ref.swap, ref.s3)
    assert (plan.x3.shape, plan.x3.strides) == (ref.x3.shape, ref.x3.strides)
    assert views[0].strides == ref.x3.strides
    assert _Plan.direct(np.asfortranarray(np.zeros((3, 4, 5), np.float32)), 1, []) is None


def test_grad_out_argument():
    x = RNG.standard_normal((5, 3, 40)).astype(np.float32)
    y, m, i = batch_norm_train(x)
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    ref = batch_norm_grad(dy, x, m, i, None)[0]
    out = np.empty_like(x)
    assert batch_norm_grad(dy, x, m, i, None, out=out)[0] is out
    np.testing.assert_array_equal(out, ref)
    outf = np.empty_like(x, order="F")  # another memory order: through a temporary
    batch_norm_grad(dy, x, m, i, None, out=outf)
    np.testing.assert_array_equal(outf, ref)


def test_no_weight_gives_none_grads():
    x = RNG.standard_normal((5, 3, 4))
    y, m, i = batch_norm_train(x)
    dy = RNG.standard_normal(x.shape)
    dx, dw, db = batch_norm_grad(dy, x, m, i, None)
    assert dw is None and db is None and dx.shape == x.shape
    close(dx, ref_backward(dy, x, None, None, 1)[0], np.float64, 10)


@pytest.mark.parametrize("shape,axis", [((6, 3, 9, 9), 1), ((6, 9, 9, 3), -1)])
def test_float16_inference_and_backward(shape, axis):
    """float16 in, float16 out, float32 statistics and arithmetic: within float16's rounding
    of the float64 reference."""
    x = (RNG.standard_normal(shape) * 2 + 4).astype(np.float16)
    C = shape[axis]
    w, b = RNG.standard_normal(C).astype(np.float32), RNG.standard_normal(C).astype(np.float32)
    rm, rv = RNG.standard_normal(C).astype(np.float32), RNG.uniform(0.5, 2, C).astype(np.float32)
    y = batch_norm(x, rm, rv, w, b, axis=axis, activation="relu")
    bs = bshape(x, axis)
    ref = np.maximum((x.astype(np.float64) - rm.reshape(bs)) / np.sqrt(rv.reshape(bs) + 1e-5)
                     * w.reshape(bs) + b.reshape(bs), 0)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=2e-3, atol=2e-3 * np.abs(ref).max())
    dy = RNG.standard_normal(shape).astype(np.float16)
    yt, m, i = batch_norm_train(x, w, b, axis=axis, activation="relu")
    dx, dw, db = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", y=yt)
    rdx, rdw, rdb, _ = ref_backward(dy, x, w, b, axis, act="relu")
    assert dx.dtype == np.float16 and dw.dtype == np.float32
    np.testing.assert_allclose(dx.astype(np.float64), rdx, rtol=5e-3,
                               atol=5e-3 * np.abs(rdx).max())
    np.testing.assert_allclose(dw, rdw, rtol=2e-3, atol=2e-3 * np.abs(rdw).max())
    np.testing.assert_allclose(db, rdb, rtol=2e-3, atol=2e-3 * np.abs(rdb).max())


def test_grad_checks_y_it_cannot_use():
    """gelu has no gradient from its output: its input is recomputed from x and the bias, and
    a y given with it must agree with that recomputation (a forgotten bias= would otherwise
    give silently wrong gradients)."""
    x = RNG.standard_normal((4, 3, 5, 6)).astype(np.float32) * 2 + 3
    w, b = RNG.standard_normal(3).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    r = RNG.standard_normal(x.shape).astype(np.float32)
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    for act in ["gelu", ("leaky_relu", {"negative_slope": -0.2})]:
        y, m, i = batch_norm_train(x, w, b, activation=act)
        with pytest.raises(ValueError, match="bias=None"):
            batch_norm_grad(dy, x, m, i, w, activation=act, y=y)
        good = batch_norm_grad(dy, x, m, i, w, activation=act, y=y, bias=b)
        name, p = _act_name(act)
        for got, ref in zip(good, ref_backward(dy, x, w, b, 1, act=name, **p)[:3], strict=True):
            np.testing.assert_allclose(got, ref, rtol=2e-4, atol=2e-4 * np.abs(ref).max())
        y2, m2, i2 = batch_norm_train(x, w, b, activation=act, residual=r)
        with pytest.raises(ValueError, match="bias=given, residual=None"):
            batch_norm_grad(dy, x, m2, i2, w, activation=act, y=y2, bias=b)
        batch_norm_grad(dy, x, m2, i2, w, activation=act, y=y2, bias=b, residual=r)
    # activations that jump: inputs within rounding of the jump may land on either side when
    # recomputed from float32 mean and invstd; those are not held against a correct call
    xl = RNG.standard_normal((64, 3, 64, 64)).astype(np.float32)
    for act in ["step", ("threshold", {"threshold": 0.3, "value": -2.0}),
                ("hardshrink", {"lambd": 0.5})]:
        y, m, i = batch_norm_train(xl, w, b, activation=act)
        batch_norm_grad(np.ones_like(xl), xl, m, i, w, activation=act, y=y, bias=b)
        with pytest.raises(ValueError, match="bias=None"):
            batch_norm_grad(np.ones_like(xl), xl, m, i, w, activation=act, y=y)


# ---------------------------------------------------------------- threads
# (64, 5, 16, 16), (1, 64, 16, 16) and (2048, 64, 32): lines shorter than a block, taken line
# by line (bnorm.c, bn_line; the last one because it is 2^22 elements); with N = 1 the work
# items split the channels, by thread count
# (4, 1, 96, 96) and (8, 2, 50, 50): fewer channels than threads, each channel cut into blocks
@pytest.mark.parametrize("shape,axis", [((8, 3, 64, 64), 1), ((2, 64, 64, 24), -1),
                                        ((4096, 7), 1), ((64, 5, 16, 16), 1),
                                        ((1, 64, 16, 16), 1), ((2048, 64, 32), 1),
                                        ((20, 30, 30, 64), -1), ((4, 1, 96, 96), 1),
                                        ((8, 2, 50, 50), 1), ((30, 40, 2), -1)])
def test_bit_identical_across_thread_counts(shape, axis):
    x = (RNG.standard_normal(shape) * 5 + 3).astype(np.float32)
    C = shape[axis]
    w, b = RNG.standard_normal(C).astype(np.float32), RNG.standard_normal(C).astype(np.float32)
    dy = RNG.standard_normal(shape).astype(np.float32)
    res = []
    for nt in (1, 2, 3):
        with actcore.num_threads(nt):
            rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
            y, m, i = batch_norm_train(x, w, b, axis=axis, activation="gelu",
                                       running_mean=rm, running_var=rv)
            g = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="gelu", bias=b)
            # ReLU: its gradient fused into the loops, from y and from x
            yr, mr, ir = batch_norm_train(x, w, b, axis=axis, activation="relu")
            gy = batch_norm_grad(dy, x, mr, ir, w, axis=axis, activation="relu", y=yr)
            gx = batch_norm_grad(dy, x, mr, ir, w, axis=axis, activation="relu", bias=b)
            res.append((y, m, i, rm, rv) + g + (yr,) + gy + gx)
    for other in res[1:]:
        for a, c in zip(res[0], other, strict=True):
            assert a.tobytes() == c.tobytes()


# ---------------------------------------------------------------- bad input
def _fresh():
    x = RNG.standard_normal((4, 3, 5)).astype(np.float32)
    return x, np.zeros(3, np.float32), np.ones(3, np.float32)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(running_mean=np.zeros(4, np.float32)), ValueError, "running_mean"),
    (dict(running_var=np.ones(3, np.int64)), TypeError, "running_var"),
    (dict(eps=0.0), ValueError, "eps"),
    (dict(eps=-1e-5), ValueError, "eps"),
    (dict(momentum=1.5), ValueError, "momentum"),
    (dict(momentum=-0.1), ValueError, "momentum"),
    (dict(axis=3), ValueError, "axis"),
    (dict(axis=-4), ValueError, "axis"),
    (dict(activation="nope"), ValueError, "activation"),
    (dict(activation="prelu"), ValueError, "activation"),
    (dict(activation=("leaky_relu", {"slope": 1})), ValueError, "slope"),
    (dict(residual=np.zeros((4, 3, 4), np.float32)), ValueError, "residual"),
    (dict(out=np.zeros((4, 3, 4), np.float32)), ValueError, "out"),
    (dict(out=np.zeros((4, 3, 5), np.float64)), TypeError, "out"),
    (dict(weight=np.ones(2, np.float32)), ValueError, "weight"),
])
@pytest.mark.parametrize("training", [False, True])
def test_bad_input_writes_nothing(kw, exc, match, training):
    x, rm, rv = _fresh()
    args = dict(running_mean=rm, running_var=rv)
    args.update(kw)
    out = args.get("out")
    out_before = None if out is None else out.copy()
    keep = [(a, a.copy()) for a in (args["running_mean"], args["running_var"])]
    with pytest.raises(exc, match=match):
        batch_norm(x, args.pop("running_mean"), args.pop("running_var"), training=training,
                   **args)
    for a, c in keep:
        np.testing.assert_array_equal(a, c)
    if out is not None:
        np.testing.assert_array_equal(out, out_before)


def test_read_only_running_buffer():
    x, rm, rv = _fresh()
    rv.flags.writeable = False
    with pytest.raises(ValueError, match="running_var"):
        batch_norm(x, rm, rv, training=True)
    assert np.all(rm == 0)
    batch_norm(x, rm, rv)  # inference only reads it


def test_bad_input_x_dtype():
    with pytest.raises(TypeError, match="x"):
        batch_norm_train(np.ones((3, 2), np.int32))


# ---------------------------------------------------------------- the layer
def test_layer_train_eval_freeze_and_state_dict():
    bn = BatchNorm(3, momentum=0.2)
    x = RNG.standard_normal((6, 3, 4, 4)).astype(np.float32) * 2 + 1
    y = bn(x)
    close(y, ref_forward(x, bn.weight, bn.bias, 1)[0], np.float32, 4)
    assert int(bn.num_batches_tracked) == 1
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    dx = bn.backward(dy)
    rdx, rdw, rdb, _ = ref_backward(dy, x, bn.weight, bn.bias, 1)
    close(dx, rdx, np.float32, 10)
    close(bn.dweight, rdw, np.float32, 100)
    close(bn.dbias, rdb, np.float32, 100)
    # frozen: running statistics used and fixed; weight/bias still get gradients
    bn.freeze()
    rm = bn.running_mean.copy()
    y = bn(x)
    assert np.array_equal(bn.running_mean, rm)
    inv = 1 / np.sqrt(bn.running_var.astype(np.float64) + 1e-5)
    xhat = (x - rm[None, :, None, None]) * inv[None, :, None, None]
    close(y, xhat, np.float32, 4)
    dx = bn.backward(dy)
    close(dx, dy * inv[None, :, None, None], np.float32, 4)
    close(bn.dweight, (dy * xhat).sum((0, 2, 3)), np.float32, 100)
    # backward uses the statistics of its forward call, whatever happens to the buffers (and
    # eps) in between: the layer keeps copies rather than computing invstd in every forward
    saved = bn.running_mean.copy(), bn.running_var.copy()
    bn.running_var *= 4.0
    bn.running_mean += 1.0
    bn.eps = 0.5
    dx2 = bn.backward(dy)
    assert np.array_equal(dx2, dx)
    bn.running_mean[...], bn.running_var[...] = saved
    bn.eps = 1e-5
    bn.unfreeze()  # training again: batch statistics, running ones updated
    bn(x)
    assert not np.array_equal(bn.running_mean, rm) and int(bn.num_batches_tracked) == 2
    # state dict round trip
    sd = bn.state_dict()
    assert set(sd) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    bn2 = BatchNorm(3).eval()
    bn2.load_state_dict(sd)
    np.testing.assert_array_equal(bn2(x), batch_norm(x, sd["running_mean"],
                                                     sd["running_var"], sd["weight"],
                                                     sd["bias"]))
    bn2.reset_running_stats()
    assert np.all(bn2.running_mean == 0) and int(bn2.num_batches_tracked) == 0
    with pytest.raises(ValueError, match="running_var"):
        bn2.load_state_dict({**sd, "running_var": np.ones(4, np.float32)})
    # a value of the wrong kind is named, and nothing is half-loaded
    before = bn2.state_dict()
    with pytest.raises(TypeError, match="running_var"):
        bn2.load_state_dict({**sd, "running_var": np.array(["a", "b", "c"])})
    with pytest.raises(ValueError, match="num_batches_tracked"):
        bn2.load_state_dict({**sd, "num_batches_tracked": np.array(-2)})
    for k, v in bn2.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    # x with another channel count than the layer's is named as such
    with pytest.raises(ValueError, match="num_features=3"):
        bn2(np.ones((2, 5, 4), np.float32))


# ---------------------------------------------------------------- folding
def conv_ref(x, W, b, groups, padding=0):
    """NumPy grouped conv, stride 1: x (N, Cin, *S), W (Cout, Cin/g, *K)."""
    nd = W.ndim - 2
    if padding:
        x = np.pad(x, [(0, 0), (0, 0)] + [(padding, padding)] * nd)
    N, Cin = x.shape[:2]
    Cout, cig = W.shape[:2]
    og = Cout // groups
    K = W.shape[2:]
    out_sp = tuple(s - k + 1 for s, k in zip(x.shape[2:], K, strict=False))
    y = np.zeros((N, Cout) + out_sp)
    for o in range(Cout):
        g = o // og
        for idx in np.ndindex(*K):
            sl = tuple(slice(i, i + s) for i, s in zip(idx, out_sp, strict=False))
            patch = x[(slice(None), slice(g * cig, (g + 1) * cig)) + sl]
            y[:, o] += np.tensordot(patch, W[(o, slice(None)) + idx], axes=([1], [0]))
    return y + (0 if b is None else b.reshape((1, Cout) + (1,) * nd))


def conv_t_ref(x, W, b, groups, stride=2):
    """NumPy grouped transposed conv: x (N, Cin, *S), W (Cin, Cout/g, *K)."""
    nd = W.ndim - 2
    N, Cin = x.shape[:2]
    og = W.shape[1]
    ig = Cin // groups
    Cout = og * groups
    K = W.shape[2:]
    out_sp = tuple((s - 1) * stride + k for s, k in zip(x.shape[2:], K, strict=False))
    y = np.zeros((N, Cout) + out_sp)
    for ci in range(Cin):
        g = ci // ig
        for pos in np.ndindex(*x.shape[2:]):
            v = x[(slice(None), ci) + pos]  # (N,)
            sl = tuple(slice(p * stride, p * stride + k) for p, k in zip(pos, K, strict=False))
            y[(slice(None), slice(g * og, (g + 1) * og)) + sl] += \
                v[:, None, *([None] * nd)] * W[ci][None]
    return y + (0 if b is None else b.reshape((1, Cout) + (1,) * nd))


def bn_eval(x, rm, rv, g, beta, eps=1e-5):
    bs = (1, -1) + (1,) * (x.ndim - 2)
    return (x - rm.reshape(bs)) / np.sqrt(rv.reshape(bs) + eps) * g.reshape(bs) + \
        beta.reshape(bs)


def _bn_params(C):
    return (RNG.standard_normal(C), RNG.uniform(0.5, 2, C), RNG.standard_normal(C),
            RNG.standard_normal(C))


@pytest.mark.parametrize("has_bias", [True, False])
def test_fold_linear(has_bias):
    W = RNG.standard_normal((5, 4))
    b = RNG.standard_normal(5) if has_bias else None
    x = RNG.standard_normal((7, 4))
    rm, rv, g, beta = _bn_params(5)
    W2, b2 = fold_batch_norm(W, b, rm, rv, g, beta)
    np.testing.assert_allclose(x @ W2.T + b2,
                               bn_eval(x @ W.T + (0 if b is None else b), rm, rv, g, beta),
                               rtol=1e-12, atol=1e-12)
    rm, rv, g, beta = _bn_params(4)
    W3, b3 = fold_batch_norm(W, b, rm, rv, g, beta, bn_first=True)
    np.testing.assert_allclose(x @ W3.T + b3,
                               bn_eval(x, rm, rv, g, beta) @ W.T + (0 if b is None else b),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2, 3])
@pytest.mark.parametrize("nd", [1, 2])
def test_fold_conv_and_transposed(groups, nd):
    cin, cout = 3 * groups, 2 * groups
    K = (3,) * nd
    x = RNG.standard_normal((2, cin) + (5,) * nd)
    W = RNG.standard_normal((cout, cin // groups) + K)
    b = RNG.standard_normal(cout)
    rm, rv, g, beta = _bn_params(cout)
    W2, b2 = fold_batch_norm(W, b, rm, rv, g, beta, layer="conv", groups=groups)
    np.testing.assert_allclose(conv_ref(x, W2, b2, groups, padding=1),
                               bn_eval(conv_ref(x, W, b, groups, padding=1), rm, rv, g, beta),
                               rtol=1e-11, atol=1e-11)
    # BN -> conv: exact without padding
    rm, rv, g, beta = _bn_params(cin)
    W3, b3 = fold_batch_norm(W, None, rm, rv, g, beta, layer="conv", groups=groups,
                             bn_first=True, padding=0)
    np.testing.assert_allclose(conv_ref(x, W3, b3, groups),
                               conv_ref(bn_eval(x, rm, rv, g, beta), W, None, groups),
                               rtol=1e-11, atol=1e-11)
    with pytest.raises(ValueError, match="padding"):
        fold_batch_norm(W, None, rm, rv, layer="conv", groups=groups, bn_first=True)
    # transposed: weight (in, out/groups, *k)
    Wt = RNG.standard_normal((cin, cout // groups) + K)
    rm, rv, g, beta = _bn_params(cout)
    W4, b4 = fold_batch_norm(Wt, None, rm, rv, g, beta, layer="conv_transpose", groups=groups)
    np.testing.assert_allclose(conv_t_ref(x, W4, b4, groups),
                               bn_eval(conv_t_ref(x, Wt, None, groups), rm, rv, g, beta),
                               rtol=1e-11, atol=1e-11)
    with pytest.raises(ValueError, match="conv_transpose"):
        fold_batch_norm(Wt, None, *_bn_params(cin)[:2], layer="conv_transpose",
                        groups=groups, bn_first=True)


# ---------------------------------------------------------------- PyTorch cross-checks
@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("act", [None, "relu"])
def test_against_torch_forward_and_autograd(act):
    x = RNG.standard_normal((4, 5, 6, 7)).astype(np.float32) * 2 + 0.5
    w, b = RNG.standard_normal(5).astype(np.float32), RNG.standard_normal(5).astype(np.float32)
    r = RNG.standard_normal(x.shape).astype(np.float32)
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    rm, rv = np.zeros(5, np.float32), np.ones(5, np.float32)
    y, m, i = batch_norm_train(x, w, b, activation=act, residual=r, running_mean=rm,
                               running_var=rv)
    dx, dw, db, dr = batch_norm_grad(dy, x, m, i, w, activation=act, y=y, bias=b, residual=r)
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    tr = torch.tensor(r, requires_grad=True)
    trm, trv = torch.zeros(5), torch.ones(5)
    ty = F.batch_norm(tx, trm, trv, tw, tb, training=True) + tr
    if act:
        ty = torch.relu(ty)
    ty.backward(torch.tensor(dy))
    for got, ref in [(y, ty), (dx, tx.grad), (dw, tw.grad), (db, tb.grad), (dr, tr.grad),
                     (rm, trm), (rv, trv)]:
        ref = ref.detach().numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * max(1, np.abs(ref).max()))


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("cfg", [dict(), dict(affine=False), dict(track_running_stats=False),
                                 dict(momentum=None), dict(momentum=0.3, eps=1e-3)])
def test_layer_configurations_against_torch(cfg):
    """The layer against torch.nn.BatchNorm2d over three training steps (forward, backward,
    running statistics) and then in eval mode, forward and backward."""
    tbn = torch.nn.BatchNorm2d(4, **cfg)
    bn = BatchNorm(4, **cfg)
    if bn.affine:
        with torch.no_grad():
            tbn.weight.uniform_(0.5, 2)
            tbn.bias.uniform_(-1, 1)
        bn.weight[...] = tbn.weight.detach().numpy()
        bn.bias[...] = tbn.bias.detach().numpy()
    for step in range(4):
        if step == 3:
            bn.eval()
            tbn.eval()
        x = (RNG.standard_normal((5, 4, 3, 3)) * (step + 1) + step).astype(np.float32)
        dy = RNG.standard_normal(x.shape).astype(np.float32)
        tx = torch.tensor(x, requires_grad=True)
        ty = tbn(tx)
        ty.backward(torch.tensor(dy))
        y = bn(x)
        dx = bn.backward(dy)
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        if bn.affine:
            np.testing.assert_allclose(bn.dweight, tbn.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(bn.dbias, tbn.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
            tbn.weight.grad = tbn.bias.grad = None
        if bn.track_running_stats:
            np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-5,
                                       atol=1e-6)
            np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-5)
            assert int(bn.num_batches_tracked) == int(tbn.num_batches_tracked)
    assert set(bn.state_dict()) == set(tbn.state_dict())


@needs_torch
@pytest.mark.torch
def test_torch_state_dict_loads():
    tbn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        tbn.weight.uniform_(0.5, 2)
        tbn.bias.uniform_(-1, 1)
    x = RNG.standard_normal((3, 4, 5, 5)).astype(np.float32)
    for _ in range(3):
        tbn(torch.tensor(x * 1.5 + 0.3))
    tbn.eval()
    bn = BatchNorm(4)
    bn.load_state_dict({k: v.numpy() for k, v in tbn.state_dict().items()})
    bn.eval()
    np.testing.assert_allclose(bn(x), tbn(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    assert int(bn.num_batches_tracked) == 3


# channels-last with 85 channels: the statistics' register chunks are 64 channels wide on
# AVX-512 and 16 elsewhere (bnorm_t.h, BN_CS_MAX); the bits must not depend on it
@pytest.mark.parametrize("shape,axis", [((4, 6, 33, 31), 1), ((3, 9, 9, 85), -1)])
def test_bit_identical_across_isas(shape, axis):
    """16 fixed lanes, -ffp-contract=off: every table gives the same bits, except that the fused
    activation's float32 formula uses fma where the target has one (csrc/vmathf.h): targets with
    FMA agree bit for bit, baseline within a few ulp."""
    import actcore._core as core
    isas = core.isa_info()["supported"]
    fma = core.isa_info()["fma"]
    current = core.isa_info()["current"]
    x = (RNG.standard_normal(shape) * 3 + 2).astype(np.float32)
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    res = []
    try:
        for isa in isas:
            core.set_isa(isa)
            assert core.bn_isa() == isa
            y, m, i = batch_norm_train(x, activation="silu", axis=axis)
            res.append((y, m, i) + batch_norm_grad(dy, x, m, i, None, activation="silu",
                                                   axis=axis)[:1])
            if isa != isas[0]:  # the statistics have no fma: the same bits everywhere
                assert (m.tobytes(), i.tobytes()) == (res[0][1].tobytes(), res[0][2].tobytes())
    finally:
        core.set_isa(current)
    groups = [[r for isa, r in zip(isas, res, strict=True) if (isa in fma) == f] for f in (0, 1)]
    for group in groups:
        for other in group[1:]:
            for a, c in zip(group[0], other, strict=True):
                assert a.tobytes() == c.tobytes()
    if all(groups):
        for a, c in zip(groups[0][0], groups[1][0], strict=True):
            np.testing.assert_allclose(a, c, rtol=4e-7, atol=1e-7)


@pytest.mark.parametrize("shape,axis", [((4, 6, 33, 31), 1), ((4, 33, 31, 6), -1)])
def test_fused_relu_bit_identical_across_isas(shape, axis):
    """No fma anywhere in BN + ReLU: every target, baseline included, gives the same bits,
    forward and backward (the ReLU gradient from y and from x, fused into the loops)."""
    import actcore._core as core
    isas = core.isa_info()["supported"]
    current = core.isa_info()["current"]
    x = (RNG.standard_normal(shape) * 3 + 2).astype(np.float32)
    C = shape[axis]
    w, b = RNG.standard_normal(C).astype(np.float32), RNG.standard_normal(C).astype(np.float32)
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    res = []
    try:
        for isa in isas:
            core.set_isa(isa)
            y, m, i = batch_norm_train(x, w, b, axis=axis, activation="relu")
            gy = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", y=y)
            gx = batch_norm_grad(dy, x, m, i, w, axis=axis, activation="relu", bias=b)
            res.append((y, m, i) + gy + gx)
    finally:
        core.set_isa(current)
    for other in res[1:]:
        for a, c in zip(res[0], other, strict=True):
            assert a.tobytes() == c.tobytes()


@pytest.mark.parametrize("shape", [(0, 3), (2, 3, 0), (0, 3, 4, 4)])
def test_empty_inference(shape):
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    x = np.empty(shape, np.float32)
    assert batch_norm(x, rm, rv, activation="relu").shape == shape
    with pytest.raises(ValueError, match="more than 1 value"):
        batch_norm(x, rm, rv, training=True)


@pytest.mark.parametrize("T", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [False, True])
def test_kernel_parameters_match_their_numpy_formulas(T, affine):
    """_bnorm.pxi's bn_params gives the kernels' per-channel parameters with the bits of the
    NumPy expressions it replaced (mean split in hi + lo, w * invstd, bias, 1/sqrt(var + eps))."""
    from actcore import _core

    C = 37
    mean = RNG.standard_normal(C) * 1e4 + 1e-3 * RNG.standard_normal(C)
    var = RNG.uniform(0.0, 2.0, C)
    var[0] = 0.0
    w = RNG.standard_normal(C) if affine else None
    b = RNG.standard_normal(C) if affine else None
    invstd = 1.0 / np.sqrt(var + 1e-5)
    mh = mean.astype(T)
    want = (mh, (mean - mh.astype(np.float64)).astype(T),
            (invstd if w is None else w * invstd).astype(T),
            (np.zeros(C) if b is None else b).astype(T))
    for got in (_core.bn_params(mean, invstd, w, b, T == np.float64),
                _core.bn_params(mean, None, w, b, T == np.float64, var, 1e-5)):
        for g, e in zip(got, want, strict=True):
            assert g.dtype == T and g.tobytes() == e.tobytes()
    with pytest.raises(ValueError, match="invstd or var"):
        _core.bn_params(mean, invstd, w, b, False, var, 1e-5)
    with pytest.raises(ValueError, match="weight must have 37"):
        _core.bn_params(mean, invstd, np.ones(3), b, False)
