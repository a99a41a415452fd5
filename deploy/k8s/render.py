"""Render deploy/k8s/<service>.yaml for the gateway and the seven consumer services.

The rendered files are committed (they are what `kubectl apply -f deploy/k8s/` reads); edit this
script and run `python deploy/k8s/render.py` instead of editing them by hand. A test checks that
the committed files match this script's output and validate against the Kubernetes schemas.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
IMAGE = "conveyor:0.1.0"  # `docker build -t conveyor:0.1.0 .`, pushed to your registry
HTTP_PORT = 9400  # CONVEYOR_HTTP_PORT: /livez, /readyz, /metrics
GATEWAY_PORT = 8080
# The brokers' SASL_SSL listener (SCRAM-SHA-512 over TLS), for the services and for KEDA alike.
BOOTSTRAP = "kafka-bootstrap.kafka.svc:9093"
# Secrets are not rendered: create them per environment (README, "Connecting to a secured
# cluster"). `conveyor-kafka-<principal>` holds `username` and `password` of one principal of
# `conveyor acls apply`; `conveyor-kafka-ca` holds `ca.crt`, the CA that signed the brokers.
CA_SECRET = "conveyor-kafka-ca"
CA_KEY = "ca.crt"
CA_DIR = "/etc/conveyor/kafka-ca"
CREDENTIALS_DIR = "/etc/conveyor/kafka"
HEADER = "# Rendered by deploy/k8s/render.py: edit the script, not this file.\n"


@dataclass(frozen=True)
class Consumer:
    """A consumer-group service and how far KEDA may scale it (at most one pod per partition).

    `stateful` services keep their own data in SQLite (stock, analytics, remembered orders and
    addresses): one pod with a persistent volume, replaced not rolled. Their ScaledObject is kept
    (lag metrics, and scale-out is one number once their data moves to a shared database).
    """

    name: str
    max_replicas: int
    cpu: str = "100m"
    memory: str = "192Mi"
    lag_threshold: int = 100
    stateful: bool = False


CONSUMERS = (
    Consumer("welcome-email", max_replicas=6),
    Consumer("analytics", max_replicas=1, memory="256Mi", stateful=True),
    Consumer("crm-sync", max_replicas=6),
    Consumer("payments", max_replicas=12, lag_threshold=50),
    Consumer("inventory", max_replicas=1, lag_threshold=50, stateful=True),
    Consumer("fulfillment", max_replicas=1, lag_threshold=50, stateful=True),
    Consumer("order-email", max_replicas=1, stateful=True),
)


def credentials_secret(principal: str) -> str:
    """One Secret per principal, so a pod can read no other service's password."""
    return f"conveyor-kafka-{principal}"


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "conveyor"}


def probe(path: str, port: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def container(
    name: str,
    args: list[str],
    port: int,
    cpu: str,
    memory: str,
    *,
    consumer: bool,
    admin_port: int | None = None,
) -> dict[str, Any]:
    """`admin_port`: probes go there, apart from the `http` port (the gateway's public API)."""
    username = {"secretKeyRef": {"name": credentials_secret(name), "key": "username"}}
    env: list[dict[str, Any]] = [
        {"name": "CONVEYOR_HTTP_PORT", "value": str(port)},
        {"name": "KAFKA_SASL_USERNAME", "valueFrom": username},
        # A file, not an env value: it stays out of `kubectl describe`, /proc/<pid>/environ and
        # any child process, and a rotated Secret reaches the file without a new pod spec.
        {"name": "KAFKA_SASL_PASSWORD_FILE", "value": f"{CREDENTIALS_DIR}/password"},
    ]
    if consumer:
        # Static membership (`group.instance.id`): a pod that restarts in place rejoins as the
        # same member without a rebalance. Pods a rollout replaces get new names, so their old
        # ids expire after the session timeout; use a StatefulSet where that pause matters.
        field = {"fieldRef": {"fieldPath": "metadata.name"}}
        env.insert(0, {"name": "CONVEYOR_GROUP_INSTANCE_ID", "valueFrom": field})
    probes = "admin" if admin_port else "http"
    return {
        "name": name,
        "image": IMAGE,
        "args": args,
        "ports": [
            {"name": "http", "containerPort": port},
            *([{"name": "admin", "containerPort": admin_port}] if admin_port else []),
        ],
        "envFrom": [{"configMapRef": {"name": "conveyor"}}],
        "env": env,
        "startupProbe": probe("/livez", probes, period=2, failures=30),
        "livenessProbe": probe("/livez", probes, period=10, failures=3),
        "readinessProbe": probe("/readyz", probes, period=5, failures=2),
        "resources": {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "state", "mountPath": "/var/lib/conveyor"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "kafka-credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
            {"name": "kafka-ca", "mountPath": CA_DIR, "readOnly": True},
        ],
    }


def secret_volume(volume: str, secret: str, key: str, path: str) -> dict[str, Any]:
    """One key of a Secret as a file readable by the pod's group (fsGroup) only."""
    items = [{"key": key, "path": path}]
    return {"name": volume, "secret": {"secretName": secret, "items": items, "defaultMode": 0o440}}


def deployment(
    name: str, spec: dict[str, Any], replicas: int | None, *, stateful: bool = False
) -> dict[str, Any]:
    """`replicas=None` leaves the count to the ScaledObject, so `kubectl apply` never resets it."""
    scale = {} if replicas is None else {"replicas": replicas}
    state: dict[str, Any] = {"emptyDir": {}}
    strategy: dict[str, Any] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}}
    if stateful:  # a ReadWriteOnce volume has one writer: stop the old pod, then start the new
        state = {"persistentVolumeClaim": {"claimName": f"{name}-state"}}
        strategy = {"type": "Recreate"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            **scale,
            "selector": {"matchLabels": labels(name)},
            "strategy": strategy,
            "template": {
                "metadata": {
                    "labels": labels(name),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(spec["ports"][0]["containerPort"]),
                    },
                },
                "spec": {
                    # Longer than the runtime's shutdown deadline (20 s), so in-flight work drains
                    # and its offsets are committed before the kubelet kills the pod.
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [spec],
                    "volumes": [
                        {"name": "state", **state},
                        {"name": "tmp", "emptyDir": {}},
                        secret_volume(
                            "kafka-credentials", credentials_secret(name), "password", "password"
                        ),
                        secret_volume("kafka-ca", CA_SECRET, CA_KEY, CA_KEY),
                    ],
                },
            },
        },
    }


def state_claim(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{name}-state", "labels": labels(name)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }


def disruption_budget(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(name)}},
    }


def trigger_authentication(consumer: Consumer) -> dict[str, Any]:
    """KEDA reads the group's lag as the service's own principal (it may describe its group and
    its topics), not as the operator, who may also move offsets and pause services."""
    refs = [(param, credentials_secret(consumer.name), param) for param in ("username", "password")]
    refs.append(("ca", CA_SECRET, CA_KEY))
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": f"{consumer.name}-kafka", "labels": labels(consumer.name)},
        "spec": {
            "secretTargetRef": [
                {"parameter": param, "name": secret, "key": key} for param, secret, key in refs
            ]
        },
    }


def scaled_object(consumer: Consumer) -> dict[str, Any]:
    """KEDA scales on the group's lag over all the topics it has offsets on (its retry topics
    too). `excludePersistentLag` leaves out a partition whose committed offset does not move,
    e.g. one stuck on a poison event, so it cannot pin the service at its maximum. `sasl` and
    `tls` are trigger metadata: a TriggerAuthentication only references secrets."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": consumer.name, "labels": labels(consumer.name)},
        "spec": {
            "scaleTargetRef": {"name": consumer.name},
            "minReplicaCount": 1,
            "maxReplicaCount": consumer.max_replicas,
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "kafka",
                    "authenticationRef": {"name": f"{consumer.name}-kafka"},
                    "metadata": {
                        "bootstrapServers": BOOTSTRAP,
                        "sasl": "scram_sha512",
                        "tls": "enable",
                        "consumerGroup": consumer.name,
                        "lagThreshold": str(consumer.lag_threshold),
                        "activationLagThreshold": "0",
                        "offsetResetPolicy": "earliest",
                        "allowIdleConsumers": "false",
                        "excludePersistentLag": "true",
                    },
                }
            ],
        },
    }


def gateway_service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "gateway", "labels": labels("gateway")},
        "spec": {
            "selector": labels("gateway"),
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def config_map() -> dict[str, Any]:
    """Where everything is and how to connect; override per environment (e.g. with kustomize).
    Nothing secret: each pod reads only its own principal's Secret (see `container`); add other
    secrets, e.g. CONVEYOR_IDEMPOTENCY_URL=postgresql://... shared by an e-mail service's pods, to
    that service's container with a `secretKeyRef`."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "conveyor", "labels": labels("conveyor")},
        "data": {
            "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SSL_CA_LOCATION": f"{CA_DIR}/{CA_KEY}",
            "CONVEYOR_STATE_DIR": "/var/lib/conveyor",
            "SMTP_HOST": "smtp.mail.svc",
            "SMTP_PORT": "25",
            "CRM_URL": "https://crm.example.com/api",
            "PAYMENTS_URL": "https://payments.example.com/api",
            "WAREHOUSE_URL": "https://warehouse.example.com/api",
        },
    }


def rendered() -> dict[str, list[dict[str, Any]]]:
    """File name -> the documents it holds."""
    files: dict[str, list[dict[str, Any]]] = {"config.yaml": [config_map()]}
    gateway = container(
        "gateway",
        # The admin port listens on the pod's address for the kubelet and Prometheus; the
        # Service publishes only the API port.
        ["gateway", "--host", "0.0.0.0", "--port", str(GATEWAY_PORT),
         "--admin-host", "0.0.0.0", "--admin-port", str(HTTP_PORT)],
        GATEWAY_PORT,
        cpu="250m",
        memory="256Mi",
        consumer=False,
        admin_port=HTTP_PORT,
    )  # fmt: skip
    files["gateway.yaml"] = [
        deployment("gateway", gateway, replicas=2),
        disruption_budget("gateway"),
        gateway_service(),
    ]
    for consumer in CONSUMERS:
        spec = container(
            consumer.name, [consumer.name], HTTP_PORT, consumer.cpu, consumer.memory, consumer=True
        )
        files[f"{consumer.name}.yaml"] = [
            deployment(consumer.name, spec, replicas=None, stateful=consumer.stateful),
            disruption_budget(consumer.name),
            trigger_authentication(consumer),
            scaled_object(consumer),
            *([state_claim(consumer.name)] if consumer.stateful else []),
        ]
    return files


def dump(documents: list[dict[str, Any]]) -> str:
    return HEADER + yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)


def main() -> int:
    for name, documents in rendered().items():
        (HERE / name).write_text(dump(documents))
    return 0


if __name__ == "__main__":
    sys.exit(main())
