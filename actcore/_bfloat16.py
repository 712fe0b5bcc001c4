"""bfloat16 support: ml_dtypes' bfloat16 loops on every elementwise ufunc, when it is installed.

bfloat16 is ``ml_dtypes.bfloat16``, a NumPy user dtype.  Its loops (the float32 formula on
blocks widened to float32, rounded once to bfloat16, as for float16) are compiled into
``actcore._core`` and registered on the ufuncs with ``PyUFunc_RegisterLoopForType`` by
``_core.register_bfloat16``.

ml_dtypes stays optional and is never imported by actcore itself: importing it costs about a
second here (ml_dtypes 0.7 with NumPy 2.4, 1.3 s against 0.16 s for all of actcore), and
nobody can hold a bfloat16 array without having imported it.  So:

- if ml_dtypes is already imported when actcore is, the loops are registered at once;
- otherwise a finder on ``sys.meta_path`` waits for ``import ml_dtypes`` (by the user, or by
  JAX or anything else) and registers them right after that module has run, then removes
  itself.  It only looks at that one module name and leaves finding and loading it to the
  other finders.

Without ml_dtypes everything else works unchanged; ``actcore.config()["bfloat16"]`` says
which of these states we are in.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings

import numpy as np

from . import _core

_NAME = "ml_dtypes"


def is_bfloat16(dtype) -> bool:
    """True for ml_dtypes' bfloat16 (without importing ml_dtypes)."""
    # kind and itemsize first: dtype.name builds a string
    return dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16"


def register(module=None) -> bool:
    """Register the bfloat16 loops on every actcore ufunc (idempotent).  ``module``: ml_dtypes,
    imported here when not given (ImportError if it is not installed)."""
    if module is None:
        import ml_dtypes as module
    dt = np.dtype(module.bfloat16)
    if not is_bfloat16(dt):
        raise TypeError(f"actcore: ml_dtypes.bfloat16 is not a 2-byte bfloat16 dtype: {dt!r}")
    return _core.register_bfloat16(dt)


def registered() -> bool:
    return _core.bfloat16_type() >= 0


def status() -> str:
    """One line for actcore.config(): is bfloat16 supported in this process, and if not, why."""
    if registered():
        mod = sys.modules.get(_NAME)
        return f"yes (ml_dtypes {getattr(mod, '__version__', '?')})"
    try:
        installed = importlib.util.find_spec(_NAME) is not None
    except (ImportError, ValueError):  # sys.modules[name] is None or has no __spec__
        installed = False
    if installed:
        return "when ml_dtypes is imported (installed, not imported yet)"
    return "no: needs the ml_dtypes package (pip install ml_dtypes)"


def _after_import(module):
    _remove_finder()
    try:
        register(module)
    except Exception as e:  # never break the user's import of ml_dtypes
        warnings.warn(f"actcore: could not register bfloat16 loops: {e}", RuntimeWarning,
                      stacklevel=2)


class _Finder:
    """Finds nothing itself: for ``ml_dtypes`` it asks the other finders for the module's spec
    and wraps that spec's loader's exec_module, so that the loops are registered once the
    module has run; then it removes itself from sys.meta_path.  (A spec that is only looked at,
    as by ``importlib.util.find_spec``, is never executed and changes nothing.)

    It skips every finder of its kind, not only itself: a second one (this module reloaded, or a
    second copy of actcore in the process) would otherwise ask the first, which asks the second,
    until RecursionError, raised from the user's ``import ml_dtypes`` (found 2026-12-05 with two
    builds imported side by side)."""

    _actcore_bfloat16 = True  # the mark its kind is skipped by

    def find_spec(self, name, path=None, target=None):
        if name != _NAME:
            return None
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if getattr(finder, "_actcore_bfloat16", False) or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            run(module)
            _after_import(module)

        try:
            loader.exec_module = exec_module  # this loader instance only: one per spec
        except (AttributeError, TypeError):  # a loader that takes no attributes
            pass
        return spec


_FINDER = _Finder()


def _install_finder():
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def _remove_finder():
    """Every finder of this kind: the stale one of a reloaded module goes too."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "_actcore_bfloat16", False)]


def setup():
    """At actcore import: register now if ml_dtypes is loaded, else when it gets imported."""
    mod = sys.modules.get(_NAME)
    if mod is not None and hasattr(mod, "bfloat16"):
        _after_import(mod)
    elif _NAME not in sys.modules:
        _install_finder()
    # sys.modules[name] is None (import blocked) or a partly initialised module: nothing to do
