"""actcore: neural-network activations and batch normalization as fast, accurate NumPy ufuncs.

Every elementwise activation is a NumPy ufunc (``actcore.relu``) or a thin wrapper over one
(``actcore.leaky_relu(x, 0.2)`` calls ``actcore.ufuncs.leaky_relu``), with a ``_grad`` and,
where the output suffices, a ``_grad_from_output``.  See ``list_activations()`` and ``info()``.
"""

__version__ = "0.1.0"

from . import _core, ufuncs  # noqa: E402
from ._config import config, show_config  # noqa: E402
from ._threads import _init_from_env, get_num_threads, num_threads, set_num_threads  # noqa: E402
from .activations import *  # noqa: E402,F403
from .activations import __all__ as _act_all  # noqa: E402
from .activations import info, list_activations  # noqa: E402
from .axis import *  # noqa: E402,F403
from .axis import __all__ as _axis_all  # noqa: E402
from .batchnorm import (  # noqa: E402
    BatchNorm,
    batch_norm,
    batch_norm_grad,
    batch_norm_train,
    fold_batch_norm,
)

_init_from_env()

__all__ = sorted(
    set(_act_all)
    | set(_axis_all)
    | {"ufuncs", "info", "list_activations", "show_config", "config", "get_num_threads",
       "set_num_threads", "num_threads", "__version__", "batch_norm", "batch_norm_train",
       "batch_norm_grad", "BatchNorm", "fold_batch_norm"}
)
del _core
