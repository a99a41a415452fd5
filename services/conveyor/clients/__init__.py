"""What every Kafka client conveyor creates shares: how it connects (`config`), which errors are
transient and how they are waited out, librdkafka's log lines in the structured log stream, and
the one way a topic is read back to its end (`reader`)."""

from conveyor.clients.errors import KafkaUnavailableError, TopicReadError
from conveyor.clients.logs import admin_client, with_logs
from conveyor.clients.transient import is_transient, kafka_error_of
from conveyor.clients.waiting import Outage, Readiness, wait_out

__all__ = [
    "KafkaUnavailableError",
    "Outage",
    "Readiness",
    "TopicReadError",
    "admin_client",
    "is_transient",
    "kafka_error_of",
    "wait_out",
    "with_logs",
]
