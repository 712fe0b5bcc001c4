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
    for name, nparams, has_gout, _cost in op_table():
        op = _public_op(name)
        params = ", ".join(p for p, _ in op.params[:nparams])
        params = ", " + params if params else ""
        formula = op.formula if name != "gelu_tanh" else "gelu, tanh approximation"
        for suffix in ("", "_grad") + (("_grad_from_output",) if has_gout else ()):
            text = _KIND_TEXT[suffix].format(name=name, params=params, formula=formula)
            docs[name + suffix] = (
                text + "\n\nA NumPy ufunc: out=, where=, dtype=, casting= and broadcasting "
                "work as for any ufunc; float16/float32/float64 loops, and bfloat16 "
                "(ml_dtypes) ones once ml_dtypes is imported."
            )
    return docs


def _fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def ops_markdown():
    """docs/ops.md: the table of every activation, generated from the registry."""
    lines = [
        "# Activations",
        "",
        "Generated from `actcore/_registry.py` by `python -m actcore docs --write`; do not edit.",
        "Defaults and kink conventions follow PyTorch. `actcore.info(name)` returns the same "
        "data.",
        "",
        "| name | kind | definition | parameters | range | monotonic | zero-centred | "
        "smoothness | f(0) | f'(0) | max abs f' | from output | PyTorch | ONNX | Keras | JAX |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for op in OPS.values():
        params = ", ".join(p if d is REQUIRED else f"{p}={d!r}" for p, d in op.params) or "–"
        rng = f"[{_fmt(op.range[0])}, {_fmt(op.range[1])}]"
        n = op.names
        cells = [f"`{op.name}`", op.kind, op.formula.replace("|", "\\|"), params, rng,
                 "yes" if op.monotonic else "no", "yes" if op.zero_centred else "no",
                 op.smoothness, _fmt(op.f0), _fmt(op.fprime0), _fmt(op.max_abs_grad),
                 "yes" if op.grad_from_output else "no"] + [
            f"`{n.get(k)}`" if n.get(k) else "–" for k in ("torch", "onnx", "keras", "jax")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
