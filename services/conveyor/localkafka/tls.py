"""A certificate authority and certificates for one local secured cluster, made with `openssl`.

Keys are EC P-256 in unencrypted PKCS#8 PEM, which both the broker (`ssl.keystore.type=PEM`) and
librdkafka read directly, so no keystore password exists to hand around. Keys are private to their
owner (0600): they are the cluster's identity for as long as its data lives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conveyor.errors import LauncherError

DAYS = 825  # below the 825-day ceiling some TLS stacks put on leaf certificates


@dataclass(frozen=True)
class Identity:
    """A private key and its certificate (signed by the CA), as PEM files."""

    key: Path
    certificate: Path

    @classmethod
    def under(cls, directory: Path, common_name: str) -> Identity:
        return cls(directory / f"{common_name}.key", directory / f"{common_name}.pem")

    @property
    def key_store(self) -> Path:
        """The PEM key store a broker reads: the private key, then the certificate chain."""
        return self.certificate.with_suffix(".keystore.pem")


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA under `directory` that signs server and client certificates."""

    directory: Path

    @property
    def certificate(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def _key(self) -> Path:
        return self.directory / "ca.key"

    def ensure(self, name: str = "conveyor local CA") -> CertificateAuthority:
        """Create the CA once; later calls reuse it so existing certificates stay valid."""
        if not self.certificate.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            _new_key(self._key)
            _openssl(
                "req", "-x509", "-new", "-key", str(self._key), "-out", str(self.certificate),
                "-days", str(DAYS), "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            )  # fmt: skip
        return self

    def issue(self, common_name: str, directory: Path, *, server: bool = False) -> Identity:
        """A key and a certificate for `common_name` (reused when present). A server certificate
        names 127.0.0.1 and localhost, and also serves as a client certificate, since a broker is
        a TLS client of the other brokers and controllers."""
        identity = Identity.under(directory, common_name)
        if identity.certificate.exists():
            return identity
        directory.mkdir(parents=True, exist_ok=True)
        _new_key(identity.key)
        usage = "serverAuth,clientAuth" if server else "clientAuth"
        extensions = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyAgreement",
            f"extendedKeyUsage={usage}",
        ]
        if server:
            extensions.append("subjectAltName=IP:127.0.0.1,DNS:localhost")
        with tempfile.TemporaryDirectory() as scratch:
            csr, ext = Path(scratch) / "req.csr", Path(scratch) / "ext.cnf"
            ext.write_text("".join(f"{line}\n" for line in extensions))
            _openssl(
                "req", "-new", "-key", str(identity.key), "-out", str(csr),
                "-subj", f"/CN={common_name}",
            )  # fmt: skip
            _openssl(
                "x509", "-req", "-in", str(csr), "-CA", str(self.certificate),
                "-CAkey", str(self._key), "-CAcreateserial", "-days", str(DAYS),
                "-extfile", str(ext), "-out", str(identity.certificate),
            )  # fmt: skip
        return identity

    def write_key_store(self, identity: Identity) -> None:
        if not identity.key_store.exists():
            chain = identity.key.read_text() + identity.certificate.read_text()
            _write_private(identity.key_store, chain)


def openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise LauncherError(
            "`openssl` not found on PATH: a secured cluster makes its CA and certificates with "
            "it. Install it (e.g. `apt-get install openssl`)."
        )
    return found


def _new_key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )
    _private(path)


def _openssl(*args: str) -> None:
    done = subprocess.run([openssl(), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LauncherError(f"openssl {args[0]} failed: {done.stderr.strip()}")


def _private(path: Path) -> None:
    path.chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
