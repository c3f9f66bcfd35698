#!/usr/bin/env bash
# One version everywhere: Cargo.toml's [package] version is the source; this fails when any copy
# differs from it: Cargo.lock, the chart's version and appVersion (helm/amux/Chart.yaml), the
# image tag in the plain manifests (deploy/kubernetes/amux.yaml), `amux --version` (when
# AMUX_BIN is set), and a release tag (`--tag vX.Y.Z`, from the release workflow).
# scripts/set-version.sh X.Y.Z changes them all.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
if [[ "${1:-}" == "--tag" ]]; then tag=${2:?--tag needs a value}; fi

version=$(awk '/^\[package\]/{p=1;next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/,"",$0); split($0,a,"="); print a[2]; exit}' Cargo.toml)
[[ -n "$version" ]] || { echo "no version in Cargo.toml" >&2; exit 1; }

failed=0
check() { # check WHAT VALUE
  if [[ "$2" != "$version" ]]; then
    echo "version mismatch: $1 is '$2', Cargo.toml is '$version'" >&2
    failed=1
  fi
}
check "Cargo.lock (amux)" "$(awk '/^name = "amux"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)"
check "helm/amux/Chart.yaml version" "$(awk '/^version:/{gsub(/"/,"",$2); print $2; exit}' helm/amux/Chart.yaml)"
check "helm/amux/Chart.yaml appVersion" "$(awk '/^appVersion:/{gsub(/"/,"",$2); print $2; exit}' helm/amux/Chart.yaml)"
check "deploy/kubernetes/amux.yaml image tag" "$(grep -o 'image: "[^"]*"' deploy/kubernetes/amux.yaml | head -1 | sed 's/.*:\([^:"]*\)"$/\1/')"
if [[ -n "${AMUX_BIN:-}" ]]; then
  check "amux --version" "$("$AMUX_BIN" --version | awk '{print $2}')"
fi
if [[ -n "$tag" ]]; then
  check "release tag $tag" "${tag#v}"
fi
((failed == 0)) || exit 1
echo "version $version everywhere"
