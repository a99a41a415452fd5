"""What every Kafka client conveyor creates shares."""
