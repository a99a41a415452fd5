"""Reading what the pipeline did, from the outside: the mail directory, the stand-ins' listings,
the services' SQLite files, the dead-letter topics and the services' metrics."""

from __future__ import annotations

import email.policy
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from conveyor import naming
from conveyor.clients import Outage, reader

READ_TIMEOUT = 30.0  # seconds a read of a dead-letter topic may wait out a broker


@dataclass(frozen=True)
class SentMail:
    to: str
    kind: str  # from the Message-ID `<kind.event_id@domain>`
    message_id: str


def read_mail(directory: Path) -> list[SentMail]:
    parser = BytesParser(policy=email.policy.default)
    mails = []
    for path in sorted(directory.glob("*.eml")):
        message = parser.parsebytes(path.read_bytes())
        message_id = str(message["Message-ID"] or "").strip()  # long ids arrive folded
        kind = message_id.lstrip("<").split(".", 1)[0]
        mails.append(SentMail(str(message["To"]), kind, message_id))
    return mails


def mail_counts(mails: list[SentMail], kind: str) -> tuple[Counter[str], int]:
    """Per recipient, how many distinct messages of `kind` (by Message-ID), and how many
    deliveries repeated a Message-ID already delivered (a redelivery, recognisable as such)."""
    ids = [(m.to, m.message_id) for m in mails if m.kind == kind]
    distinct = set(ids)
    return Counter(to for to, _ in distinct), len(ids) - len(distinct)


def listing(base_url: str, path: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}{path}", timeout=5.0)
    response.raise_for_status()
    records: list[dict[str, Any]] = response.json()
    return records


def metric_total(url: str, name: str) -> float | None:
    """The sum of metric `name`'s samples on a /metrics page; None when it does not answer."""
    try:
        text = httpx.get(url, timeout=5.0).text
    except httpx.HTTPError:
        return None
    families = text_string_to_metric_families(text)
    return sum(s.value for family in families if family.name == name for s in family.samples)


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows from a service's SQLite file (read-only; empty when the file does not exist yet)."""
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0) as conn:
        return list(conn.execute(sql))


def dead_letter_keys(bootstrap_servers: str, service: str) -> list[str]:
    """The keys of every record in `<service>.dlq` (none when the topic does not exist)."""
    topic = naming.dead_letter_topic(service)
    messages = reader.read_topic(
        {"bootstrap.servers": bootstrap_servers},
        topic,
        f"conveyor-demo-reader-{uuid.uuid4().hex}",
        Outage("dead letters", topic=topic),
        timeout=READ_TIMEOUT,
        missing_ok=True,
    )
    return [(message.key() or b"").decode() for message in messages]
