#!/usr/bin/env bash
# Installs what MetaPool needs on a fresh Debian/Ubuntu machine: LAPACKE and OpenBLAS
# (the CLapacke system module links liblapacke and libopenblas). Idempotent and quiet when
# everything is already there. Swift itself (6.1 or later) must be on PATH.
set -euo pipefail

need=()
pkg-config --exists lapacke 2>/dev/null || need+=(liblapacke-dev)
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || \
  [ -n "$(find /usr/include -name cblas.h -print -quit 2>/dev/null)" ] || need+=(libopenblas-dev)
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "bootstrap: swift (6.1 or later) is not on PATH" >&2; exit 1; }
