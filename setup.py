"""Build actcore's extension: the C cores in csrc/ compiled once per CPU target, plus the glue
(actcore/_core.pyx, Cython 3).

Build only; metadata lives in pyproject.toml.  Environment switches:
  ACTCORE_DISABLE_OPENMP=1   build without OpenMP (serial kernels), as on a compiler without it
  ACTCORE_ISAS=baseline,avx2 build only these targets (x86-64 default: baseline,avx2,avx512)
"""

import concurrent.futures
import os
import platform
import shutil
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Flags shared by every target.  -ffp-contract=off: no fused multiply-add anywhere, so every
# target computes every formula with the same roundings and gives the same bits (SPEC §5).
# No -ffast-math: it changes NaN/inf behaviour and makes results depend on the target.
UNIX_COMMON = ["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
MSVC_COMMON = ["/O2", "/fp:precise"]

# Per-target flags (x86-64).  The baseline is x86-64 SSE2 (or the platform's default, NEON on
# aarch64).  AVX-512: F+DQ+BW+VL, what dispatch.c checks; 512-bit vectors preferred.
UNIX_ISA = {
    "baseline": [],
    "avx2": ["-mavx2", "-mfma", "-mf16c"],
    "avx512": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mfma", "-mf16c",
               "-mprefer-vector-width=512"],
}
MSVC_ISA = {"baseline": [], "avx2": ["/arch:AVX2"], "avx512": ["/arch:AVX512"]}


def _target_is_x86_64():
    # cibuildwheel cross-builds macOS arm64 on x86 hosts via ARCHFLAGS: trust it first
    archflags = os.environ.get("ARCHFLAGS", "")
    if "arm64" in archflags:
        return False
    if "x86_64" in archflags:
        return True
    return platform.machine().lower() in ("x86_64", "amd64")


def _isas():
    wanted = os.environ.get("ACTCORE_ISAS")
    if not _target_is_x86_64():
        return ["baseline"]
    isas = ["baseline", "avx2", "avx512"]
    if wanted:
        isas = [i for i in isas if i in wanted.split(",")]
        if "baseline" not in isas:
            isas.insert(0, "baseline")
    return isas


def _warn(msg):
    bar = "!" * 78
    sys.stderr.write(f"\n{bar}\n{textwrap.fill(msg, 76)}\n{bar}\n\n")


class BuildExt(build_ext):
    def _try_compile(self, cflags, ldflags, program=None):
        """Compile and link a tiny program (by default one using OpenMP) with the flags."""
        tmp = tempfile.mkdtemp()
        try:
            src = os.path.join(tmp, "omp_probe.c")
            with open(src, "w") as f:
                f.write(program or "#include <omp.h>\nint main(void){int n=0;\n"
                        "#pragma omp parallel\n{n=omp_get_num_threads();}\nreturn n<1;}\n")
            objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            self.compiler.link_executable(objs, "omp_probe", output_dir=tmp,
                                          extra_postargs=ldflags)
            return True
        except Exception:
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _simd_only_flags(self):
        """Without OpenMP: gcc's and clang's -fopenmp-simd, so the kernels' `omp simd` loops
        still vectorise (they need no runtime).  Ignored, those loops made a serial build's
        float32 softmax 1.38x slower on one thread (16 x 16384, AVX-512)."""
        if self.compiler.compiler_type == "msvc":
            return [], []
        probe = "int main(void){float a[8]={0};\n#pragma omp simd\n" \
                "for(int i=0;i<8;i++)a[i]+=1;\nreturn (int)a[0]-1;}\n"
        if self._try_compile(["-fopenmp-simd", "-Werror"], [], probe):
            return ["-fopenmp-simd"], []
        return [], []

    def _codegen_flags(self):
        """gcc's -fno-thread-jumps, where the compiler takes it.  Jump threading copies the code
        between two selects on the same condition into each branch, and the vectoriser then
        computes both copies: float32 silu, gelu_tanh and mish divided twice per element
        (`(u >= 0 ? x : x e) / (1 + e)` and then `u >= 0 ? y : y 2^-64`): 8 vdivps in each
        of those kernels' four loops, 4 with the flag; 0.80-0.85x the time in cache
        (bench/results/ab_2026-12-05b.md).  Code generation only: the same roundings, the
        same bits."""
        if self.compiler.compiler_type == "msvc":
            return []
        probe = "int main(void){return 0;}\n"
        return ["-fno-thread-jumps"] if self._try_compile(["-fno-thread-jumps", "-Werror"], [],
                                                          probe) else []

    def _openmp_flags(self):
        if os.environ.get("ACTCORE_DISABLE_OPENMP", "") not in ("", "0"):
            _warn("ACTCORE_DISABLE_OPENMP is set: building actcore WITHOUT OpenMP. "
                  "Every kernel will run on one thread.")
            return self._simd_only_flags()
        if self.compiler.compiler_type == "msvc":
            candidates = [(["/openmp"], [])]
        elif sys.platform == "darwin":
            # Apple clang has no -fopenmp driver flag; libomp (Homebrew / vendored in wheels)
            prefix = os.environ.get("LIBOMP_PREFIX", "/opt/homebrew/opt/libomp")
            alt = "/usr/local/opt/libomp"
            candidates = [
                (["-Xpreprocessor", "-fopenmp", f"-I{p}/include"], [f"-L{p}/lib", "-lomp"])
                for p in (prefix, alt)
            ] + [(["-fopenmp"], ["-fopenmp"])]
        else:
            candidates = [(["-fopenmp"], ["-fopenmp"])]
        for cflags, ldflags in candidates:
            if self._try_compile(cflags, ldflags):
                return cflags, ldflags
        _warn("This compiler cannot build OpenMP programs: building actcore WITHOUT OpenMP. "
              "Every kernel will run on one thread. Install OpenMP (libgomp, libomp or vcomp) "
              "and rebuild for multi-threaded kernels.")
        return self._simd_only_flags()

    def build_extension(self, ext):
        msvc = self.compiler.compiler_type == "msvc"
        common = MSVC_COMMON if msvc else UNIX_COMMON
        kernel_flags = self._codegen_flags()
        isa_flags = MSVC_ISA if msvc else UNIX_ISA
        omp_c, omp_l = self._openmp_flags()
        isas = _isas()
        macros = [(f"ACT_BUILD_{i.upper()}", "1") for i in isas if i != "baseline"]
        # Each target's kernels: compiled alone with that target's flags, then linked in.  The
        # targets compile in parallel (each is one large translation unit, ~40 s with gcc -O3;
        # serial they were most of a 110 s build on 2 cores).
        def compile_isa(isa):
            return self.compiler.compile(
                [f"csrc/isa_{isa}.c"],
                output_dir=self.build_temp,
                include_dirs=["csrc"],
                extra_postargs=common + kernel_flags + isa_flags[isa] + omp_c,
                depends=ext.depends,
            )

        os.makedirs(self.build_temp, exist_ok=True)
        workers = min(len(isas), os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            objects = [o for objs in pool.map(compile_isa, isas) for o in objs]
        ext.extra_objects = objects
        ext.define_macros = (ext.define_macros or []) + macros
        ext.extra_compile_args = common + omp_c
        ext.extra_link_args = omp_l
        super().build_extension(ext)


csrc_headers = [os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith((".h", ".def"))]
csrc_kernels = [os.path.join("csrc", f) for f in ("eltwise.c", "bnorm.c", "axis.c")]

# The glue: one module, so that the elementwise, axis and batch-norm entry points share the one
# dispatch state of csrc/dispatch.c.  The compiler directives are at the top of _core.pyx.
glue = Extension(
    "actcore._core",
    sources=["actcore/_core.pyx", "csrc/dispatch.c", "csrc/loops.c"],
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
    depends=csrc_headers + csrc_kernels + [os.path.join("actcore", f) for f in
                                           ("_csrc.pxd", "_axis.pxi", "_bnorm.pxi")],
)

setup(
    # the generated C goes to build/, never beside the sources (it is not committed)
    ext_modules=cythonize([glue], build_dir=os.path.join("build", "cython"),
                          compiler_directives={"language_level": 3}),
    cmdclass={"build_ext": BuildExt},
)
