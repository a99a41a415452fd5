"""The faults of a chaos run, each one a method: service processes killed or terminated (and
restarted), a broker node killed or paused, a rebalance storm. Every fault is recorded with
when it ended, so the run knows when the last one was over."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from conveyor.localkafka import LocalKafka
from tests.chaos.fleet import Fleet, Member

BUSY_WAIT_SECONDS = 10.0  # how long a SIGKILL waits for a process that is handling events
BUSY_POLL_SECONDS = 0.002  # how often it looks at the handled-events sink meanwhile


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str
    ended_at: float  # time.monotonic()


@dataclass
class Faults:
    """Fault actions against one cluster and one fleet; `done` lists what happened."""

    cluster: LocalKafka
    fleet: Fleet
    topic: str
    down_seconds: float
    pause_seconds: float
    rng: random.Random = field(default_factory=lambda: random.Random(28))
    done: list[Fault] = field(default_factory=list)
    # each mode's handled-events sink: a SIGKILL picks a process that is handling events
    sinks: dict[str, Path] = field(default_factory=dict)
    # One client for the whole run: librdkafka 2.16 crashed (SIGSEGV in rdk:main) in a harness
    # that made and dropped a client per look while nodes were killed and paused.
    _admin: AdminClient = field(init=False)

    def __post_init__(self) -> None:
        self._admin = AdminClient(
            {"bootstrap.servers": self.cluster.bootstrap_servers, "log_level": 0}
        )

    def kill_process(self, mode: str) -> None:
        victim = self._busy(mode) or self._victim(mode)
        self.fleet.kill(victim)
        self.fleet.wait_started(self.fleet.start(mode))
        self._note("process SIGKILL", victim.name)

    def terminate_process(self, mode: str) -> None:
        victim = self._victim(mode)
        self.fleet.terminate(victim)
        self.fleet.wait_started(self.fleet.start(mode))
        self._note("process SIGTERM", victim.name)

    def _victim(self, mode: str) -> Member:
        """A running process of `mode`; a new one when none runs (all ended unasked: the
        checks report that, and the run goes on)."""
        running = self.fleet.running(mode)
        if running:
            return self.rng.choice(running)
        member = self.fleet.start(mode)
        self.fleet.wait_started(member)
        return member

    def _busy(self, mode: str) -> Member | None:
        """A running process of `mode` caught within milliseconds of handling an event, so that
        killing it leaves that event handled and not yet committed (the services commit once a
        second): it must be redelivered. None when no process of `mode` handles an event within
        `BUSY_WAIT_SECONDS` (a broker outage can hold them all)."""
        sink = self.sinks.get(mode)
        if sink is None:
            return None
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        seen = _size(sink)
        while time.monotonic() < deadline:
            size = _size(sink)
            if size > seen:
                member = self._last_handler(mode, sink, seen, size)
                if member is not None:
                    return member
                seen = size
            time.sleep(BUSY_POLL_SECONDS)
        return None

    def _last_handler(self, mode: str, sink: Path, start: int, end: int) -> Member | None:
        """The running process of `mode` that wrote the last whole line of `sink[start:end]`."""
        with sink.open("rb") as file:
            file.seek(start)
            lines = file.read(end - start).splitlines()
        running = {m.process.pid: m for m in self.fleet.running(mode)}
        for line in reversed(lines):
            try:
                pid = json.loads(line)["pid"]
            except (ValueError, KeyError):  # a line cut by the read, or still being written
                continue
            if pid in running:
                return running[pid]
        return None

    def rebalance_storm(self, members: int) -> None:
        """Extra members join both groups, then leave one after another."""
        extra = [self.fleet.start(("ordered", "unordered")[n % 2]) for n in range(members)]
        for member in extra:
            self.fleet.wait_started(member)
        time.sleep(2.0)  # long enough to be given partitions
        for member in extra:
            self.fleet.terminate(member)
            time.sleep(0.5)
        self._note("rebalance storm", f"{members} members joined and left")

    def kill_broker(self, controller: bool) -> None:
        """SIGKILL of a node leading partitions of the topic (the active controller, or one
        that is not); restarted after `down_seconds`."""
        node = self._pick_node(controller)
        self.cluster.node(node).kill()
        time.sleep(self.down_seconds)
        self.cluster.node(node).restart(timeout=120)
        self._wait_in_sync()
        self._note("broker SIGKILL", self._describe(node, controller))

    def pause_broker(self, controller: bool) -> None:
        """SIGSTOP for longer than the broker session timeout (its leaderships move), then
        SIGCONT."""
        node = self._pick_node(controller)
        self.cluster.node(node).pause()
        time.sleep(self.pause_seconds)
        self.cluster.node(node).resume()
        self._wait_in_sync()
        self._note("broker SIGSTOP", self._describe(node, controller))

    @property
    def last_ended(self) -> float:
        return max((f.ended_at for f in self.done), default=time.monotonic())

    def _note(self, kind: str, target: str) -> None:
        self.done.append(Fault(kind, target, time.monotonic()))  # one append: thread-safe

    def _describe(self, node: int, controller: bool) -> str:
        return f"node {node} ({'active controller' if controller else 'partition leader'})"

    def _pick_node(self, controller: bool) -> int:
        active = active_controller(self.cluster)
        if controller:
            return active
        leaders = self._leaders()
        others = [n for n in leaders if n != active] or leaders
        return max(others, key=leaders.count)

    def _leaders(self) -> list[int]:
        topic = self._admin.list_topics(self.topic, timeout=30).topics[self.topic]
        return [p.leader for p in topic.partitions.values() if p.leader >= 0]

    def _wait_in_sync(self, timeout: float = 120) -> None:
        """Until every partition has all its replicas in sync again: the next broker fault then
        finds two healthy nodes (min ISR 2)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            topics = self._admin.list_topics(timeout=30).topics.values()
            if all(len(p.isrs) == len(p.replicas) for t in topics for p in t.partitions.values()):
                return
            time.sleep(0.5)
        raise TimeoutError(f"replicas still out of sync {timeout:.0f} s after a broker fault")

    def _in_sync(self) -> bool:
        try:
            topics = self._admin.list_topics(timeout=10).topics.values()
        except KafkaException:  # the metadata request timed out: the cluster is not back yet
            return False
        return all(len(p.isrs) == len(p.replicas) for t in topics for p in t.partitions.values())


def _size(path: Path) -> int:
    """Bytes in `path`; 0 before its first line is written."""
    return path.stat().st_size if path.exists() else 0


def active_controller(cluster: LocalKafka) -> int:
    """The KRaft quorum's leader, as the nodes' own quorum-state files record it (the highest
    epoch wins): clients cannot ask a combined-mode cluster which voter leads."""
    best = (-1, -1)
    for node_id in cluster.spec.node_ids():
        state = cluster.home / f"node-{node_id}" / "data" / "__cluster_metadata-0" / "quorum-state"
        try:
            data = json.loads(state.read_text())
        except (OSError, ValueError):
            continue
        epoch, leader = int(data.get("leaderEpoch", -1)), int(data.get("leaderId", -1))
        if leader >= 0 and epoch > best[0]:
            best = (epoch, leader)
    if best[1] < 0:
        raise LookupError(f"no node of {cluster.home} records a quorum leader")
    return best[1]
