"""Request transactions on writer threads, several requests per commit (group commit).

Why not on the event loop: a commit there stalls every request behind it, SQLite's write lock
(held by the relay while it marks rows sent) stalls it longer, and none of that shows in a
request's own timing. Why not a thread per request: SQLite has one writer anyway, and under load
one commit for the requests that queued meanwhile costs the database one log flush instead of
many; on PostgreSQL a group's statements and its commit go to the server as one pipelined
batch, and the writer's connection stays in pipeline mode from one group to the next (leaving
it costs a round trip of its own after each commit). A request refused by the database (a
duplicate e-mail) is rolled back alone and the others of its group still commit: a group with
a refusal runs again with a savepoint per request (`Committer._one_by_one`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import structlog

from conveyor.events import Event
from conveyor.outbox import SqlConnection
from gateway import logs
from gateway.database import DATABASE_ERRORS, Database, close_connection

log = structlog.get_logger("gateway")
Write = Callable[[SqlConnection, Any], None]
_MAX_GROUP = 64  # requests per commit: bounds how long the first of a group waits for the last


@dataclass(frozen=True, slots=True)
class _Job:
    write: Write
    event: Event
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop
    # The request's context variables (its trace span among them), for the writer thread.
    context: contextvars.Context

    def run(self, conn: SqlConnection) -> None:
        self.context.run(self.write, conn, self.event)


_Outcome = tuple[asyncio.Future[None], BaseException | None]


def _settle_all(group: list[_Job], errors: list[BaseException | None]) -> None:
    """Hand each request its outcome: one wake-up of each event loop per group, not one per
    request (each is a write to the loop's self-pipe and a turn of the loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for job, error in zip(group, errors, strict=True):
        by_loop.setdefault(job.loop, []).append((job.future, error))
    for loop, outcomes in by_loop.items():
        loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, error in outcomes:
        if future.done():  # the request was cancelled (its client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class Committer:
    """`await commit(write, event)`: `write` (domain rows + outbox row) committed on a writer
    thread; `on_commit(events)` runs there after each commit that wrote something."""

    def __init__(
        self,
        db: Database,
        on_commit: Callable[[list[Event]], None],
        notify: Callable[[], bool] = lambda: True,
    ) -> None:
        """`notify()`: whether a commit must also wake the relay of another process (PostgreSQL
        `NOTIFY`, `gateway.notify`); `on_commit` wakes this process's own."""
        self.db = db
        self._on_commit = on_commit
        self._notify = notify
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"gateway-writer-{n}", daemon=True)
            for n in range(db.writers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish what is queued, then end the writer threads."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    async def commit(self, write: Write, event: Event) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._jobs.put(_Job(write, event, future, loop, contextvars.copy_context()))
        await future

    def _run(self) -> None:
        conn: _Connection | None = None
        while (job := self._jobs.get()) is not None:
            group = [job]
            while len(group) < _MAX_GROUP:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._jobs.put(None)  # for this thread's next turn: stop after this group
                    break
                group.append(more)
            try:
                conn = conn or _Connection(self.db)
                self._commit_group(conn, group)
            except Exception as exc:  # the drivers' own error types, or a broken connection
                log.warning(logs.COMMIT_FAILED, error=type(exc).__name__, requests=len(group))
                _settle_all(group, [exc] * len(group))
                _reset(conn)
                conn = None
        if conn is not None:
            _reset(conn)

    def _commit_group(self, conn: _Connection, group: list[_Job]) -> None:
        with self.db.write_lock:
            try:
                outcomes = self._all_at_once(conn.batched(), group)
            except Exception as exc:
                # A refusal (or a failure the next attempt meets as well): undo, and run the
                # requests again one by one, so each refused one is undone alone.
                unbatched = conn.unbatched(exc)
                unbatched.rollback()
                outcomes = self._one_by_one(unbatched, group)
        committed = [job.event for job, error in zip(group, outcomes, strict=True) if not error]
        _settle_all(group, outcomes)
        if committed:
            self._on_commit(committed)

    def _all_at_once(self, conn: SqlConnection, group: list[_Job]) -> list[BaseException | None]:
        """The common case, every request accepted: the group's writes and the commit without
        savepoints, sent as one batch (on PostgreSQL in pipeline mode: one exchange with the
        server for all of them instead of one per statement). Raises if any write does."""
        self.db.begin(conn)
        for job in group:
            job.run(conn)
        self._maybe_notify(conn)
        conn.commit()
        return [None] * len(group)

    def _one_by_one(self, conn: SqlConnection, group: list[_Job]) -> list[BaseException | None]:
        """Each request's writes in turn, in one transaction, a refused one undone alone (in a
        savepoint, or by rolling back when it is the only one): a refusal may come from another
        request of the group (two signups with one e-mail address). Returns the error of each
        refused request; raises (after rolling back) when the database fails."""
        try:
            self.db.begin(conn)
            if len(group) == 1:
                outcomes = [_alone(conn, group[0])]
            else:
                outcomes = [_in_savepoint(conn, job) for job in group]
            if any(error is None for error in outcomes):
                self._maybe_notify(conn)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return outcomes

    def _maybe_notify(self, conn: SqlConnection) -> None:
        """Wake another process's relay at commit, when it may be another's (`gateway.notify`)."""
        if self.db.notify is not None and self._notify():
            conn.execute(self.db.notify)


class _Connection:
    """A writer thread's connection, left in batch mode (`Database.batch`) between groups; out
    of it while a group runs one request at a time, each statement's error raised at once."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.conn = db.connect()
        self._batch: AbstractContextManager[object] | None = None

    def batched(self) -> SqlConnection:
        if self._batch is None:
            batch = self._db.batch(self.conn)
            batch.__enter__()
            self._batch = batch
        return self.conn

    def unbatched(self, error: BaseException) -> SqlConnection:
        """The connection out of batch mode after `error` ended a batch (what the batch left
        unread is dropped, not raised)."""
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.__exit__(type(error), error, error.__traceback__)
        return self.conn


def _alone(conn: SqlConnection, job: _Job) -> BaseException | None:
    """Run the only request of a group; if its writes raise, roll back and return the error."""
    try:
        job.run(conn)
    except Exception as exc:
        conn.rollback()
        return exc
    return None


def _in_savepoint(conn: SqlConnection, job: _Job) -> BaseException | None:
    """Run one request's writes; if they raise (a refusal such as a duplicate e-mail), undo
    just them and return the error for that request. A database that cannot even roll back to
    the savepoint raises, and the whole group fails."""
    conn.execute("SAVEPOINT request")
    try:
        job.run(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO SAVEPOINT request")
        conn.execute("RELEASE SAVEPOINT request")
        return exc
    conn.execute("RELEASE SAVEPOINT request")
    return None


def _reset(conn: _Connection | None) -> None:
    """Drop a connection (after a failure: the next group opens a fresh one); a batch it was in
    ends with it."""
    if conn is not None:
        with contextlib.suppress(*DATABASE_ERRORS):
            close_connection(conn.conn)
