"""conveyor: typed domain events on Apache Kafka."""

__version__ = "0.1.0"
