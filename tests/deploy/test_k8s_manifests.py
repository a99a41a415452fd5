"""The Kubernetes manifests in deploy/k8s/: valid against the Kubernetes and KEDA schemas (all
bundled, nothing is downloaded), in step with their generator, and wired as the runtime expects."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conveyor.topology import load

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KEDA_SCHEMA = json.loads((Path(__file__).parent / "keda-scaledobject.schema.json").read_text())
KUBERNETES_VERSION = "1.32.0"
# Every service the topology declares is deployed.
CONSUMERS = tuple(service.name for service in load().services)


def load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def by_kind(name: str) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in documents(name)}


MANIFESTS = sorted(path.name for path in K8S.glob("*.yaml"))


def test_committed_manifests_match_the_generator() -> None:
    """Every rendered file is committed as the script renders it, and there are no strays."""
    render = load_render()
    expected = {name: render.dump(docs) for name, docs in render.rendered().items()}
    assert sorted(expected) == MANIFESTS
    for name, text in expected.items():
        assert (K8S / name).read_text() == text, f"{name} is stale: run deploy/k8s/render.py"


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifests_validate_against_their_schemas(name: str) -> None:
    """Core kinds pass kubernetes-validate (strict: unknown fields fail); ScaledObjects pass the
    vendored KEDA schema."""
    for doc in documents(name):
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, KEDA_SCHEMA)
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_fails_validation() -> None:
    """The validators are strict: a typo in a Deployment or a ScaledObject is caught."""
    deployment = by_kind("payments.yaml")["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    scaled = by_kind("payments.yaml")["ScaledObject"]
    scaled["spec"]["triggers"][0]["metadata"]["excludePersistantLag"] = "true"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, KEDA_SCHEMA)


@pytest.mark.parametrize("service", CONSUMERS)
def test_each_consumer_is_probed_budgeted_and_scaled_on_its_own_lag(service: str) -> None:
    """Probes hit /livez and /readyz, the pod name becomes the static group member id, a PDB
    keeps all but one pod up, and KEDA scales on this group's lag ignoring stuck partitions."""
    kinds = by_kind(f"{service}.yaml")
    assert {"Deployment", "PodDisruptionBudget", "ScaledObject"} <= set(kinds)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"] == [service]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    env = {item["name"]: item for item in container["env"]}
    assert env["CONVEYOR_GROUP_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.name"
    )
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "replicas" not in kinds["Deployment"]["spec"]  # KEDA owns the count
    assert kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    scaled = kinds["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == service
    trigger = scaled["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == service
    assert trigger["metadata"]["excludePersistentLag"] == "true"


@pytest.mark.parametrize("service", ["analytics", "inventory", "fulfillment", "order-email"])
def test_services_with_local_databases_keep_them_on_one_volume(service: str) -> None:
    """SQLite-backed services run one pod on a persistent volume, replaced rather than rolled,
    and KEDA may not scale them past one."""
    kinds = by_kind(f"{service}.yaml")
    deployment = kinds["Deployment"]["spec"]
    volumes = {v["name"]: v for v in deployment["template"]["spec"]["volumes"]}
    claim = volumes["state"]["persistentVolumeClaim"]["claimName"]
    assert claim == kinds["PersistentVolumeClaim"]["metadata"]["name"]
    assert deployment["strategy"] == {"type": "Recreate"}
    assert kinds["ScaledObject"]["spec"]["maxReplicaCount"] == 1
