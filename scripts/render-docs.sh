#!/usr/bin/env bash
# Redraws the README's forest plots (docs/*.png) from the shipped datasets with the current
# metapool, through rsvg-convert (scripts/bootstrap.sh --test installs it).
#
#   scripts/render-docs.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product metapool >/dev/null
bin=.build/debug/metapool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
response=Datasets/her2-bm-intracranial-response.csv
intracranial=(--where endpoint=IC-ORR --where endpoint=CNS-ORR)
"$bin" forest "$response" --where "regimen=trastuzumab deruxtecan" --where population=active "${intracranial[@]}" \
  -o "$tmp/tdxd.svg"
"$bin" forest "$response" --by drug_class "${intracranial[@]}" --where role=experimental -o "$tmp/classes.svg"
rsvg-convert --zoom 1.5 "$tmp/tdxd.svg" -o docs/forest-tdxd-active-icorr.png
rsvg-convert --zoom 1.5 "$tmp/classes.svg" -o docs/forest-icorr-by-drug-class.png
echo "docs/forest-tdxd-active-icorr.png docs/forest-icorr-by-drug-class.png redrawn"
