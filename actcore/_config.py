"""show_config(): what this build of actcore is and what it runs on."""

from __future__ import annotations

import platform
import sys

import numpy as np

from . import _bfloat16, _core
from ._threads import get_num_threads


def config() -> dict:
    isa = _core.isa_info()
    build = _core.build_info()
    from . import __version__

    return {
        "actcore": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
        "compiler": build["compiler"],
        "openmp": build["openmp"],
        "threads": get_num_threads(),
        "parallel_min": _core.parallel_min(),
        "stream_min_bytes": _core.stream_min(),
        "isa": isa["current"],
        "isa_supported": isa["supported"],
        "isa_built": isa["built"],
        "bfloat16": _bfloat16.status(),
    }


def show_config() -> None:
    """Print version, compiler, OpenMP, threads, the serial and streaming thresholds, the ISA in
    use, the ISAs built and whether bfloat16 (ml_dtypes) is supported."""
    cfg = config()
    width = max(map(len, cfg))
    for key, value in cfg.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:>{width}}: {value}")
