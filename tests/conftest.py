"""Shared helpers: the ops of the registry with their kernels, and input generators."""

import numpy as np
import pytest

import actcore
from actcore import _core, reference
from actcore._registry import OPS

# every kernel in ops.def with a parameter set to call it with (defaults, and required ones)
EXAMPLE_PARAMS = {
    "leaky_relu": (0.2,),
    "elu": (0.7,),
    "celu": (1.3,),
    "swish": (1.5,),
    "softplus": (1.5, 5.0),
    "hardtanh": (-2.0, 1.5),
    "threshold": (0.25, -3.0),
    "hardshrink": (0.7,),
    "softshrink": (0.7,),
}


def kernels():
    """(kernel name, params) for every kernel in csrc/ops.def."""
    out = []
    for name, nparams, _gout, _cost in _core.op_table():
        params = EXAMPLE_PARAMS.get(name, ())
        assert len(params) == nparams, name
        out.append((name, params))
    return out


KERNELS = kernels()
KERNEL_NAMES = [k for k, _ in KERNELS]
GOUT_KERNELS = [(n, p) for n, p in KERNELS if reference.REFERENCES[n]["gout"] is not None]


def ufunc(name, kind="fwd"):
    suffix = {"fwd": "", "grad": "_grad", "gout": "_grad_from_output"}[kind]
    return getattr(actcore.ufuncs, name + suffix)


def sample(n, dtype=np.float32, seed=0, scale=4.0):
    """Values spread over the interesting range of every op, plus the kinks."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * scale
    kinks = np.array([0.0, -0.0, 3.0, -3.0, 6.0, 0.5, -0.5, 1.0, -1.0, 20.0, -1.5])
    x[: min(n, kinks.size)] = kinks[: min(n, kinks.size)]
    return x.astype(dtype)


def call(name, kind, x, params, dy=None, **kw):
    uf = ufunc(name, kind)
    if kind == "fwd":
        return uf(x, *params, **kw)
    return uf(dy if dy is not None else np.ones_like(x), x, *params, **kw)


@pytest.fixture(params=KERNELS, ids=KERNEL_NAMES)
def kernel(request):
    return request.param


@pytest.fixture(params=["fwd", "grad"])
def kind(request):
    return request.param


__all__ = ["OPS", "KERNELS", "GOUT_KERNELS", "call", "sample", "ufunc"]
