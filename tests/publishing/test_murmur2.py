"""conveyor's murmur2 (`conveyor.ops.partitioner`, which finds a key's partition) matches the
values Kafka's Java client documents in its tests."""

from __future__ import annotations

import pytest

from conveyor.ops.partitioner import murmur2


@pytest.mark.parametrize(
    ("text", "java_int"),
    [
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ("abc", 479470107),
    ],
)
def test_murmur2_matches_java_utils_murmur2(text: str, java_int: int) -> None:
    """murmur2 of these bytes equals Java's `Utils.murmur2` (a signed int there)."""
    assert murmur2(text.encode()) == java_int & 0xFFFFFFFF
