"""The raw ufuncs, one per op and kind, made from csrc/ops.def.

Parameters are extra ufunc inputs that broadcast like any input, e.g.
``ufuncs.leaky_relu(x, slope)``, ``ufuncs.leaky_relu_grad(dy, x, slope)``,
``ufuncs.sigmoid_grad_from_output(dy, y)``.  The functions in the top-level ``actcore``
namespace add defaults and checks and call these.
"""

from . import _core
from ._docs import ufunc_docs

_made = _core.make_ufuncs(ufunc_docs())
globals().update(_made)
__all__ = sorted(_made)
del _made
