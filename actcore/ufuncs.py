"""The raw ufuncs, one per op and kind, made from csrc/ops.def.

Parameters are extra ufunc inputs that broadcast like any input, e.g.
``ufuncs.leaky_relu(x, slope)``, ``ufuncs.leaky_relu_grad(dy, x, slope)``,
``ufuncs.sigmoid_grad_from_output(dy, y)``.  The functions in the top-level ``actcore``
namespace add defaults and checks and call these.

Loops: float16, float32, float64, and bfloat16 once ml_dtypes is imported (``_bfloat16``).
"""

from . import _bfloat16, _core
from ._docs import ufunc_docs

_made = _core.make_ufuncs(ufunc_docs())
globals().update(_made)
__all__ = sorted(_made)
del _made
_bfloat16.setup()
