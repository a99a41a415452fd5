"""The text fields of the HTTP contract, each validated by exactly the pattern its schema shows.

The patterns use only explicit character ranges (no `\\w`, `\\s` or `\\d`, whose meaning differs
between Python, pydantic's Rust engine and the ECMA dialect OpenAPI clients use), so a string
the published schema allows is one the gateway accepts and the other way round.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from conveyor.events.fields import INT_MAX, LONG_MAX

# An ASCII address: a dot-atom local part (RFC 5322) at a domain of two or more LDH labels.
# Addresses with non-ASCII characters (RFC 6531) are refused: the mail path is not set up for them.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@{_LABEL}(?:\.{_LABEL})+$"

# C0 and C1 control characters, DEL, and the line and paragraph separators.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# The blanks stripped from either end of a name: the space separators (Unicode Zs).
_BLANK = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# Free text: no control character, and at least one character that is not blank.
TEXT_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_BLANK}][^{_CONTROL}]*$"
_CONTROLS = re.compile(rf"[{_CONTROL}]")
_BLANKS = re.compile(rf"^[{_BLANK}]+|[{_BLANK}]+$")
# A code: visible ASCII only.
CODE_PATTERN = r"^[!-~]+$"

# Bounds that keep an order's total (sum of quantity x unit price over at most MAX_ITEMS items)
# within Avro's long, so no order the schema allows is refused for its total.
MAX_ITEMS = 1000
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = LONG_MAX // (MAX_ITEMS * MAX_QUANTITY)
assert MAX_QUANTITY <= INT_MAX


def _text(value: str) -> str:
    """Check `TEXT_PATTERN` with an error that says what is wrong, then strip the blanks from
    the ends and compose (NFC), so the same name is always stored the same way."""
    _encodable(value)
    if _CONTROLS.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    stripped = _BLANKS.sub("", value)
    if not stripped:
        raise PydanticCustomError("blank", "must contain a character that is not blank")
    return unicodedata.normalize("NFC", stripped)


def _encodable(value: str) -> str:
    """Refuse lone surrogates (JSON can carry them as escapes; UTF-8 cannot)."""
    value.encode("utf-8")  # UnicodeEncodeError is a ValueError: pydantic answers 422
    return value


Email = Annotated[str, StringConstraints(max_length=320, pattern=EMAIL_PATTERN)]
Text = Annotated[
    str,
    StringConstraints(max_length=200),
    AfterValidator(_text),
    Field(
        description="Free text without control characters; blanks at the ends are stripped.",
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_encodable)]


def _json_integer(value: object) -> object:
    """JSON Schema's "integer": 3 and 3.0 are, true and "3" are not (pydantic's lax mode would
    take those, its strict mode refuses 3.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# (The constraints come before the validator, or they leave the JSON schema.)
Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY), BeforeValidator(_json_integer)]
UnitPrice = Annotated[
    int,
    Field(strict=True, ge=0, le=MAX_UNIT_PRICE, description="Minor units of the currency."),
    BeforeValidator(_json_integer),
]
