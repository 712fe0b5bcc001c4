"""CPU dispatch, threads, the registry and the metadata (SPEC §1 threads/dispatch, §2 metadata)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from conftest import KERNELS, call, sample

import actcore
from actcore import _core
from actcore._registry import OPS, REQUIRED

# ---- dispatch ----


def _all_outputs(n=5000):
    outs = {}
    for dtype in (np.float16, np.float32, np.float64):
        x = sample(n, dtype, scale=30)
        for name, params in KERNELS:
            for kind in ("fwd", "grad"):
                outs[(name, kind, np.dtype(dtype).name)] = call(name, kind, x, params)
    return outs


def test_every_supported_isa_gives_the_same_bits():
    """SPEC §5: the same bits on every ISA path, except that a path without FMA may differ.
    The kernels use fma where the target has one (float32's math, csrc/vmathf.h; float64's
    exp, act_exp_fast): identical among the FMA targets; the baseline build is held to the
    accuracy bounds instead (test_accuracy.py::test_accuracy_without_fma)."""
    info = _core.isa_info()
    assert "baseline" in info["supported"]
    assert "baseline" not in info["fma"]
    start = info["current"]
    try:
        results = {}
        for isa in info["supported"]:
            _core.set_isa(isa)
            assert _core.isa_info()["current"] == isa
            results[isa] = _all_outputs()
        fma = [isa for isa in results if isa in info["fma"]]
        for isa in fma[1:]:
            for key, val in results[isa].items():
                np.testing.assert_array_equal(val.view(np.uint8),
                                              results[fma[0]][key].view(np.uint8),
                                              err_msg=f"{isa} vs {fma[0]}: {key}")
        # the comparison is not vacuous: the baseline build's fma-free exp gives other bits
        # (a loop that compared each output with itself passed here before)
        if fma:
            key = ("sigmoid", "fwd", "float64")
            assert not np.array_equal(results["baseline"][key], results[fma[0]][key])
    finally:
        _core.set_isa(start)


def test_set_isa_rejects_unknown_and_unsupported():
    with pytest.raises(ValueError, match="isa"):
        _core.set_isa("sse9")
    unsupported = [i for i in _core.isa_info()["built"] if i not in _core.isa_info()["supported"]]
    for isa in unsupported:
        with pytest.raises(ValueError, match="not built or not supported"):
            _core.set_isa(isa)


def _run(code, **env):
    e = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e,
                          timeout=120)


def test_actcore_isa_environment_caps_the_choice():
    r = _run("import actcore; print(actcore.config()['isa'])", ACTCORE_ISA="baseline")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "baseline"
    r = _run("import warnings; warnings.simplefilter('always')\n"
             "import actcore; print(actcore.config()['isa'])", ACTCORE_ISA="bogus")
    assert r.returncode == 0
    assert "ACTCORE_ISA=bogus" in r.stderr


def test_show_config_and_info_command():
    r = _run("import actcore; actcore.show_config()")
    assert r.returncode == 0, r.stderr
    for key in ("actcore", "compiler", "openmp", "threads", "isa", "isa_built"):
        assert key in r.stdout
    r2 = subprocess.run([sys.executable, "-m", "actcore", "info"], capture_output=True,
                        text=True, timeout=120)
    assert r2.returncode == 0 and "isa" in r2.stdout


# ---- threads ----


def test_thread_api_and_context_manager():
    n0 = actcore.get_num_threads()
    assert n0 >= 1
    with actcore.num_threads(1):
        assert actcore.get_num_threads() == 1
    assert actcore.get_num_threads() == n0
    actcore.set_num_threads(1)
    assert actcore.get_num_threads() == 1
    actcore.set_num_threads(n0)


def test_small_arrays_run_serially():
    threshold = _core.parallel_min()
    with actcore.num_threads(2):
        assert _core.threads_for(1000) == 1
        assert _core.threads_for(threshold - 1) == 1
        if actcore.config()["openmp"]:
            assert _core.threads_for(threshold * 4) == 2


def test_results_identical_for_any_thread_count():
    x = sample(300_001, np.float32, scale=10)  # odd length: uneven thread chunks
    for name, params in KERNELS:
        for kind in ("fwd", "grad"):
            with actcore.num_threads(1):
                one = call(name, kind, x, params)
            with actcore.num_threads(2):
                two = call(name, kind, x, params)
            with actcore.num_threads(3):
                three = call(name, kind, x, params)
            np.testing.assert_array_equal(one.view(np.uint32), two.view(np.uint32), name)
            np.testing.assert_array_equal(one.view(np.uint32), three.view(np.uint32), name)


def test_omp_num_threads_is_honoured():
    if not actcore.config()["openmp"]:
        pytest.skip("built without OpenMP")
    r = _run("import actcore; print(actcore.get_num_threads())", OMP_NUM_THREADS="1")
    assert r.stdout.strip() == "1", r.stderr
    r = _run("import actcore; print(actcore.get_num_threads())", OMP_NUM_THREADS="3")
    assert r.stdout.strip() == "3", r.stderr


def test_threadpoolctl_sees_and_limits_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not actcore.config()["openmp"]:
        pytest.skip("built without OpenMP")
    infos = threadpoolctl.threadpool_info()
    assert any(i["user_api"] == "openmp" for i in infos), infos
    with actcore.num_threads(2):
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            assert actcore.get_num_threads() == 1
        assert actcore.get_num_threads() == 2


def test_serial_build_without_openmp(tmp_path):
    """ACTCORE_DISABLE_OPENMP=1 builds a working serial extension with a loud warning, and
    (gcc, clang) with -fopenmp-simd: the kernels' `omp simd` loops are not left ignored."""
    if os.environ.get("ACTCORE_SKIP_BUILD_TESTS"):
        pytest.skip("ACTCORE_SKIP_BUILD_TESTS set")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, ACTCORE_DISABLE_OPENMP="1", ACTCORE_ISAS="baseline")
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib",
                        str(tmp_path / "lib"), "--build-temp", str(tmp_path / "tmp")],
                       cwd=root, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "WITHOUT OpenMP" in r.stderr
    assert "ignoring '#pragma omp simd'" not in r.stderr.replace("\u2018", "'").replace(
        "\u2019", "'"), "omp simd pragmas ignored: built without -fopenmp-simd"
    so = [p for p in (tmp_path / "lib" / "actcore").iterdir() if p.name.startswith("_core")]
    assert so
    # import the serial build in a fresh process, with the package's Python files beside it
    pkg = tmp_path / "lib" / "actcore"
    for f in pathlib.Path(root, "actcore").glob("*.py"):
        (pkg / f.name).write_bytes(f.read_bytes())
    code = ("import actcore, numpy as np; c = actcore.config(); "
            "assert not c['openmp'] and c['threads'] == 1, c; "
            "print(actcore.sigmoid(np.zeros(3, np.float32)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(tmp_path / "lib")), cwd=str(tmp_path),
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "0.5" in r.stdout


# ---- registry and metadata ----


def test_c_and_python_registries_agree():
    c_ops = {name: (nparams, gout) for name, nparams, gout, _cost in _core.op_table()}
    kernels = {op.kernel for op in OPS.values() if op.kernel}
    assert kernels <= set(c_ops)
    for op in OPS.values():
        if op.kernel is None or op.name == "gelu":
            continue
        nparams, gout = c_ops[op.kernel]
        assert nparams == len(op.params), op.name
        assert bool(gout) == op.grad_from_output, op.name
    from actcore import reference
    assert set(reference.REFERENCES) == set(c_ops)  # the oracle covers every kernel


def test_public_api_covers_every_op():
    for name in actcore.list_activations(kind="elementwise"):
        assert callable(getattr(actcore, name)), name
        assert callable(getattr(actcore, name + "_grad")), name
        assert getattr(actcore, name).__doc__, name
        assert name in actcore.__all__


def test_info_metadata():
    keys = {"range", "bounded", "monotonic", "zero_centred", "smoothness", "f(0)", "f'(0)",
            "max_abs_grad", "saturates", "parameters", "has_grad_from_output", "names"}
    for name in actcore.list_activations():
        meta = actcore.info(name)
        assert keys <= set(meta), name
        assert set(meta["names"]) == {"torch", "onnx", "keras", "jax"}
    assert actcore.info("sigmoid")["max_abs_grad"] == 0.25
    assert actcore.info("tanh")["max_abs_grad"] == 1.0
    assert actcore.info("relu")["bounded"] is False and actcore.info("sigmoid")["bounded"]
    assert actcore.info("leaky_relu")["parameters"] == {"negative_slope": 0.01}
    assert actcore.info("threshold")["required_parameters"] == ["threshold", "value"]
    with pytest.raises(ValueError, match="unknown activation"):
        actcore.info("nope")


def test_metadata_is_consistent_with_the_kernels():
    """f(0), f'(0), the range, and monotonicity, checked numerically for the defaults."""
    x = np.linspace(-30, 30, 600_001)
    for name in actcore.list_activations(kind="elementwise"):
        op = OPS[name]
        if op.kernel is None or any(d is REQUIRED for _, d in op.params):
            continue
        fn = getattr(actcore, name)
        y = fn(x)
        lo, hi = op.range
        assert y.min() >= lo - 1e-9 and y.max() <= hi + 1e-9, name
        assert fn(np.float64(0.0)) == pytest.approx(op.f0, abs=1e-12), name
        g = getattr(actcore, name + "_grad")
        assert g(1.0, 0.0) == pytest.approx(op.fprime0, abs=1e-12), name
        gx = g(np.ones_like(x), x)
        assert np.abs(gx).max() <= op.max_abs_grad + 1e-9, name
        if op.monotonic:
            assert np.all(np.diff(y) >= 0), name
        else:
            assert np.any(np.diff(y) < 0), name


def test_generated_docs_are_current():
    """docs/ops.md is generated from the registry: regenerate with python -m actcore docs
    --write when an op changes."""
    from actcore._docs import ops_markdown

    root = pathlib.Path(__file__).resolve().parent.parent
    assert (root / "docs" / "ops.md").read_text() == ops_markdown()
