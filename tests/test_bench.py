"""The benchmark harness (python -m actcore bench): it runs, its JSON keeps its schema, missing
peers are reported, --compare works, and the NumPy/numexpr peers compute the right thing.

No test here asserts anything about speed (SPEC §6: speed is measured by the benchmark only).
"""

import copy
import importlib.util
import json
import sys

import numpy as np
import pytest

from actcore import _bench, _bench_peers, _bench_report, reference
from actcore._bench_expr import numexpr_expression, numpy_program

TINY = ["--sizes", "1000", "--threads", "1", "--dtype", "float32", "--min-time", "0.001",
        "--warmup", "0.0005"]


def tiny_run(tmp_path, capsys, *extra, name="run.json"):
    path = tmp_path / name
    rc = _bench.main(["--filter", r"^relu\.fwd$", "--peers", "numpy", "--json", str(path),
                      *TINY, *extra])
    assert rc == 0
    return json.loads(path.read_text()), capsys.readouterr().out


def test_tiny_run_completes_and_matches_schema(tmp_path, capsys):
    md = tmp_path / "report.md"
    doc, out = tiny_run(tmp_path, capsys, "--markdown", str(md))
    _bench_report.check_schema(doc)
    assert doc["schema"] == _bench_report.SCHEMA_ID
    (case,) = doc["cases"]
    assert (case["op"], case["kind"], case["size"], case["dtype"], case["threads"]) == (
        "relu", "fwd", 1000, "float32", 1)
    assert set(case["results"]) == {"actcore", "numpy"}
    for stats in case["results"].values():
        assert stats["q1_s"] <= stats["median_s"] <= stats["q3_s"]
        assert stats["min_s"] <= stats["median_s"] <= stats["max_s"]
    assert case["floor"]["kind"] == "copy"
    assert case["ratios"]["best_peer"] == "numpy"
    assert case["ratios"]["to_floor"] > 0 and case["ratios"]["to_best_peer"] > 0
    assert doc["machine"]["actcore"]["isa"] in doc["machine"]["actcore"]["isa_built"]
    assert "numpy" in doc["peers"]["found"]
    # the terminal table, the speed summary and the Markdown report were produced
    assert "relu.fwd" in out and "Speed summary" in out
    text = md.read_text()
    assert text.startswith("# actcore benchmark results") and "## Summary" in text
    assert doc["summary"]["text"] in text


def test_schema_check_rejects_broken_documents(tmp_path, capsys):
    doc, _ = tiny_run(tmp_path, capsys)
    broken = copy.deepcopy(doc)
    del broken["cases"][0]["ratios"]
    with pytest.raises(ValueError, match="ratios"):
        _bench_report.check_schema(broken)
    broken = copy.deepcopy(doc)
    broken["cases"][0]["results"]["actcore"]["median_s"] = "fast"
    with pytest.raises(ValueError, match="median_s"):
        _bench_report.check_schema(broken)


def test_missing_peer_is_reported_with_its_import_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    found, skipped = _bench_peers.detect(["numpy", "torch"])
    assert "numpy" in found and "torch" not in found
    assert skipped["torch"].startswith("ImportError:") and "torch" in skipped["torch"]
    doc, out = tiny_run(tmp_path, capsys, "--peers", "numpy,torch")
    assert doc["peers"]["skipped"]["torch"] == skipped["torch"]
    assert "peer skipped: torch: ImportError" in out
    assert "torch" not in doc["cases"][0]["results"]


def test_unknown_peer_is_reported():
    found, skipped = _bench_peers.detect(["nosuchframework"])
    assert not found and "unknown peer" in skipped["nosuchframework"]


def test_compare_two_runs(tmp_path, capsys):
    old, _ = tiny_run(tmp_path, capsys, name="old.json")
    new = copy.deepcopy(old)
    new["cases"][0]["results"]["actcore"]["median_s"] = (
        old["cases"][0]["results"]["actcore"]["median_s"] / 2)
    text = _bench_report.compare_text(old, new)
    assert "relu.fwd" in text and "0.500" in text and "geometric mean" in text
    # and from the command line, against a file
    _, out = tiny_run(tmp_path, capsys, "--compare", str(tmp_path / "old.json"))
    assert "Comparison with the earlier run" in out and "relu.fwd" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(ValueError, match="not an actcore benchmark"):
        _bench_report.read_json(str(bad))


def test_options_are_parsed():
    args = _bench.parse_args(["--sizes", "1000,2^14", "--threads", "1,2",
                              "--dtype", "float64", "--peers", "numpy,ort"])
    assert args.sizes == [1000, 16384] and args.threads == [1, 2]
    assert args.dtype == ["float64"] and args.peers == ["numpy", "onnxruntime"]
    quick = _bench.parse_args(["--quick"])
    assert quick.dtype == ["float32"] and max(quick.sizes) <= 2**20
    with pytest.raises(SystemExit):
        _bench.parse_args(["--dtype", "float16"])
    with pytest.raises(SystemExit):
        _bench.parse_args(["--filter", "("])


def test_cases_cover_every_elementwise_op_and_kind():
    from actcore._registry import OPS

    names = {(op, kind) for op, kind, _ in _bench.op_kinds()}
    for name, spec in OPS.items():
        if spec.kind == "elementwise":  # prelu and rrelu included
            assert (name, "fwd") in names and (name, "grad") in names
            assert ((name, "gout") in names) == spec.grad_from_output
    assert ("gelu_tanh", "fwd") in names


def test_buffer_rotation_out_of_cache_only():
    pool = _bench.Pool()
    assert pool.sets_for(2**16, "float64", 3) == 1  # in-cache sizes stay resident
    k = pool.sets_for(2**20, "float32", 2)
    assert k * 2**20 * 4 * 2 >= 2 * pool.llc or k == 16
    assert pool.sets_for(2**26, "float64", 2) == 1


def test_measure_reports_spread_without_timing_asserts():
    calls = []
    stats = _bench.measure([lambda: calls.append(0), lambda: calls.append(1)],
                           _bench.Timing(min_time=0.001, warmup=0.0001, sample=1e-5))
    assert set(_bench_report.STATS) <= set(stats)
    assert stats["inner"] % 2 == 0 and calls.count(0) == calls.count(1)



def test_measure_rounds_interleaves_and_drops_a_failing_contender():
    """The floor, actcore and peers are sampled in rotating rounds, so their samples are taken
    through the same stretch of time; a contender that raises is reported, the others go on."""
    log = []
    state = {"calls": 0}

    def failing():
        state["calls"] += 1
        if state["calls"] > 3:  # after the warm-up: fails in the rounds
            raise RuntimeError("peer broke")

    # exactly 12 samples each (repeats do not depend on how fast the first calls happened)
    timing = _bench.Timing(min_time=0.0, warmup=0.0001, sample=1e-5, min_repeats=12,
                           long_sample=1e9)
    contenders = {"a": [lambda: log.append("a")], "b": [lambda: log.append("b")],
                  "bad": [failing]}
    stats, errors = _bench.measure_rounds(contenders, timing)
    assert set(stats) == {"a", "b"} and isinstance(errors["bad"], RuntimeError)
    assert stats["a"]["repeats"] == stats["b"]["repeats"] == 12
    assert set(_bench_report.STATS) <= set(stats["a"])
    # interleaved: one after the other, a's calls then b's would switch once after the
    # warm-ups; in 3 rounds of turns (up to 4 kept samples a turn) in rotating order, 5 times
    switches = sum(log[i] != log[i - 1] for i in range(1, len(log)))
    assert switches >= 5

def _ref(op, kind):
    base = {"gelu_tanh": "gelu_tanh"}.get(op, op)
    suffix = {"fwd": "", "grad": "_grad", "gout": "_grad_from_output"}[kind]
    return getattr(reference, f"ref_{base}{suffix}")


@pytest.mark.parametrize("kind", ["fwd", "grad", "gout"])
def test_numpy_and_numexpr_peers_compute_the_op(kind):
    """The peers' formulas agree with actcore.reference (else the comparison is meaningless)."""
    pytest.importorskip("scipy")
    try:
        import numexpr  # noqa: F401
        have_numexpr = True
    except ImportError:
        have_numexpr = False
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4000) * 4
    dy = rng.standard_normal(4000)
    for op, formula in _bench_peers.FORMULAS[kind].items():
        params = _bench_peers.op_params(op)
        if kind == "fwd":
            args, want = {"x": x}, _ref(op, kind)(x, *params.values())
        elif kind == "grad":
            args, want = {"x": x, "dy": dy}, _ref(op, kind)(dy, x, *params.values())
        else:
            y = _ref(op, "fwd")(x, *params.values())
            args, want = {"y": y, "dy": dy}, _ref(op, kind)(dy, y, *params.values())
        for dtype, tol in (("float64", 1e-9), ("float32", 2e-5)):
            env = {k: v.astype(dtype) for k, v in args.items()}
            env.update(params)
            out = np.full(x.shape, np.nan, dtype)
            with np.errstate(over="ignore"):  # exp(|x|) of the naive forms at |x| ~ 16
                numpy_program(formula, env, out)()
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol, err_msg=f"numpy {op}")
            if have_numexpr and "ndtr" not in formula:
                out[...] = np.nan
                _bench_peers.MAKERS["numexpr"](op, kind, {**env, "out": out}, params, 1)()
                np.testing.assert_allclose(out, want, rtol=tol, atol=tol,
                                           err_msg=f"numexpr {op}")


def test_numexpr_expression_keeps_the_dtype():
    expr, consts = numexpr_expression("maximum(x, 0.5 * x)", np.float32)
    assert "where" in expr and "0.5" not in expr
    assert all(type(v) is np.float32 for v in consts.values())


def test_plots_or_a_clear_message(tmp_path, capsys):
    doc, _ = tiny_run(tmp_path, capsys)
    msg = _bench_report.write_plots(doc, str(tmp_path / "png"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in msg
        return
    pngs = list((tmp_path / "png").glob("*.png"))
    assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


# ---- axis ops and batch norm: other helpers are adding them to actcore; until then these
# NumPy stand-ins exercise the harness's buffers, floors and peers for those cases.
def _fake_softmax(x, axis=-1, out=None):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    r = e / e.sum(axis=axis, keepdims=True)
    if out is None:
        return r
    out[...] = r
    return out


def _fake_softmax_grad(dy, y, axis=-1, out=None):
    out[...] = y * (dy - (y * dy).sum(axis=axis, keepdims=True))
    return out


def _fake_log_softmax(x, axis=-1, out=None):
    m = x.max(axis=axis, keepdims=True)
    r = x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    if out is None:
        return r
    out[...] = r
    return out


def _fake_log_softmax_grad(dy, y, axis=-1, out=None):
    out[...] = dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)
    return out


def _fake_swiglu(x, axis=-1, out=None):
    a, b = np.split(x, 2, axis=axis)
    out[...] = a / (1 + np.exp(-a)) * b
    return out


def _fake_swiglu_grad(dy, x, axis=-1, out=None):
    a, b = np.split(x, 2, axis=axis)
    s = 1 / (1 + np.exp(-a))
    out[...] = np.concatenate([dy * b * s * (1 + a * (1 - s)), dy * a * s], axis=axis)
    return out


def _shape_c(x, axis):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return shape, tuple(i for i in range(x.ndim) if i != axis % x.ndim)


def _fake_batch_norm(x, rm, rv, w, b, training=False, activation=None, axis=1, out=None):
    shape, _ = _shape_c(x, axis)
    y = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + 1e-5) * w.reshape(shape) \
        + b.reshape(shape)
    out[...] = np.maximum(y, 0) if activation == "relu" else y
    return out


def _fake_batch_norm_train(x, rm, rv, w, b, axis=1):
    shape, red = _shape_c(x, axis)
    mean = x.mean(axis=red)
    invstd = 1 / np.sqrt(x.var(axis=red) + 1e-5)
    y = (x - mean.reshape(shape)) * (invstd * w).reshape(shape) + b.reshape(shape)
    return y, mean, invstd


def _fake_batch_norm_grad(dy, x, mean, invstd, w, axis=1):
    shape, red = _shape_c(x, axis)
    xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    m = x.size // x.shape[axis]
    db, dw = dy.sum(axis=red), (dy * xhat).sum(axis=red)
    dx = (w * invstd).reshape(shape) / m * (m * dy - db.reshape(shape) - xhat * dw.reshape(shape))
    return dx, dw, db


FAKES = {"softmax": _fake_softmax, "softmax_grad": _fake_softmax_grad,
         "log_softmax": _fake_log_softmax, "log_softmax_grad": _fake_log_softmax_grad,
         "swiglu": _fake_swiglu, "swiglu_grad": _fake_swiglu_grad,
         "batch_norm": _fake_batch_norm, "batch_norm_train": _fake_batch_norm_train,
         "batch_norm_grad": _fake_batch_norm_grad}


def test_axis_and_batch_norm_cases(tmp_path, capsys, monkeypatch):
    import actcore

    for name, fn in FAKES.items():
        if not hasattr(actcore, name):
            monkeypatch.setattr(actcore, name, fn, raising=False)
    path = tmp_path / "composite.json"
    rc = _bench.main(["--filter", "softmax|swiglu|batch_norm", "--peers", "numpy,numexpr",
                      "--sizes", "16384", "--threads", "1", "--dtype", "float32,float64",
                      "--min-time", "0.001", "--warmup", "0.0005", "--json", str(path)])
    assert rc == 0
    doc = json.loads(path.read_text())
    _bench_report.check_schema(doc)
    names = {(c["op"], c["kind"], c["dtype"]) for c in doc["cases"]}
    for dt in ("float32", "float64"):
        for op in ("softmax", "log_softmax", "swiglu"):
            assert {(op, "fwd", dt), (op, "grad", dt)} <= names
        for op in ("batch_norm", "batch_norm_cl"):
            assert {(op, "infer_relu", dt), (op, "train", dt)} <= names
    for c in doc["cases"]:
        assert "actcore" in c["results"], c["skipped"]
        assert "numpy" in c["results"], c["skipped"]  # the NumPy composites exist for all
        assert not c["notes"].get("numpy"), c["notes"]  # and agree with actcore's output
        # numexpr has no axis reductions: skipped per case when installed; when it is not
        # installed it is reported once among the missing peers instead
        if importlib.util.find_spec("numexpr") is not None:
            assert "numexpr" in c["skipped"]
    capsys.readouterr()


def test_peer_accuracy_tables(tmp_path):
    """`python -m actcore accuracy --peer` measures a peer through the benchmark's callables:
    NumPy/SciPy always runs here; rows it has no equivalent for are left out."""
    from actcore import _accuracy

    out = tmp_path / "acc.md"
    rc = _accuracy.main(["accuracy", "--peer", "numpy", "--ops", "relu,sigmoid,swish",
                         "--dtypes", "float32", "--kinds", "fwd", "--n-dense", "20000",
                         "--quiet", "--output", str(out)])
    assert rc == 0
    text = out.read_text()
    assert "Accuracy of a peer: numpy" in text and "finite inputs only" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| ") and "---" not in line and "op |" not in line}
    assert "| relu | fwd | float32 | – | 0 |" in rows["relu"]  # max(x, 0) is exact
    if importlib.util.find_spec("scipy") is not None:
        assert "sigmoid" in rows
    with pytest.raises(SystemExit, match="no-such-peer"):
        _accuracy.main(["accuracy", "--peer", "no-such-peer", "--quiet"])
