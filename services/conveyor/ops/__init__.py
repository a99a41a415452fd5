"""Operations on a running (or stopped) pipeline, from the broker's state alone.

`status` (lag, retries, parked keys, dead letters), `replay` (move a stopped service's offsets,
recording replay windows), `deadletters` and `redrive` (inspect dead letters and send them back
through one service), `tail` (decode a topic). The CLI in `conveyor.cli` is a thin layer on these.

Besides the declared topology, the commands keep their own small records in Kafka (`names`):
`conveyor.replays` (compacted; group -> replay windows), `<service>.dlq.redriven` (compacted
ledger of redriven dead letters) and, for services without retry tiers, `<service>.redrive`
as the redrive target (it must exist; the first two are created on first use).
"""
