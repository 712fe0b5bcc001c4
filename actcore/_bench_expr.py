"""The NumPy/SciPy and numexpr peers of the benchmark, written once as small formulas.

A formula is Python expression syntax: ``"s = expit(x); dy * s * (1 - s)"``.  Names are the
case's arrays (``x``, ``dy``, ``y``) and the op's parameters; assignments name a subexpression.
From one formula this module builds

- a NumPy program: the sequence of ufunc calls, each with ``out=`` into a preallocated temporary
  (or into the result), that a careful NumPy user writes by hand, so no call allocates;
- a numexpr expression string, with ``maximum``/``clip``/``expit``/... rewritten into numexpr's
  ``where``/``exp``/``log1p`` and every constant passed as a typed scalar (a literal ``0.5``
  would make numexpr compute a float32 case in float64).

Keeping one formula per op and peer means the two peers compute the same thing, and the
numexpr rewrite is checked by the same tests as the NumPy one.
"""

from __future__ import annotations

import ast

import numpy as np


class Unsupported(Exception):
    """The peer has no equivalent for a function in the formula."""


def _scipy_special():
    import scipy.special  # noqa: PLC0415  (a peer: imported when first used)

    return scipy.special


_NUMPY_FUNCS = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
    "abs": np.absolute, "maximum": np.maximum, "minimum": np.minimum, "sqrt": np.sqrt,
    "logaddexp": np.logaddexp, "heaviside": np.heaviside, "clip": np.clip,
}
_SCIPY_FUNCS = ("expit", "log_expit", "ndtr", "erf", "erfc")
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
           ast.BitAnd: np.logical_and, ast.BitOr: np.logical_or}
_CMPOPS = {ast.Gt: np.greater, ast.Lt: np.less, ast.GtE: np.greater_equal,
           ast.LtE: np.less_equal}
_PYOPS = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__,
          ast.Div: float.__truediv__}


def _parse(formula):
    tree = ast.parse("\n".join(part.strip() for part in formula.split(";")))
    *assigns, last = tree.body
    if not isinstance(last, ast.Expr) or not all(
        isinstance(a, ast.Assign) and len(a.targets) == 1 and isinstance(a.targets[0], ast.Name)
        for a in assigns
    ):
        raise ValueError(f"formula must be 'name = expr; ...; expr', got {formula!r}")
    return [(a.targets[0].id, a.value) for a in assigns], last.value


# ---------------------------------------------------------------- NumPy programs
class _Program:
    """Emits ufunc calls with out= temporaries; temporaries are freed and reused."""

    def __init__(self, env, dtype, n_shape):
        self.env = dict(env)
        self.dtype = np.dtype(dtype)
        self.shape = n_shape
        self.steps = []
        self.free = {}  # dtype -> [arrays]
        self.temps = set()  # ids of arrays owned by the program
        self.pinned = set()  # ids of temporaries bound to assigned names

    def temp(self, dtype):
        pool = self.free.setdefault(np.dtype(dtype), [])
        if pool:
            return pool.pop()
        arr = np.ones(self.shape, dtype)  # touched, so page faults are not timed later
        self.temps.add(id(arr))
        return arr

    def release(self, *vals):
        for v in vals:
            if isinstance(v, np.ndarray) and id(v) in self.temps and id(v) not in self.pinned:
                self.free.setdefault(v.dtype, []).append(v)

    def emit(self, fn, *args, **kwargs):
        self.steps.append((fn, args, kwargs))

    def _func(self, name):
        if name in _NUMPY_FUNCS:
            return _NUMPY_FUNCS[name]
        if name in _SCIPY_FUNCS:
            return getattr(_scipy_special(), name)
        raise Unsupported(f"numpy: no function {name!r}")

    def gen(self, node, dest=None):
        """Value of node (an array or a Python float); into dest when dest is given."""
        if isinstance(node, ast.Constant):
            val = float(node.value)
            if dest is not None:
                self.emit(np.copyto, dest, val)
                return dest
            return val
        if isinstance(node, ast.Name):
            val = self.env[node.id]
            if isinstance(val, (int, float)):
                val = float(val)
            if dest is not None:
                self.emit(np.copyto, dest, val)
                return dest
            return val
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            a = self.gen(node.operand)
            if isinstance(a, float):
                return self.gen(ast.Constant(-a), dest)
            return self._apply(np.negative, [a], dest, self.dtype)
        if isinstance(node, ast.BinOp):
            a, b = self.gen(node.left), self.gen(node.right)
            if isinstance(a, float) and isinstance(b, float):
                return self.gen(ast.Constant(_PYOPS[type(node.op)](a, b)), dest)
            fn = _BINOPS[type(node.op)]
            out_dt = np.bool_ if fn in (np.logical_and, np.logical_or) else self.dtype
            return self._apply(fn, [a, b], dest, out_dt)
        if isinstance(node, ast.Compare):
            (op,), (right,) = node.ops, node.comparators
            a, b = self.gen(node.left), self.gen(right)
            return self._apply(_CMPOPS[type(op)], [a, b], dest, np.bool_)
        if isinstance(node, ast.Call) and node.func.id == "where":
            return self._where(*node.args, dest=dest)
        if isinstance(node, ast.Call):
            fn = self._func(node.func.id)
            args = [self.gen(a) for a in node.args]
            return self._apply(fn, args, dest, self.dtype)
        raise ValueError(f"unsupported syntax in formula: {ast.dump(node)}")

    def _apply(self, fn, args, dest, out_dt):
        if dest is None:
            reuse = [a for a in args if isinstance(a, np.ndarray) and id(a) in self.temps
                     and id(a) not in self.pinned and a.dtype == out_dt]
            dest = reuse[0] if reuse else self.temp(out_dt)
        self.emit(fn, *args, out=dest)
        self.release(*[a for a in args if a is not dest])
        return dest

    def _where(self, cond, a, b, dest):
        # where(c, a, 0) is what `a * c` computes: one multiply by the mask (bool -> float)
        if isinstance(b, ast.Constant) and b.value == 0:
            c = self.gen(cond)
            av = self.gen(a)
            if isinstance(av, float):
                av, c = c, av  # multiply(mask, scalar)
            return self._apply(np.multiply, [av, c], dest, self.dtype)
        if dest is None:
            dest = self.temp(self.dtype)
        self.gen(b, dest)
        c = self.gen(cond)
        av = self.gen(a)
        self.emit(np.copyto, dest, av, where=c)
        self.release(c, av)
        return dest


def numpy_program(formula, env, out):
    """A zero-argument callable computing formula into out with NumPy/SciPy ufuncs."""
    assigns, expr = _parse(formula)
    prog = _Program(env, out.dtype, out.shape)
    for name, value in assigns:
        val = prog.gen(value)
        if isinstance(val, np.ndarray):
            prog.pinned.add(id(val))
        prog.env[name] = val
    prog.gen(expr, out)
    steps = tuple(prog.steps)

    def run():
        for fn, args, kwargs in steps:
            fn(*args, **kwargs)

    return run


# ---------------------------------------------------------------- numexpr
def _c(value):
    return ast.Constant(value)


def _call(name, *args):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _cmp(left, op, right):
    return ast.Compare(left=left, ops=[op], comparators=[right])


def _bin(left, op, right):
    return ast.BinOp(left=left, op=op, right=right)


class _ToNumexpr(ast.NodeTransformer):
    """Rewrites the functions numexpr lacks into ones it has."""

    def __init__(self, defs):
        self.defs = defs

    def visit_Name(self, node):
        return self.visit(self.defs[node.id]) if node.id in self.defs else node

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]
        name, a = node.func.id, node.args
        if name == "maximum":
            return _call("where", _cmp(a[0], ast.Gt(), a[1]), a[0], a[1])
        if name == "minimum":
            return _call("where", _cmp(a[0], ast.Lt(), a[1]), a[0], a[1])
        if name == "clip":
            return _call("where", _cmp(a[0], ast.Lt(), a[1]), a[1],
                         _call("where", _cmp(a[0], ast.Gt(), a[2]), a[2], a[0]))
        if name == "expit":
            return _bin(_c(1), ast.Div(), _bin(_c(1), ast.Add(),
                                               _call("exp", ast.UnaryOp(ast.USub(), a[0]))))
        if name == "log_expit":  # min(x,0) - log1p(exp(-|x|))
            return _bin(_call("where", _cmp(a[0], ast.Lt(), _c(0)), a[0], _c(0)), ast.Sub(),
                        _call("log1p", _call("exp", ast.UnaryOp(ast.USub(), _call("abs", a[0])))))
        if name == "logaddexp":  # logaddexp(0, z) = max(z,0) + log1p(exp(-|z|))
            if not (isinstance(a[0], ast.Constant) and a[0].value == 0):
                raise Unsupported("numexpr: logaddexp only as logaddexp(0, z)")
            z = a[1]
            return _bin(_call("where", _cmp(z, ast.Gt(), _c(0)), z, _c(0)), ast.Add(),
                        _call("log1p", _call("exp", ast.UnaryOp(ast.USub(), _call("abs", z)))))
        if name == "heaviside":
            return _call("where", _cmp(a[0], ast.Gt(), _c(0)), _c(1), a[1])
        if name in ("exp", "expm1", "log", "log1p", "tanh", "abs", "sqrt", "where"):
            return node
        raise Unsupported(f"numexpr has no {name}()")


class _TypedConstants(ast.NodeTransformer):
    """Literal constants become typed scalars so a float32 case stays float32 in numexpr."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.consts = {}

    def visit_Constant(self, node):
        name = f"_c{len(self.consts)}"
        self.consts[name] = self.dtype.type(node.value)
        return ast.Name(id=name, ctx=ast.Load())


def numexpr_expression(formula, dtype):
    """(expression, {constant name: typed scalar}) for numexpr, or raise Unsupported."""
    assigns, expr = _parse(formula)
    defs = {}
    for name, value in assigns:
        defs[name] = _ToNumexpr(defs).visit(value)
    tree = _ToNumexpr(defs).visit(expr)
    typed = _TypedConstants(np.dtype(dtype))
    tree = typed.visit(tree)
    return ast.unparse(tree), typed.consts


def numexpr_program(formula, env, out):
    import numexpr  # noqa: PLC0415

    expr, consts = numexpr_expression(formula, out.dtype)
    local = {k: (out.dtype.type(v) if isinstance(v, (int, float)) else v) for k, v in env.items()}
    local.update(consts)
    names = [n for n in sorted(local) if n in expr]
    local = {n: local[n] for n in names}
    numexpr.evaluate(expr, local_dict=local, out=out, casting="safe")  # compile + check now

    # evaluate() finds the compiled expression in numexpr's cache after the first call
    # (~2 us); re_evaluate() would be cheaper but reuses whatever was compiled last.
    def run():
        numexpr.evaluate(expr, local_dict=local, out=out, casting="safe")

    return run
