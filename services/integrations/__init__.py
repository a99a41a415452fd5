"""Clients the reference services use for their side effects: external HTTP APIs (with
timeouts and idempotency keys) and SMTP (with a Message-ID derived from the event's id).

Failures are typed: `*Unavailable` errors are worth retrying, `*Rejected` errors are not.
"""
