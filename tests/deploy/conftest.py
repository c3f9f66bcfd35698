"""Shared helpers of the deploy checks: rendering the chart offline with the Helm SDK."""

import os
import pathlib

import helm_python as helm
import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "amux"
VALUES_FILES = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE, NAMESPACE = "amux", "amux"


def load_values(path):
    return yaml.safe_load(path.read_text()) or {}


def render(values=None, name=RELEASE, namespace=NAMESPACE):
    """Every rendered object, as dicts (NOTES.txt left out)."""
    with helm.Chart.load(str(CHART)) as chart:
        out = chart.render(values=values, name=name, namespace=namespace)
    objects = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(o for o in yaml.safe_load_all(text) if o)
    return objects


def notes(values=None):
    with helm.Chart.load(str(CHART)) as chart:
        out = chart.render(values=values, name=RELEASE, namespace=NAMESPACE)
    return next(text for path, text in out.items() if path.endswith("NOTES.txt"))


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


@pytest.fixture(scope="session")
def amux_bin():
    path = os.environ.get("AMUX_BIN")
    if not path:
        # Without a binary (a lint-only CI job) the chart is still checked, just not run.
        pytest.skip("AMUX_BIN is not set (scripts/test.sh sets it after building amux)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"AMUX_BIN={path} is not an executable")
    return path
