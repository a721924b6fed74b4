#!/usr/bin/env bash
# Runs the test suites under each OpenBLAS kernel the CPU supports:
# SkylakeX (needs AVX-512F), Haswell (needs AVX2 and FMA) and Prescott (any x86-64).
# OpenBLAS picks one kernel by itself; OPENBLAS_CORETYPE forces another, so rounding that one
# kernel hides (an exact zero pivot, say) is seen on this machine too. Needs a built test
# bundle (`swift build --build-tests` or a previous `swift test`).
#
#   scripts/lapack-kernels.sh            every supported kernel
#   scripts/lapack-kernels.sh Haswell    one kernel
set -euo pipefail
cd "$(dirname "$0")/.."

# Every suite by default (about 1.5 min each on 2 cores): LAPACK reaches the CLI tests too (regress,
# common tau^2, the GLMM baselines that check re-runs). LAPACK_SUITES narrows it, e.g. to
# 'LinearAlgebraTests|RegressionTests|SubgroupTests|BiasTests|GLMMTests|ExtremeVarianceTests'.
suites="${LAPACK_SUITES:-}"
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
kernels=("$@")
if [ ${#kernels[@]} -eq 0 ]; then
  [[ " $flags " == *" avx512f "* ]] && kernels+=(SkylakeX)
  [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]] && kernels+=(Haswell)
  [ "$(uname -m)" = "x86_64" ] && kernels+=(Prescott)
fi
if [ ${#kernels[@]} -eq 0 ]; then
  echo "lapack-kernels: no OpenBLAS x86-64 kernel to force on $(uname -m); the default kernel ran in swift test" >&2
  exit 0
fi
# The Bayesian models integrate in plain Swift (no LAPACK call) and are the slowest suites in a debug
# build (the binomial-normal quadrature: minutes): they run once, in swift test, not per kernel.
skip="${LAPACK_SKIP:-Bayes}"
for kernel in "${kernels[@]}"; do
  echo "lapack-kernels: OPENBLAS_CORETYPE=$kernel" >&2
  if [ -n "$suites" ]; then
    OPENBLAS_CORETYPE="$kernel" swift test --skip-build --filter "$suites" --skip "$skip"
  else
    OPENBLAS_CORETYPE="$kernel" swift test --skip-build --skip "$skip"
  fi
done
