"""The gateway's writer: several requests share one commit, and a request the database refuses
is undone alone, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from conveyor.events import Event
from conveyor.outbox import Outbox
from gateway.committer import Committer
from gateway.database import Database
from gateway.errors import DuplicateEmailError
from gateway.store import Store
from shop_events import UserSignedUp
from tests.project import repo_codec


def _signup(email: str) -> UserSignedUp:
    return UserSignedUp(user_id=str(uuid.uuid4()), email=email, name="N")


async def _commit_rounds(db: Database, rounds: list[list[UserSignedUp]]) -> tuple[
    list[list[BaseException | None]], list[list[Event]]
]:  # fmt: skip
    """Queue the first round's sign-ups before the writer starts, so they form one group, and
    each later round once the one before it is answered; returns each request's outcome, by
    round, and the groups the writer reported committed."""
    store = Store(Outbox(db.outbox, repo_codec()), db.placeholder)
    groups: list[list[Event]] = []
    committer = Committer(db, groups.append)
    outcomes = []
    try:
        for n, events in enumerate(rounds):
            tasks = [asyncio.create_task(committer.commit(store.sign_up, e)) for e in events]
            if n == 0:
                await asyncio.sleep(0)  # every task has queued its write
                committer.start()
            outcomes.append(list(await asyncio.gather(*tasks, return_exceptions=True)))
    finally:
        committer.stop()
    return outcomes, groups


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'gw.sqlite3'}")
    else:
        db = Database(request.getfixturevalue("postgres_dsn"))
    db.create_schema()
    return db


def test_a_refused_request_is_undone_alone_and_the_rest_of_its_group_commits(
    database: Database,
) -> None:
    """Five sign-ups queued together commit as one group; the third repeats the first one's
    e-mail address, gets `DuplicateEmailError`, and leaves no row; the other four are stored
    with their outbox rows."""
    tag = uuid.uuid4().hex[:8]
    emails = [f"{tag}-{n}@example.org" for n in (1, 2, 1, 3, 4)]
    events = [_signup(email) for email in emails]
    (outcomes,), groups = asyncio.run(_commit_rounds(database, [events]))
    assert [type(o) for o in outcomes] == [
        type(None), type(None), DuplicateEmailError, type(None), type(None)
    ]  # fmt: skip
    assert groups == [[events[n] for n in (0, 1, 3, 4)]]
    conn = database.connect()
    p = database.placeholder
    users = conn.execute(
        f"SELECT user_id FROM gateway_users WHERE email LIKE {p}", (f"{tag}-%",)
    ).fetchall()
    outbox = conn.execute(
        f"SELECT event_id FROM conveyor_outbox WHERE event_id IN ({', '.join([p] * 5)})",
        tuple(str(e.event_id) for e in events),
    ).fetchall()
    conn.rollback()
    assert {u for (u,) in users} == {events[n].user_id for n in (0, 1, 3, 4)}
    assert {e for (e,) in outbox} == {str(events[n].event_id) for n in (0, 1, 3, 4)}


def test_a_writer_goes_on_batching_after_a_group_with_a_refusal(database: Database) -> None:
    """One writer: the group after one that ran request by request (a refusal) commits, and
    refuses a repeated address, as the first did."""
    db = Database(database.url, writers=1)
    tag = uuid.uuid4().hex[:8]
    first, second, third = (f"{tag}-{n}@example.org" for n in (1, 2, 3))
    rounds = [
        [_signup(first), _signup(first)],
        [_signup(second), _signup(first), _signup(third)],
        [_signup(f"{tag}-4@example.org")],
    ]
    outcomes, groups = asyncio.run(_commit_rounds(db, rounds))
    refused = DuplicateEmailError
    assert [[type(o) for o in r] for r in outcomes] == [
        [type(None), refused], [type(None), refused, type(None)], [type(None)]
    ]  # fmt: skip
    committed = [rounds[0][0], rounds[1][0], rounds[1][2], rounds[2][0]]
    assert [event for group in groups for event in group] == committed
