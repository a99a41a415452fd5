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

from tests.project import PROJECT

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KEDA_SCHEMAS = {
    kind: json.loads((Path(__file__).parent / f"keda-{kind.lower()}.schema.json").read_text())
    for kind in ("ScaledObject", "TriggerAuthentication")
}
KEDA_SCHEMA = KEDA_SCHEMAS["ScaledObject"]
KUBERNETES_VERSION = "1.32.0"
# Every service the topology declares is deployed.
CONSUMERS = tuple(service.name for service in PROJECT.topology().services)


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
    """Core kinds pass kubernetes-validate (strict: unknown fields fail); ScaledObjects and
    TriggerAuthentications pass the vendored KEDA schemas."""
    for doc in documents(name):
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, KEDA_SCHEMAS[doc["kind"]])
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
    auth = by_kind("payments.yaml")["TriggerAuthentication"]
    auth["spec"]["secretTargetRef"][0]["parameter"] = "user"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(auth, KEDA_SCHEMAS["TriggerAuthentication"])


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


def mounted_file(pod: dict[str, Any], path: str) -> tuple[str, str]:
    """The Secret and key that the file at `path` in the pod's only container comes from."""
    container = pod["containers"][0]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    for mount in container["volumeMounts"]:
        prefix = mount["mountPath"] + "/"
        if path.startswith(prefix) and "secret" in volumes[mount["name"]]:
            assert mount["readOnly"] is True
            secret = volumes[mount["name"]]["secret"]
            keys = {item["path"]: item["key"] for item in secret["items"]}
            return secret["secretName"], keys[path.removeprefix(prefix)]
    raise AssertionError(f"{path} is not in a mounted Secret")


def test_the_shared_config_connects_over_sasl_ssl_with_scram() -> None:
    """Every pod reads the same ConfigMap, which selects SASL_SSL with SCRAM-SHA-512 and holds
    no credential."""
    data = by_kind("config.yaml")["ConfigMap"]["data"]
    assert data["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert data["KAFKA_SSL_CA_LOCATION"].endswith(".crt")
    assert not [key for key in data if "PASSWORD" in key or "USERNAME" in key]


@pytest.mark.parametrize("service", ["gateway", *CONSUMERS])
def test_each_pod_reads_only_its_own_principal_from_files(service: str) -> None:
    """A pod's Kafka username and password come from its own principal's Secret (the password as
    a mounted file, never an env value), the CA from the CA Secret mounted where the ConfigMap
    points, and no Secret is injected wholesale into the environment."""
    pod = by_kind(f"{service}.yaml")["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    own = f"conveyor-kafka-{service}"
    assert "KAFKA_SASL_PASSWORD" not in env
    assert env["KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"] == {
        "name": own,
        "key": "username",
    }
    password_file = env["KAFKA_SASL_PASSWORD_FILE"]["value"]
    assert mounted_file(pod, password_file) == (own, "password")
    ca = by_kind("config.yaml")["ConfigMap"]["data"]["KAFKA_SSL_CA_LOCATION"]
    assert mounted_file(pod, ca) == ("conveyor-kafka-ca", "ca.crt")
    assert container["envFrom"] == [{"configMapRef": {"name": "conveyor"}}]
    secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert secrets == {own, "conveyor-kafka-ca"}


@pytest.mark.parametrize("service", CONSUMERS)
def test_keda_reads_lag_as_the_service_principal_over_tls(service: str) -> None:
    """Each ScaledObject's kafka trigger uses SCRAM-SHA-512 over TLS on the brokers the services
    use, authenticated by a TriggerAuthentication in the same file that takes the username and
    password from the service's own Secret and the CA from the CA Secret."""
    kinds = by_kind(f"{service}.yaml")
    trigger = kinds["ScaledObject"]["spec"]["triggers"][0]
    assert trigger["metadata"]["sasl"] == "scram_sha512"
    assert trigger["metadata"]["tls"] == "enable"
    config = by_kind("config.yaml")["ConfigMap"]["data"]
    assert trigger["metadata"]["bootstrapServers"] == config["KAFKA_BOOTSTRAP_SERVERS"]
    auth = kinds["TriggerAuthentication"]
    assert trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
    refs = {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["spec"]["secretTargetRef"]}
    own = f"conveyor-kafka-{service}"
    assert refs == {
        "username": (own, "username"),
        "password": (own, "password"),
        "ca": ("conveyor-kafka-ca", "ca.crt"),
    }
