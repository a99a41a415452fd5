"""Priority lanes without a broker: declaring them, routing events to them, holding lower lanes
back while higher ones wait, and handler slots going to the higher lane first."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor import naming
from conveyor.events import Event
from conveyor.lanes import LaneGate, LaneRouter, Lanes, UnknownLaneError, lane_topics
from conveyor.lanes.errors import LaneError
from conveyor.publish.message import build_message
from conveyor.runtime.context import EventMeta
from conveyor.runtime.follow_lanes import LaneFollowing
from conveyor.runtime.key_scheduler import KeyScheduler
from conveyor.topology import TopicRole, TopologyFileError, parse
from shop_events import OrderPaid, Priority, UserSignedUp
from tests.project import PROJECT
from tests.samples import order_placed, signup

ORDER_LANES = Lanes(("high", "normal", "low"), default="normal", field="priority")


def _message(event: Any) -> Any:
    return build_message(event, PROJECT.codec, lambda declared: declared)


def _lane_header(message: Any) -> str | None:
    return next((v for k, v in message.headers if k == naming.LANE), None)


def test_default_lane_is_the_topic_itself_and_others_are_topics_of_their_own() -> None:
    assert ORDER_LANES.topics("order.events") == (
        "order.events.lane.high",
        "order.events",
        "order.events.lane.low",
    )
    found = lane_topics({"order.events": ORDER_LANES}, {"order.events": "t-1"})
    assert {t: (lane.lane, lane.rank) for t, lane in found.items()} == {
        "t-1.lane.high": ("high", 0),
        "t-1": ("normal", 1),
        "t-1.lane.low": ("low", 2),
    }


@pytest.mark.parametrize(
    ("names", "default"),
    [
        (("high",), "high"),
        (("high", "high"), "high"),
        (("high", "low"), "normal"),
        (("Hi", "lo"), "lo"),
    ],
)
def test_lanes_that_cannot_work_are_refused(names: tuple[str, ...], default: str) -> None:
    with pytest.raises(LaneError):
        Lanes(names, default=default)


def test_topology_declares_lane_topics_with_the_topics_settings() -> None:
    topology = PROJECT.topology()
    high = topology.topic("order.events.lane.high")
    base = topology.topic("order.events")
    assert high.role is TopicRole.LANE
    assert (high.partitions, high.retention_ms) == (base.partitions, base.retention_ms)
    assert topology.lanes["order.events"] == ORDER_LANES
    assert "user.signup.lane.urgent" in {t.name for t in topology.topics}


def _with_lanes(lanes: dict[str, Any]) -> dict[str, Any]:
    return {
        "defaults": {
            "partitions": 1,
            "replication_factor": 1,
            "min_insync_replicas": 1,
            "retention": "1d",
            "cleanup_policy": "delete",
        },
        "topics": {"t": {"lanes": lanes}},
    }


def test_topology_refuses_a_default_lane_it_does_not_have() -> None:
    with pytest.raises(TopologyFileError, match="default lane"):
        parse(_with_lanes({"names": ["a", "b"], "default": "c"}))


def test_topology_sets_how_soon_a_held_lane_resumes() -> None:
    lanes = {"names": ["a", "b"], "default": "b"}
    assert parse(_with_lanes(lanes)).lanes["t"].resume_after_s == 0.1
    assert parse(_with_lanes(lanes | {"resume_after": "20ms"})).lanes["t"].resume_after_s == 0.02
    with pytest.raises(TopologyFileError, match="resume_after"):
        parse(_with_lanes(lanes | {"resume_after": -1}))


def test_an_event_goes_to_the_lane_its_field_names_unless_a_lane_is_asked_for() -> None:
    router = LaneRouter({"order.events": ORDER_LANES}, {})
    urgent = order_placed()  # priority HIGH
    routed = router.route(_message(urgent), urgent, None)
    assert (routed.topic, _lane_header(routed)) == ("order.events.lane.high", "high")
    asked = router.route(_message(urgent), urgent, "low")
    assert (asked.topic, _lane_header(asked)) == ("order.events.lane.low", "low")
    normal = order_placed().model_copy(update={"priority": Priority.NORMAL}).validated()
    assert router.route(_message(normal), normal, None).topic == "order.events"


def test_a_follow_up_without_a_lane_field_stays_in_the_lane_of_its_cause() -> None:
    router = LaneRouter({"order.events": ORDER_LANES}, {})
    paid = OrderPaid(order_id="o-1", payment_id="p-1", amount=100, currency="EUR")
    routed = router.route(_message(paid), paid, None, inherited="high")
    assert routed.topic == "order.events.lane.high"
    assert router.route(_message(paid), paid, None).topic == "order.events"


class _Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def publish(self, event: Event, *, lane: str | None = None) -> object:
        self.sent.append((type(event).__name__, lane))
        return None


def test_a_plain_services_follow_up_is_published_in_its_causes_lane_by_the_same_rule() -> None:
    """Without transactions the service's publisher routes the follow-up; it is told the lane
    of the event being handled only where the rule takes it: the topic has that lane, and
    neither `lane=` nor the follow-up's lane field decides."""
    recording = _Recording()
    following = LaneFollowing(recording, {"order.events": ORDER_LANES})

    def handling(lane: str | None) -> Any:
        headers = [] if lane is None else [(naming.LANE, lane.encode())]
        return following.publisher_for(EventMeta("t", 0, 0, None, "k", headers))

    paid = OrderPaid(order_id="o-1", payment_id="p-1", amount=100, currency="EUR")
    handling("low").publish(paid)
    handling("urgent").publish(paid)  # order.events has no urgent lane
    handling(None).publish(paid)
    handling("low").publish(paid, lane="high")
    handling("low").publish(order_placed())  # priority HIGH: its field decides
    handling("low").publish(signup("u-1"))  # user.signup has no lanes here
    assert recording.sent == [
        ("OrderPaid", "low"),
        ("OrderPaid", None),
        ("OrderPaid", None),
        ("OrderPaid", "high"),
        ("OrderPlaced", None),
        ("UserSignedUp", None),
    ]


def test_an_unset_lane_field_leaves_the_lane_to_the_next_rule() -> None:
    router = LaneRouter({"user.signup": Lanes(("urgent", "normal"), "normal", field="name")}, {})
    message = _message(signup("u-1"))
    unset = signup("u-1").model_copy(update={"name": None})
    assert router.route(message, unset, None, inherited="urgent").topic == "user.signup.lane.urgent"
    assert router.route(message, unset, None).topic == "user.signup"


def test_unknown_lanes_and_lanes_on_topics_without_lanes_are_refused() -> None:
    router = LaneRouter({"order.events": ORDER_LANES}, {})
    order = order_placed()
    with pytest.raises(UnknownLaneError, match="no lane 'urgent'"):
        router.route(_message(order), order, "urgent")
    user = signup("u-1")
    with pytest.raises(UnknownLaneError, match="has no lanes"):
        router.route(_message(user), user, "high")
    assert isinstance(user, UserSignedUp)


def _gate() -> LaneGate:
    found = lane_topics({"t": Lanes(("high", "low"), default="low", share=0.2, period_s=1.0)})
    spec = Lanes(("high", "low"), default="low", share=0.2, period_s=1.0)
    return LaneGate({topic: (lane, spec) for topic, lane in found.items()})


def test_a_lower_lane_is_held_while_a_higher_one_waits_but_for_its_share() -> None:
    gate = _gate()
    assert gate.update({"t.lane.high"}, now=10.0)
    assert gate.held == {"t"}
    assert not gate.update({"t.lane.high", "t"}, now=10.5)  # held 0.8 s of each second
    assert gate.update({"t.lane.high", "t"}, now=10.85)  # then let through for 0.2 s
    assert gate.held == frozenset()
    assert not gate.update({"t.lane.high", "t"}, now=11.05)  # until its events arrived
    assert not gate.update({"t.lane.high", "t"}, now=11.1, fetched={"t"})  # 0.2 s from then
    assert gate.update({"t.lane.high", "t"}, now=11.31)  # then held again
    assert gate.held == {"t"}
    assert not gate.update({"t.lane.high", "t"}, now=12.0)  # a full hold: 0.8 s from then
    assert gate.update({"t"}, now=11.1)  # nothing above waits: not held
    assert gate.held == frozenset()


def test_a_held_lane_resumes_once_nothing_above_has_waited_for_resume_after() -> None:
    gate = _gate()  # resume_after: 0.1 s
    assert gate.update({"t.lane.high"}, now=10.0)
    assert not gate.update(set(), now=10.05)  # the urgent event handled, the next not there yet
    assert gate.held == {"t"}
    assert not gate.update({"t.lane.high"}, now=10.08)
    assert not gate.update(set(), now=10.17)
    assert gate.update(set(), now=10.19)  # nothing above for 0.1 s: let go
    assert gate.held == frozenset()


def test_a_trickle_of_urgent_events_holds_a_lower_lane_but_for_its_share() -> None:
    """An urgent event every 50 ms, each gone in 10 ms: the lower lane stays held between them
    (its hold's clock running on), and is let through for its share of each second but for the
    updates where an urgent event arrives."""
    gate = _gate()  # share 0.2 of 1 s
    free = []
    for step in range(300):
        now = 10.0 + step / 100
        above = {"t.lane.high"} if step % 5 == 0 else set()
        gate.update(above | {"t"}, now, fetched={"t"}, arrived=above)
        if "t" not in gate.held:
            free.append(step)
    assert free, "the lower lane starved"
    assert min(free) >= 80  # held 0.8 s first
    assert not [step for step in free if step % 5 == 0]  # stepped aside for each arrival
    assert 0.12 < len(free) / 300 < 0.25


def test_in_its_share_a_lower_lane_steps_aside_only_for_new_arrivals_above() -> None:
    gate = _gate()
    both = {"t.lane.high", "t"}
    assert gate.update(both, now=10.0, arrived={"t.lane.high"})
    assert gate.update(both, now=10.85)  # its share
    assert gate.update(both, now=10.9, fetched={"t"}, arrived={"t.lane.high"})  # steps aside
    assert gate.held == {"t"}
    assert gate.update(both, now=10.91)  # the share goes on
    assert gate.held == frozenset()
    assert not gate.update(both, now=11.0)  # a backlog above, waiting all along: no stepping aside


def test_a_higher_lane_takes_a_free_handler_slot_first() -> None:
    scheduler: KeyScheduler[tuple[str, int]] = KeyScheduler(1, ranks=2, rank=lambda item: item[1])
    assert scheduler.offer("a", ("low-a", 1))
    assert not scheduler.offer("b", ("low-b", 1))
    assert not scheduler.offer("c", ("high-c", 0))
    assert list(scheduler.finish("a")) == [("high-c", 0)]
    assert list(scheduler.finish("c")) == [("low-b", 1)]
    assert scheduler.queued == 0


def test_every_nth_handler_slot_goes_to_a_waiting_lower_lane() -> None:
    scheduler: KeyScheduler[str] = KeyScheduler(
        1, ranks=2, rank=lambda item: 1 if item == "low" else 0, share_every=3
    )
    assert scheduler.offer("first", "first")
    for key in ("h0", "h1", "h2", "h3", "low"):
        assert not scheduler.offer(key, key)
    started, running = [], "first"
    for _ in range(4):
        (running,) = scheduler.finish(running)
        started.append(running)
    assert started == ["h0", "h1", "low", "h2"]
