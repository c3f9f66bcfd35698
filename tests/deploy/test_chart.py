"""The Helm chart: lint, render with every values file in helm/amux/ci, validate every object
against the Kubernetes schemas, reject bad values, and check the Deployment against what the
amux binary really serves."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import CHART, REPO, VALUES_FILES, by_kind, load_values, notes, render
from crd_schemas import SCHEMAS

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas here.
KUBE_VERSIONS = ["1.27.0", "1.37.0"]
IDS = [p.name for p in VALUES_FILES]


def test_there_are_several_values_files():
    assert {"minimal-values.yaml", "team-redis-values.yaml", "full-values.yaml"} <= set(IDS)


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_lint_is_clean(values_file):
    report = helm.lint(str(CHART), load_values(values_file), strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, problems


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_every_object_is_valid(values_file):
    objects = render(load_values(values_file))
    assert by_kind(objects, "Deployment") and by_kind(objects, "Service")
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        if key in SCHEMAS:
            jsonschema.validate(obj, SCHEMAS[key])
            continue
        for version in KUBE_VERSIONS:
            if obj["kind"] == "Deployment" and version == "1.27.0" and "preStop" in json.dumps(obj):
                continue  # the preStop sleep action needs Kubernetes 1.30 (values.yaml says so)
            kubernetes_validate.validate(obj, version, strict=True)


def test_everything_on_renders_every_kind():
    kinds = {o["kind"] for o in render(load_values(CHART / "ci" / "full-values.yaml"))}
    assert kinds >= {
        "ConfigMap", "Deployment", "Service", "ServiceAccount", "Ingress", "HTTPRoute",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor", "PrometheusRule",
        "NetworkPolicy",
    }, kinds
    hpa = by_kind(render(load_values(CHART / "ci" / "full-values.yaml")), "HorizontalPodAutoscaler")[0]
    assert [m["type"] for m in hpa["spec"]["metrics"]] == ["Resource", "Pods"]


BAD_VALUES = [
    {"replicaCount": -1},
    {"typo": True},
    {"image": {"repository": "x", "pullPolicy": "Sometimes"}},
    {"image": {"repository": "x", "digest": "latest"}},
    {"redis": {"enabled": True}},
    {"lifecycle": {"drainTimeoutSeconds": 0}},
    {"service": {"port": 70000}},
    {"autoscaling": {"inFlight": {"mode": "maybe"}}},
    {"metrics": {"serviceMonitor": {"interval": "soon"}}},
    {"httpRoute": {"enabled": True}},
    {"providerKeys": {"existingSecret": "Not_A_Name"}},
]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=[json.dumps(b) for b in BAD_VALUES])
def test_values_schema_rejects_bad_values(bad):
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(bad)
        with pytest.raises(helm.HelmError):
            chart.render(values=bad, name="amux", namespace="amux")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"virtualKeys": {"existingSecret": ""}}, "no virtual keys"),
        ({"lifecycle": {"shutdownDelaySeconds": 30, "drainTimeoutSeconds": 20}}, "must be longer"),
    ],
)
def test_templates_refuse_what_amux_would_refuse(bad, message):
    with pytest.raises(helm.HelmError, match=message):
        render(bad)


def test_shipped_values_pass_the_schema():
    with helm.Chart.load(str(CHART)) as chart:
        for f in VALUES_FILES:
            chart.validate_schema(load_values(f))


def test_prometheus_rules_and_dashboard_match_deploy():
    for chart_copy, original in [
        ("files/amux-rules.yaml", "deploy/prometheus/amux-rules.yaml"),
        ("files/amux-dashboard.json", "deploy/grafana/amux-dashboard.json"),
    ]:
        assert (CHART / chart_copy).read_bytes() == (REPO / original).read_bytes(), (
            f"helm/amux/{chart_copy} differs from {original}: copy it over"
        )
    objects = render(load_values(CHART / "ci" / "full-values.yaml"))
    rule = by_kind(objects, "PrometheusRule")[0]
    assert rule["spec"] == yaml.safe_load((REPO / "deploy/prometheus/amux-rules.yaml").read_text())
    dash = [o for o in by_kind(objects, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")][0]
    assert dash["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dash["data"]["amux-dashboard.json"])["title"]


def test_grace_period_covers_the_drain():
    for f in VALUES_FILES:
        values = load_values(f)
        dep = by_kind(render(values), "Deployment")[0]
        lc = {**load_values(CHART / "values.yaml")["lifecycle"], **values.get("lifecycle", {})}
        grace = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= lc["preStopSleepSeconds"] + lc["drainTimeoutSeconds"] + 5, (f.name, grace)


def test_notes_tell_how_to_point_the_harnesses():
    text = notes(load_values(CHART / "ci" / "full-values.yaml"))
    for needle in ["ANTHROPIC_BASE_URL=https://amux.example.com", "amux launch codex --gateway https://amux.example.com",
                   "GOOGLE_GEMINI_BASE_URL=https://amux.example.com"]:
        assert needle in text, text


def test_no_secret_values_in_the_rendered_chart():
    for f in VALUES_FILES:
        for obj in render(load_values(f)):
            assert obj["kind"] != "Secret", "secrets come from existing Secrets, never from values"
            text = json.dumps(obj)
            assert "sk-" not in text


def test_plain_manifests_are_current():
    committed = (REPO / "deploy/kubernetes/amux.yaml").read_text()
    fresh = subprocess.run(
        [os.environ.get("PYTHON", "python3"), str(REPO / "scripts/render-manifests.py"), "--stdout"],
        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    ).stdout
    assert committed == fresh, "deploy/kubernetes/amux.yaml is stale: run scripts/render-manifests.py"


# --- The Deployment against the real binary.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def port_of(container, name):
    return next(p["containerPort"] for p in container["ports"] if p["name"] == name)


def test_deployment_probes_ports_and_config_mount_match_what_amux_serves(amux_bin):
    objects = render(load_values(CHART / "ci" / "minimal-values.yaml"))
    dep = by_kind(objects, "Deployment")[0]
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}

    # The config the container reads is the ConfigMap's file, through a directory mount.
    args = c["args"]
    assert args[:2] == ["serve", "--config"]
    config_path = pathlib.PurePosixPath(args[2])
    mount = next(m for m in c["volumeMounts"] if config_path.parent == pathlib.PurePosixPath(m["mountPath"]))
    assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    cm = next(o for o in by_kind(objects, "ConfigMap") if o["metadata"]["name"] == volume["configMap"]["name"])
    item = volume["configMap"]["items"][0]
    assert item["path"] == config_path.name and item["key"] in cm["data"]
    config = yaml.safe_load(cm["data"][item["key"]])

    # Ports: the main one is what AMUX_LISTEN says, the metrics one what metrics.listen says.
    http_port = port_of(c, "http")
    assert env["AMUX_LISTEN"] == f"0.0.0.0:{http_port}"
    assert config["metrics"]["listen"] == f"0.0.0.0:{port_of(c, 'metrics')}"
    svc = by_kind(objects, "Service")[0]
    assert {p["targetPort"] for p in svc["spec"]["ports"]} == {"http", "metrics"}
    # The virtual keys Secret is mounted where keys_file points.
    keys_mount = next(m for m in c["volumeMounts"] if m["name"] == "keys")
    assert config["keys_file"].startswith(keys_mount["mountPath"] + "/")

    # Run amux with that config (ports and the keys file moved to this machine) and call every
    # probe path on the ports the probes name.
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        main, metrics = free_port(), free_port()
        keys = tmp / "keys.yaml"
        keys.write_text(subprocess.run([amux_bin, "keys", "new", "--name", "ci"], check=True, capture_output=True,
                                       text=True).stdout.split("keys:\n", 1)[1])
        config["keys_file"] = str(keys)
        config["metrics"]["listen"] = f"127.0.0.1:{metrics}"
        cfg = tmp / "amux.yaml"
        cfg.write_text(yaml.safe_dump(config))
        proc = subprocess.Popen(
            [amux_bin, *args[:2], str(cfg)],
            env={"AMUX_LISTEN": f"127.0.0.1:{main}", "ANTHROPIC_API_KEY": "test", "PATH": "/usr/bin:/bin"},
            stderr=subprocess.PIPE, text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if get(f"http://127.0.0.1:{main}/health/readiness")[0] == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "amux not ready"
                time.sleep(0.02)
            ports = {"http": main}
            for probe in ["startupProbe", "readinessProbe", "livenessProbe"]:
                p = c[probe]["httpGet"]
                status, body = get(f"http://127.0.0.1:{ports[p['port']]}{p['path']}")
                assert status == 200, (probe, status, body)
            status, body = get(f"http://127.0.0.1:{metrics}/metrics")
            assert status == 200 and "amux_build_info" in body
            assert get(f"http://127.0.0.1:{main}/metrics")[0] == 404, "metrics are not on the callers' port"
            # SIGTERM: readiness would fail, and amux exits well inside the grace period.
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=pod["terminationGracePeriodSeconds"])
            assert proc.returncode == 0
        finally:
            proc.kill()
            proc.wait()
