"""What a librdkafka connection failure most likely means, in the words of conveyor's settings.

librdkafka reports a plaintext client on a TLS listener as the broker closing the connection
during its first request (ApiVersion), and a certificate problem as a failed handshake; neither
names the setting to change. `hint` does, for the log line or error text it is given.
"""

from __future__ import annotations

from conveyor.clients.config import SecurityProtocol

_TLS = (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)


def hint(failure: str, protocol: SecurityProtocol) -> str | None:
    """The likely cause of `failure` (a librdkafka log line or error text) and its fix, or None
    when it does not look like a misconfigured connection."""
    if "APIVERSION_QUERY" in failure and protocol not in _TLS:
        return (
            f"the broker closed the connection at the first request: its listener probably "
            f"expects TLS; KAFKA_SECURITY_PROTOCOL is {protocol}, try SSL or SASL_SSL"
        )
    if "SSL handshake failed" in failure or "certificate verify failed" in failure:
        return (
            "the TLS handshake failed: check that KAFKA_SSL_CA_LOCATION holds the CA that signed "
            "the broker's certificate, and that the broker trusts KAFKA_SSL_CERTIFICATE_LOCATION"
        )
    if "SSL" in failure and protocol not in _TLS:
        return f"the broker speaks TLS; KAFKA_SECURITY_PROTOCOL is {protocol}"
    if "Authentication failed" in failure or "SASL authentication error" in failure:
        return (
            "the broker refused the credentials: check KAFKA_SASL_USERNAME, the password and "
            "KAFKA_SASL_MECHANISM"
        )
    return None
