"""Docstrings for the ufuncs and wrappers, generated from the registry."""

from ._core import op_table
from ._registry import OPS, REQUIRED

_KIND_TEXT = {
    "": "{name}(x{params}) -> y\n\n{formula}",
    "_grad": "{name}_grad(dy, x{params}) -> dx\n\nGradient of {name}: dy * d{name}(x)/dx "
    "(PyTorch's conventions at kinks).",
    "_grad_from_output": "{name}_grad_from_output(dy, y{params}) -> dx\n\nGradient of {name} "
    "from its output y, so the forward pass may run in place.",
}


def _public_op(kernel):
    return OPS.get(kernel) or OPS["gelu"]  # gelu_tanh is gelu(approximate='tanh')


def param_text(op):
    parts = []
    for pname, default in op.params:
        parts.append(pname if default is REQUIRED else f"{pname}={default!r}")
    return "".join(", " + p for p in parts)


def ufunc_docs():
    docs = {}
    for name, nparams, has_gout, _ in op_table():
        op = _public_op(name)
        params = ", ".join(p for p, _ in op.params[:nparams])
        params = ", " + params if params else ""
        formula = op.formula if name != "gelu_tanh" else "gelu, tanh approximation"
        for suffix in ("", "_grad") + (("_grad_from_output",) if has_gout else ()):
            text = _KIND_TEXT[suffix].format(name=name, params=params, formula=formula)
            docs[name + suffix] = (
                text + "\n\nA NumPy ufunc: out=, where=, dtype=, casting= and broadcasting "
                "work as for any ufunc; float16/float32/float64 loops."
            )
    return docs
