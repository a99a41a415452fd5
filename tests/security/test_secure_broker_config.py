"""The broker settings of a secured local cluster, and that a plain one keeps its own."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from conveyor.localkafka import ClusterSpec
from conveyor.localkafka.security import LocalSecurity, salted_password, scram_credential


def test_a_plain_cluster_keeps_its_plaintext_listeners(tmp_path: Path) -> None:
    """Without --secure nothing changes: PLAINTEXT clients, no authorizer, two ports a node."""
    spec = ClusterSpec(port=9092)
    properties = spec.server_properties(1, tmp_path)
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9192"
    assert properties["inter.broker.listener.name"] == "PLAINTEXT"
    assert "authorizer.class.name" not in properties
    assert spec.ports() == [9092, 9192]


def test_a_secured_cluster_has_no_plaintext_listener(tmp_path: Path) -> None:
    """Every listener of a secured node is TLS: SASL_SSL for clients, mutual TLS for brokers."""
    spec = ClusterSpec(port=9092, secure=True)
    properties = spec.server_properties(1, tmp_path) | LocalSecurity(tmp_path).server_properties()
    protocols = dict(p.split(":") for p in properties["listener.security.protocol.map"].split(","))
    assert protocols == {"CLIENT": "SASL_SSL", "MTLS": "SSL", "CONTROLLER": "SSL"}
    assert properties["inter.broker.listener.name"] == "MTLS"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["listener.name.controller.ssl.client.auth"] == "required"
    assert spec.ports() == [9092, 9192, 9292]


def test_the_scram_credential_holds_a_salted_password_only() -> None:
    """The format argument carries SCRAM's salted password (PBKDF2-HMAC-SHA-512), never the
    password."""
    credential = scram_credential("admin", "hunter2-hunter2")
    assert "hunter2" not in credential
    salt = base64.b64decode(credential.split('salt="')[1].split('"')[0])
    salted = base64.b64decode(credential.split('saltedpassword="')[1].split('"')[0])
    assert salted == hashlib.pbkdf2_hmac("sha512", b"hunter2-hunter2", salt, 8192)
    assert salted == salted_password("hunter2-hunter2", salt)


def test_secrets_are_printed_only_when_asked(tmp_path: Path) -> None:
    """The exports name the password file; the password itself only with show_secrets."""
    security = LocalSecurity(tmp_path)
    security.secrets_dir.mkdir()
    security.admin_password_file.write_text("pw-123\n")
    quiet = dict(security.client_exports())
    assert quiet["KAFKA_SASL_PASSWORD_FILE"] == str(security.admin_password_file)
    assert "pw-123" not in quiet.values()
    assert dict(security.client_exports(show_secrets=True))["KAFKA_SASL_PASSWORD"] == "pw-123"
