#!/bin/sh
# Records the expected outputs of Tests/MetaPoolCLITests/StreamedOutputTests.swift: `pool` on the
# two mid-size inputs in Tests/MetaPoolTests/Fixtures/streamed_output, as text (zlib-compressed,
# Python's zlib.compress). They were recorded with the binary of commit 757e2a1, the last whose
# outputs were built whole (TextTable.render, JSONValue trees) before they were streamed, so
# the test compares the streamed text with the old definition. Usage: record_streamed_output.sh METAPOOL
set -eu
metapool=$(realpath "$1")
cd "$(dirname "$0")/../MetaPoolTests/Fixtures/streamed_output"
record() {
    out=$1; shift
    "$metapool" "$@" | python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read(), 9))' > "$out"
}
for f in generic proportions; do
    record "$f.table.txt.z" pool "$f.csv"
    record "$f.json.txt.z" pool "$f.csv" --format json
done
record generic.fe.table.txt.z pool generic.csv --method FE
