"""What makes a local cluster secured: TLS material, SCRAM users, the authorizer.

Decisions, as a platform team would run a cluster:
- clients connect over `SASL_SSL` with SCRAM-SHA-512 (the CLIENT listener), or with a certificate
  signed by the run's CA (the MTLS listener, principal = the certificate's CN);
- brokers and controllers talk to each other over mutual TLS as `User:broker`, so no listener of a
  secured node is plaintext and no broker password sits in a config file;
- `StandardAuthorizer` with `allow.everyone.if.no.acl.found=false`: nothing is allowed unless an
  ACL says so; `admin` (SCRAM) and `broker` (certificate) are super users.

The admin user is created when the storage is formatted, from its salted password only (the
password itself never appears on a command line). Its password lives in a 0600 file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from conveyor.localkafka.tls import CertificateAuthority, Identity

ADMIN: Final = "admin"
BROKER: Final = "broker"
SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
SCRAM_ITERATIONS: Final = 8192
_SCRAM_LOGIN: Final = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


def salted_password(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> bytes:
    """SCRAM's SaltedPassword (RFC 5802 `Hi`): PBKDF2 with HMAC-SHA-512."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


def scram_credential(name: str, password: str) -> str:
    """A `kafka-storage format --add-scram` value holding a salted password, not the password."""
    salt = os.urandom(16)
    salted = salted_password(password, salt)
    b64 = base64.b64encode
    return (
        f"{SCRAM_MECHANISM}=[name={name},iterations={SCRAM_ITERATIONS},"
        f'salt="{b64(salt).decode()}",saltedpassword="{b64(salted).decode()}"]'
    )


@dataclass(frozen=True)
class LocalSecurity:
    """The TLS material and admin secret of the secured cluster under `home`."""

    home: Path

    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def ca(self) -> CertificateAuthority:
        return CertificateAuthority(self.tls_dir)

    @property
    def ca_location(self) -> Path:
        return self.ca.certificate

    @property
    def admin_password_file(self) -> Path:
        return self.secrets_dir / f"{ADMIN}.password"

    def prepare(self) -> None:
        """Create the CA, the brokers' certificate and the admin password once; reuse them after."""
        self.ca.ensure()
        self.ca.write_key_store(self.ca.issue(BROKER, self.tls_dir, server=True))
        if not self.admin_password_file.exists():
            self.secrets_dir.mkdir(parents=True, exist_ok=True)
            self.secrets_dir.chmod(0o700)
            descriptor = os.open(self.admin_password_file, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(24))

    def admin_password(self) -> str:
        return self.admin_password_file.read_text().strip()

    def wipe(self) -> None:
        shutil.rmtree(self.tls_dir, ignore_errors=True)
        shutil.rmtree(self.secrets_dir, ignore_errors=True)

    def format_arguments(self) -> list[str]:
        return ["--add-scram", scram_credential(ADMIN, self.admin_password())]

    def server_properties(self) -> dict[str, str]:
        """Broker settings added to every node of a secured cluster."""
        return {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(Identity.under(self.tls_dir, BROKER).key_store),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_location),
            "listener.name.mtls.ssl.client.auth": "required",
            "listener.name.controller.ssl.client.auth": "required",
            "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"listener.name.client.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": _SCRAM_LOGIN,
            # `User:broker`, not `User:CN=broker`: principals stay short names in ACLs.
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{ADMIN};User:{BROKER}",
        }

    def admin_client_settings(self) -> dict[str, str]:
        """librdkafka settings of the admin user on the CLIENT listener (password included:
        for the launcher's own probes, never printed)."""
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": SCRAM_MECHANISM,
            "sasl.username": ADMIN,
            "sasl.password": self.admin_password(),
            "ssl.ca.location": str(self.ca_location),
        }

    def client_exports(self, *, show_secrets: bool = False) -> list[tuple[str, str]]:
        """The environment a conveyor client needs to connect as the admin user; the password
        as a file path unless `show_secrets`."""
        password = (
            ("KAFKA_SASL_PASSWORD", self.admin_password())
            if show_secrets
            else ("KAFKA_SASL_PASSWORD_FILE", str(self.admin_password_file))
        )
        return [
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_MECHANISM", SCRAM_MECHANISM),
            ("KAFKA_SASL_USERNAME", ADMIN),
            password,
            ("KAFKA_SSL_CA_LOCATION", str(self.ca_location)),
        ]
