"""One adapter per system under comparison, each run as its own process.

Every adapter module reads a JSON spec on stdin and prints one JSON result line on stdout (see
`bench.peers.protocol`). Adapters import nothing from conveyor except the conveyor adapter, so the
peers run in their own virtualenv with their own pinned dependencies.
"""
