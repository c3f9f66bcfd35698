#!/usr/bin/env bash
# Packages a release binary: scripts/package-binary.sh BINARY TARGET OUTDIR writes
# OUTDIR/amux-<version>-<TARGET>.tar.gz (amux, README.md) and its .sha256, the version from
# Cargo.toml (the release workflow has checked it against the tag).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: package-binary.sh BINARY TARGET OUTDIR}
target=${2:?usage: package-binary.sh BINARY TARGET OUTDIR}
out=${3:?usage: package-binary.sh BINARY TARGET OUTDIR}
version=$(awk -F'"' '/^version =/{print $2; exit}' Cargo.toml)
name="amux-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
cp "$bin" "$stage/$name/amux"
strip "$stage/$name/amux" 2>/dev/null || true
cp README.md "$stage/$name/"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
if command -v sha256sum >/dev/null; then
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
else
  (cd "$out" && shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256")
fi
echo "$out/$name.tar.gz"
