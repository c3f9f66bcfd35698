#!/usr/bin/env bash
# Sets the version everywhere it is written (scripts/check-version.sh lists where), then
# re-renders the plain manifests: scripts/set-version.sh 0.2.0
set -euo pipefail
cd "$(dirname "$0")/.."
new=${1:?usage: set-version.sh X.Y.Z}
[[ "$new" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "not a semver: $new" >&2; exit 1; }
sed -i "0,/^version = \".*\"/s//version = \"$new\"/" Cargo.toml
sed -i "/^name = \"amux\"$/{n;s/^version = \".*\"/version = \"$new\"/}" Cargo.lock
sed -i "s/^version: .*/version: $new/; s/^appVersion: .*/appVersion: \"$new\"/" helm/amux/Chart.yaml
python3 scripts/render-manifests.py
scripts/check-version.sh
