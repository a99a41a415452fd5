"""Local HTTP stand-ins for the external APIs the reference services call: a CRM, a payment
gateway and a warehouse. Each runs as its own process on loopback with its own fault plan
(latency, failure rate, a flaky start), honours idempotency keys, and lists what it created so
the demo and the tests can check outcomes. Point a service at the real API's URL instead.
"""

from standins.main import main

__all__ = ["main"]
