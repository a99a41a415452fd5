"""Schemathesis hooks for the contract test: orders name a user that exists.

A `user_id` the schema allows is swapped for another the schema allows, so a request stays
valid or invalid exactly as generated, and valid orders get past the unknown-user check.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

KNOWN_USER_ENV = "CONVEYOR_CONTRACT_KNOWN_USER"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if case.path == "/orders" and isinstance(body, dict):
        user = body.get("user_id")
        if isinstance(user, str) and 1 <= len(user) <= 200:
            body["user_id"] = os.environ[KNOWN_USER_ENV]
