"""The registry of activations: parameters, defaults and metadata.

This is the Python half of the one registry; the C half is ``csrc/ops.def`` (which kernel
exists, with how many parameters).  ``tests/test_registry.py`` checks the two agree.  The
wrappers in ``activations.py``, ``info()``, the docs table and the parametrised tests are all
generated from ``OPS``.

Metadata conventions (for the default parameters):
- ``range``: (low, high) of the output; ``bounded``: both ends finite.
- ``zero_centred``: f(0) = 0 and f takes both signs.
- ``smoothness``: "C0" (continuous, kinked), "C1", "Cinf", or "discontinuous".
- ``f0``, ``fprime0``: f(0) and f'(0) with PyTorch's kink conventions; ``max_abs_grad``: sup |f'|.
- ``saturates``: the sides where f' -> 0.
- ``names``: the same op in PyTorch, ONNX, Keras and JAX (None where there is no single op).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

REQUIRED = object()  # a parameter with no default (threshold's threshold and value)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
INF = math.inf


@dataclass(frozen=True)
class Op:
    name: str
    formula: str
    kernel: str | None  # the ops.def kernel, or None for ops composed in Python
    params: tuple[tuple[str, object], ...] = ()
    range: tuple[float, float] = (-INF, INF)
    monotonic: bool = True
    zero_centred: bool = True
    smoothness: str = "Cinf"
    f0: float = 0.0
    fprime0: float = 1.0
    max_abs_grad: float = 1.0
    saturates: tuple[str, ...] = ()
    grad_from_output: bool = False
    names: dict = field(default_factory=dict)
    kind: str = "elementwise"  # or "axis"

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.range[0]) and math.isfinite(self.range[1])


def _names(torch=None, onnx=None, keras=None, jax=None):
    return {"torch": torch, "onnx": onnx, "keras": keras, "jax": jax}


OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op(
            "sigmoid",
            "1/(1+e^-x)",
            "sigmoid",
            range=(0.0, 1.0),
            zero_centred=False,
            f0=0.5,
            fprime0=0.25,
            max_abs_grad=0.25,
            saturates=("left", "right"),
            grad_from_output=True,
            names=_names("torch.sigmoid", "Sigmoid", "sigmoid", "jax.nn.sigmoid"),
        ),
        Op(
            "log_sigmoid",
            "-softplus(-x) = min(x,0) - log1p(e^-|x|)",
            "log_sigmoid",
            range=(-INF, 0.0),
            zero_centred=False,
            f0=-math.log(2.0),
            fprime0=0.5,
            saturates=("right",),
            names=_names(
                "torch.nn.functional.logsigmoid", None, "log_sigmoid", "jax.nn.log_sigmoid"
            ),
        ),
        Op(
            "tanh",
            "tanh x",
            "tanh",
            range=(-1.0, 1.0),
            saturates=("left", "right"),
            grad_from_output=True,
            names=_names("torch.tanh", "Tanh", "tanh", "jax.numpy.tanh"),
        ),
        Op(
            "relu",
            "max(0, x)",
            "relu",
            range=(0.0, INF),
            zero_centred=False,
            smoothness="C0",
            fprime0=0.0,
            saturates=("left",),
            grad_from_output=True,
            names=_names("torch.relu", "Relu", "relu", "jax.nn.relu"),
        ),
        Op(
            "relu6",
            "min(max(0, x), 6)",
            "relu6",
            range=(0.0, 6.0),
            zero_centred=False,
            smoothness="C0",
            fprime0=0.0,
            saturates=("left", "right"),
            grad_from_output=True,
            names=_names(
                "torch.nn.functional.relu6", "Clip(min=0, max=6)", "relu6", "jax.nn.relu6"
            ),
        ),
        Op(
            "leaky_relu",
            "x if x > 0 else negative_slope*x",
            "leaky_relu",
            params=(("negative_slope", 0.01),),
            smoothness="C0",
            fprime0=0.01,
            grad_from_output=True,
            names=_names(
                "torch.nn.functional.leaky_relu", "LeakyRelu", "leaky_relu", "jax.nn.leaky_relu"
            ),
        ),
        Op(
            "prelu",
            "x if x > 0 else weight[c]*x, weight along the channel axis",
            None,
            params=(("weight", REQUIRED), ("axis", 1)),
            smoothness="C0",
            fprime0=0.25,
            names=_names("torch.nn.functional.prelu", "PRelu", "PReLU (layer)", None),
        ),
        Op(
            "rrelu",
            "leaky_relu with slope ~ U(lower, upper) in training, (lower+upper)/2 otherwise",
            None,
            params=(("lower", 1.0 / 8.0), ("upper", 1.0 / 3.0), ("training", False)),
            smoothness="C0",
            fprime0=(1.0 / 8.0 + 1.0 / 3.0) / 2.0,
            names=_names("torch.nn.functional.rrelu", None, None, None),
        ),
        Op(
            "elu",
            "x if x > 0 else alpha*expm1(x)",
            "elu",
            params=(("alpha", 1.0),),
            range=(-1.0, INF),
            smoothness="C1",
            saturates=("left",),
            grad_from_output=True,
            names=_names("torch.nn.functional.elu", "Elu", "elu", "jax.nn.elu"),
        ),
        Op(
            "selu",
            "scale*elu(x, alpha), alpha=1.6732632423543772, scale=1.0507009873554805",
            "selu",
            range=(-SELU_SCALE * SELU_ALPHA, INF),
            smoothness="C0",
            fprime0=SELU_SCALE * SELU_ALPHA,
            max_abs_grad=SELU_SCALE * SELU_ALPHA,
            saturates=("left",),
            names=_names("torch.nn.functional.selu", "Selu", "selu", "jax.nn.selu"),
        ),
        Op(
            "celu",
            "max(0,x) + min(0, alpha*expm1(x/alpha))",
            "celu",
            params=(("alpha", 1.0),),
            range=(-1.0, INF),
            smoothness="C1",
            saturates=("left",),
            names=_names("torch.nn.functional.celu", "Celu", "celu", "jax.nn.celu"),
        ),
        Op(
            "gelu",
            "x*Phi(x); approximate='tanh': 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))",
            "gelu",
            params=(("approximate", "none"),),
            range=(-0.16997120747990366, INF),
            monotonic=False,
            fprime0=0.5,
            max_abs_grad=1.1289041451851548,
            saturates=("left",),
            names=_names(
                "torch.nn.functional.gelu", "Gelu", "gelu", "jax.nn.gelu(approximate=False)"
            ),
        ),
        Op(
            "silu",
            "x*sigmoid(x)",
            "silu",
            range=(-0.27846454276107380, INF),
            monotonic=False,
            fprime0=0.5,
            max_abs_grad=1.0998393201288669,
            saturates=("left",),
            names=_names("torch.nn.functional.silu", None, "silu", "jax.nn.silu"),
        ),
        Op(
            "swish",
            "x*sigmoid(beta*x)",
            "swish",
            params=(("beta", 1.0),),
            range=(-0.27846454276107380, INF),
            monotonic=False,
            fprime0=0.5,
            max_abs_grad=1.0998393201288669,
            saturates=("left",),
            names=_names(None, None, "swish", "jax.nn.swish"),
        ),
        Op(
            "mish",
            "x*tanh(softplus(x))",
            "mish",
            range=(-0.30884341301725041, INF),
            monotonic=False,
            fprime0=0.6,
            max_abs_grad=1.0884981612517279,
            saturates=("left",),
            names=_names("torch.nn.functional.mish", "Mish", "mish", None),
        ),
        Op(
            "softplus",
            "log(1+e^(beta x))/beta; x where beta*x > threshold",
            "softplus",
            params=(("beta", 1.0), ("threshold", 20.0)),
            range=(0.0, INF),
            zero_centred=False,
            f0=math.log(2.0),
            fprime0=0.5,
            saturates=("left",),
            names=_names("torch.nn.functional.softplus", "Softplus", "softplus", "jax.nn.softplus"),
        ),
        Op(
            "softsign",
            "x/(1+|x|)",
            "softsign",
            range=(-1.0, 1.0),
            smoothness="C1",
            saturates=("left", "right"),
            names=_names(
                "torch.nn.functional.softsign", "Softsign", "softsign", "jax.nn.soft_sign"
            ),
        ),
        Op(
            "hardsigmoid",
            "min(max(x+3, 0), 6)/6",
            "hardsigmoid",
            range=(0.0, 1.0),
            zero_centred=False,
            smoothness="C0",
            f0=0.5,
            fprime0=1.0 / 6.0,
            max_abs_grad=1.0 / 6.0,
            saturates=("left", "right"),
            names=_names(
                "torch.nn.functional.hardsigmoid",
                "HardSigmoid(alpha=1/6)",
                "hard_sigmoid",
                "jax.nn.hard_sigmoid",
            ),
        ),
        Op(
            "hardswish",
            "x*min(max(x+3, 0), 6)/6",
            "hardswish",
            range=(-0.375, INF),
            monotonic=False,
            smoothness="C0",
            fprime0=0.5,
            max_abs_grad=1.5,
            saturates=("left",),
            names=_names(
                "torch.nn.functional.hardswish", "HardSwish", "hard_silu", "jax.nn.hard_swish"
            ),
        ),
        Op(
            "hardtanh",
            "min(max(x, min_val), max_val)",
            "hardtanh",
            params=(("min_val", -1.0), ("max_val", 1.0)),
            range=(-1.0, 1.0),
            smoothness="C0",
            saturates=("left", "right"),
            grad_from_output=True,
            names=_names("torch.nn.functional.hardtanh", "Clip", None, "jax.nn.hard_tanh"),
        ),
        Op(
            "threshold",
            "x if x > threshold else value",
            "threshold",
            params=(("threshold", REQUIRED), ("value", REQUIRED)),
            zero_centred=False,
            smoothness="discontinuous",
            f0=math.nan,
            fprime0=math.nan,
            names=_names("torch.nn.functional.threshold", "ThresholdedRelu (value=0)", None, None),
        ),
        Op(
            "hardshrink",
            "x if |x| > lambd else 0",
            "hardshrink",
            params=(("lambd", 0.5),),
            smoothness="discontinuous",
            fprime0=0.0,
            names=_names("torch.nn.functional.hardshrink", "Shrink(bias=0)", None, None),
        ),
        Op(
            "softshrink",
            "x - lambd*sign(x) if |x| > lambd else 0",
            "softshrink",
            params=(("lambd", 0.5),),
            smoothness="C0",
            fprime0=0.0,
            names=_names(
                "torch.nn.functional.softshrink", "Shrink(bias=lambd)", "soft_shrink", None
            ),
        ),
        Op(
            "tanhshrink",
            "x - tanh x",
            "tanhshrink",
            fprime0=0.0,
            names=_names("torch.nn.functional.tanhshrink", None, "tanh_shrink", None),
        ),
        Op(
            "step",
            "1 if x > 0 else 0 (Heaviside, step(0) = 0)",
            "step",
            range=(0.0, 1.0),
            zero_centred=False,
            smoothness="discontinuous",
            fprime0=0.0,
            max_abs_grad=0.0,
            saturates=("left", "right"),
            names=_names("torch.heaviside(x, 0)", None, None, "jax.numpy.heaviside(x, 0)"),
        ),
    ]
}

# Axis activations (SPEC §3): functions in actcore/axis.py, kernels in csrc/axis.c, no ops.def
# kernel.  f0 / fprime0 / max_abs_grad describe elementwise ops and are None here.
AXIS_OPS = [
    Op("softmax", "e^(x-max) / sum e^(x-max) along axis", None, params=(("axis", -1),),
       range=(0.0, 1.0), monotonic=False, zero_centred=False, f0=None, fprime0=None,
       max_abs_grad=None, grad_from_output=True, kind="axis",
       names=_names("torch.softmax", "Softmax", "softmax", "jax.nn.softmax")),
    Op("log_softmax", "x - logsumexp(x) along axis", None, params=(("axis", -1),),
       range=(-INF, 0.0), monotonic=False, zero_centred=False, f0=None, fprime0=None,
       max_abs_grad=None, grad_from_output=True, kind="axis",
       names=_names("torch.log_softmax", "LogSoftmax", "log_softmax", "jax.nn.log_softmax")),
    Op("logsumexp", "max + log sum e^(x-max) along axis", None,
       params=(("axis", -1), ("keepdims", False)), zero_centred=False, f0=None, fprime0=None,
       max_abs_grad=None, kind="axis",
       names=_names("torch.logsumexp", "ReduceLogSumExp", "keras.ops.logsumexp",
                    "jax.nn.logsumexp")),
    Op("glu", "a*sigmoid(b), x split in halves a, b along axis", None, params=(("axis", -1),),
       monotonic=False, zero_centred=False, smoothness="Cinf", f0=None, fprime0=None,
       max_abs_grad=None, kind="axis",
       names=_names("torch.nn.functional.glu", None, "glu", "jax.nn.glu")),
    Op("swiglu", "silu(a)*b, x split in halves a, b along axis", None, params=(("axis", -1),),
       monotonic=False, zero_centred=False, f0=None, fprime0=None, max_abs_grad=None,
       kind="axis", names=_names(None, None, None, None)),
    Op("geglu", "gelu(a)*b, x split in halves a, b along axis", None,
       params=(("axis", -1), ("approximate", "none")), monotonic=False, zero_centred=False,
       f0=None, fprime0=None, max_abs_grad=None, kind="axis",
       names=_names(None, None, None, None)),
    Op("reglu", "relu(a)*b, x split in halves a, b along axis", None, params=(("axis", -1),),
       monotonic=False, zero_centred=False, smoothness="C0", f0=None, fprime0=None,
       max_abs_grad=None, kind="axis", names=_names(None, None, None, None)),
    Op("maxout", "max over groups of pool_size consecutive channels along axis", None,
       params=(("pool_size", REQUIRED), ("axis", 1)), monotonic=True, zero_centred=False,
       smoothness="C0", f0=None, fprime0=None, max_abs_grad=1.0, kind="axis",
       names=_names(None, None, None, None)),
]
OPS.update((op.name, op) for op in AXIS_OPS)

# kernels that exist in ops.def but are reached through another public op
KERNEL_ALIASES = {"gelu_tanh": "gelu"}
