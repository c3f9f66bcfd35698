#!/usr/bin/env python3
"""Renders deploy/kubernetes/amux.yaml, plain manifests for people without Helm, from the chart
(helm/amux) with its default values, release and namespace `amux`. Needs the Helm SDK from PyPI
(helm-python-sdk; scripts/check-deploy.sh installs it). tests/deploy checks the file is current.

    scripts/render-manifests.py            # writes deploy/kubernetes/amux.yaml
    scripts/render-manifests.py --stdout   # prints it
"""

import pathlib
import sys

import helm_python as helm

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = REPO / "deploy" / "kubernetes" / "amux.yaml"
HEADER = """\
# amux as plain Kubernetes manifests, rendered from helm/amux with its default values
# (scripts/render-manifests.py; do not edit by hand). Apply with
#   kubectl create namespace amux && kubectl -n amux apply -f deploy/kubernetes/amux.yaml
# after, in namespace `amux`:
#   - edit the ConfigMap's amux.yaml (providers, models; docs/configuration.md),
#   - create the Secrets amux-provider-keys (one entry per provider key variable, e.g.
#     ANTHROPIC_API_KEY) and amux-virtual-keys (keys.yaml: the entries `amux keys new` prints).
# See docs/deploy.md.
"""


def main():
    with helm.Chart.load(str(REPO / "helm" / "amux")) as chart:
        rendered = chart.render(name="amux", namespace="amux")
    docs = [
        text.strip() + "\n"
        for path, text in sorted(rendered.items())
        if not path.endswith("NOTES.txt") and text.strip()
    ]
    out = HEADER + "".join("---\n" + d for d in docs)
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(out)
    else:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(out)
        print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
