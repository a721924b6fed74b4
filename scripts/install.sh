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
# On Linux the Swift runtime and FoundationEssentials are linked into the binary (--static-swift-stdlib):
# resolving a dozen shared Swift libraries was most of metapool's start-up time.
flags=(-c release)
[ "$(uname -s)" = Linux ] && flags+=(--static-swift-stdlib)
swift build "${flags[@]}" --product metapool
bin="$(swift build "${flags[@]}" --show-bin-path)"
mkdir -p "$prefix/bin"
install -m 0755 "$bin/metapool" "$prefix/bin/metapool"
echo "installed: $prefix/bin/metapool ($("$prefix/bin/metapool" --version))" >&2
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on PATH; add it, e.g.: export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac
