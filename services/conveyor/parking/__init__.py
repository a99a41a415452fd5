"""Parked keys of ordered handlers: in memory for every event, durable in `<service>.parked`."""

from conveyor.parking.codec import PARKED_TOPIC_CONFIG
from conveyor.parking.keys import ParkedKey, ParkedKeys
from conveyor.parking.store import ParkedKeyStore

__all__ = ["PARKED_TOPIC_CONFIG", "ParkedKey", "ParkedKeyStore", "ParkedKeys"]
