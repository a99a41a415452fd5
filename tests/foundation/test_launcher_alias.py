"""The launcher's former import path still works for a while, and says where it moved."""

from __future__ import annotations

import importlib
import sys

import pytest

import conveyor.localkafka


def test_the_former_launcher_path_warns_and_gives_the_same_launcher() -> None:
    """`conveyor.kafka` warns that it is deprecated and hands out `conveyor.localkafka`'s names."""
    sys.modules.pop("conveyor.kafka", None)
    with pytest.warns(DeprecationWarning, match=r"conveyor\.localkafka"):
        former = importlib.import_module("conveyor.kafka")

    assert former.LocalKafka is conveyor.localkafka.LocalKafka
    assert set(former.__all__) == set(conveyor.localkafka.__all__)
