#!/usr/bin/env bash
# Builds the `metapool` command in release mode and installs it into $PREFIX/bin
# (default ~/.local/bin), installing LAPACKE/OpenBLAS first when missing (scripts/bootstrap.sh).
#
#   scripts/install.sh                     # ~/.local/bin/metapool
#   PREFIX=/usr/local scripts/install.sh   # /usr/local/bin/metapool (may need sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${PREFIX:-$HOME/.local}"
scripts/bootstrap.sh
swift build -c release --product metapool
bin="$(swift build -c release --show-bin-path)"
mkdir -p "$prefix/bin"
install -m 0755 "$bin/metapool" "$prefix/bin/metapool"
echo "installed: $prefix/bin/metapool ($("$prefix/bin/metapool" --version))" >&2
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on PATH; add it, e.g.: export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac
