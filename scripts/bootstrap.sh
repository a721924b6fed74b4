#!/usr/bin/env bash
# Installs what MetaPool needs on a fresh Debian/Ubuntu machine: LAPACKE and OpenBLAS
# (opened at run time by the meta-regression and the GLMM). Idempotent and quiet when
# everything is already there. Swift itself (6.1 or later) must be on PATH.
#
#   scripts/bootstrap.sh          what building and running metapool needs
#   scripts/bootstrap.sh --test   also what the tests need: zlib headers, the renderers that the
#                                 plot tests look through (rsvg-convert, headless Chromium) and fonts
set -euo pipefail

need=()
pkg-config --exists lapacke 2>/dev/null || need+=(liblapacke-dev)
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || \
  [ -n "$(find /usr/include -name cblas.h -print -quit 2>/dev/null)" ] || need+=(libopenblas-dev)
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "${1:-}" = "--test" ]; then
  [ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
  command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "bootstrap: swift (6.1 or later) is not on PATH" >&2; exit 1; }
