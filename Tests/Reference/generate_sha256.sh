#!/bin/sh
# Records Tests/MetaPoolTests/Fixtures/sha256/lengths.txt for SHA256Tests.swift: the digests that
# coreutils' sha256sum gives for messages of 0 to 200 bytes (every length across the padding
# boundaries at 55/56 and 64 bytes, and three blocks' worth), byte i of each being
# (167·i + 13) mod 256, so that every byte value occurs. One line per length: "LENGTH DIGEST".
# Usage: generate_sha256.sh (needs sha256sum and python3).
set -eu
cd "$(dirname "$0")/../MetaPoolTests/Fixtures/sha256"
: > lengths.txt
n=0
while [ "$n" -le 200 ]; do
    digest=$(python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.buffer.write(bytes((167 * i + 13) % 256 for i in range(n)))' "$n" \
        | sha256sum | cut -d' ' -f1)
    echo "$n $digest" >> lengths.txt
    n=$((n + 1))
done
