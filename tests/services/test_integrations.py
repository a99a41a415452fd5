"""The side-effect clients: HTTP status mapping, idempotency headers, and SMTP into the sink."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from conveyor.retry import PermanentError
from integrations.errors import ApiRejectedError, ApiUnavailableError, MailUnavailableError
from integrations.http import ApiClient, ApiEndpoint
from integrations.mail import Mail, Mailer, SmtpEndpoint, message_id
from smtp_sink.sink import read_messages, start_sink


def client_answering(status: int, seen: list[httpx.Request] | None = None) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json={"status": status})

    return ApiClient(ApiEndpoint("http://api.test"), transport=httpx.MockTransport(handler))


def test_every_write_carries_its_idempotency_key() -> None:
    """The key the caller names is sent as the `Idempotency-Key` header."""
    seen: list[httpx.Request] = []
    answer = client_answering(201, seen).post("/x", {"a": 1}, idempotency_key="order-7")
    assert answer.status == 201
    assert seen[0].headers["Idempotency-Key"] == "order-7"


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_server_errors_and_throttling_are_retryable(status: int) -> None:
    """5xx, 429 and 408 raise ApiUnavailableError, which a retry policy may retry."""
    with pytest.raises(ApiUnavailableError):
        client_answering(status).post("/x", {}, idempotency_key="k")


def test_client_errors_are_permanent_and_keep_the_answer() -> None:
    """A 400 raises ApiRejectedError, not retryable, with the status and body kept."""
    with pytest.raises(ApiRejectedError) as caught:
        client_answering(400).post("/x", {}, idempotency_key="k")
    assert (caught.value.status, caught.value.body) == (400, {"status": 400})
    assert isinstance(caught.value, PermanentError)


def test_accepted_statuses_are_answers() -> None:
    """A caller that expects 402 (a declined charge) gets it as an answer, not an error."""
    assert client_answering(402).post("/x", {}, idempotency_key="k", accept={402}).status == 402


def test_unreachable_api_is_retryable() -> None:
    """A refused connection is ApiUnavailableError."""
    api = ApiClient(ApiEndpoint("http://127.0.0.1:9", connect_timeout=0.5))
    with pytest.raises(ApiUnavailableError):
        api.post("/x", {}, idempotency_key="k")


def test_mail_lands_in_the_sink_with_a_message_id_from_the_event(tmp_path: Path) -> None:
    """Sending the same event twice yields two files with one and the same Message-ID."""
    sink = start_sink(tmp_path / "mail")
    try:
        mailer = Mailer(SmtpEndpoint(port=sink.port))
        event_id = uuid.uuid4()
        mail = Mail(to="ada@example.com", subject="Welcome", body="Hello Ada")
        mailer.send(mail, event_id=event_id, kind="welcome")
        mailer.send(mail, event_id=event_id, kind="welcome")
    finally:
        sink.stop()
    messages = read_messages(tmp_path / "mail")
    assert len(messages) == 2
    expected = message_id(event_id, "welcome", "conveyor.invalid")
    assert {m["Message-ID"] for m in messages} == {expected}
    assert messages[0]["Subject"] == "Welcome"
    assert messages[0].get_content().strip() == "Hello Ada"


def test_unreachable_smtp_server_is_retryable() -> None:
    """No server on the port raises MailUnavailableError."""
    mailer = Mailer(SmtpEndpoint(port=9, timeout=1))
    with pytest.raises(MailUnavailableError):
        mailer.send(Mail("a@example.com", "s", "b"), event_id=uuid.uuid4(), kind="k")
