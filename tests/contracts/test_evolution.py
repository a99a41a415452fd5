"""Old and new schema versions interoperate: each side reads the other's bytes by resolution."""

from __future__ import annotations

import json
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings

from conveyor.codec import AvroCodec, SchemaSet, UnknownEventSchemaError, UnresolvableSchemaError
from shop_events import EVENT_TYPES, UserSignedUp
from tests.contracts import strategies
from tests.project import SCHEMA_DIR, repo_codec

NAME = UserSignedUp.AVRO_NAME


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return repo_codec().schemas


@pytest.fixture(scope="module")
def v1_writer(schemas: SchemaSet) -> AvroCodec:
    return AvroCodec(schemas, event_types=EVENT_TYPES, writer_versions={NAME: 1})


@pytest.fixture(scope="module")
def v1_reader(schemas: SchemaSet) -> AvroCodec:
    return AvroCodec(schemas, event_types=EVENT_TYPES, reader_versions={NAME: 1})


SIGNUP = UserSignedUp(user_id="u-1", email="ada@example.org", name="Ada", referral_code="FRIEND")
SIGNUP_WITHOUT_REFERRAL = SIGNUP.model_copy(update={"referral_code": None}).validated()


def test_the_model_is_at_the_newest_version(schemas: SchemaSet) -> None:
    """The codec writes UserSignedUp with v2, the newest schema, unless told otherwise."""
    assert repo_codec().writer_schema(UserSignedUp).version == 2
    assert [v.version for v in schemas.versions(NAME)] == [1, 2]


def test_every_known_writer_version_tells_its_event_type(v1_writer: AvroCodec) -> None:
    """v1 and v2 bytes alike are told as UserSignedUp from their header, by either codec."""
    for data in (v1_writer.encode(SIGNUP), repo_codec().encode(SIGNUP)):
        assert repo_codec().event_type_of(data) is UserSignedUp
        assert v1_writer.event_type_of(data) is UserSignedUp


def test_v1_reader_reads_v2_bytes(v1_reader: AvroCodec) -> None:
    """A consumer built for v1 reads v2 events; the field it does not know is dropped."""
    data = repo_codec().encode(SIGNUP)

    decoded = v1_reader.decode(data)

    assert decoded == SIGNUP_WITHOUT_REFERRAL


def test_v2_reader_reads_v1_bytes(v1_writer: AvroCodec) -> None:
    """Events written by a v1 producer read as v2 with the new field at its default."""
    data = v1_writer.encode(SIGNUP)

    decoded = repo_codec().decode(data)

    assert data[2:10] == v1_writer.writer_schema(UserSignedUp).fingerprint
    assert data[2:10] != repo_codec().writer_schema(UserSignedUp).fingerprint
    assert decoded == SIGNUP_WITHOUT_REFERRAL


@settings(max_examples=100, deadline=None)
@given(event=strategies.events[UserSignedUp])
def test_any_signup_crosses_versions_both_ways(
    v1_writer: AvroCodec, v1_reader: AvroCodec, event: UserSignedUp
) -> None:
    """Whatever the values, v1->v2 and v2->v1 keep every field both versions share."""
    expected = event.model_copy(update={"referral_code": None}).validated()

    assert repo_codec().decode(v1_writer.encode(event)) == expected
    assert v1_reader.decode(repo_codec().encode(event)) == expected


def test_incompatible_versions_do_not_resolve(tmp_path: Path) -> None:
    """A version that changed a field's type cannot be read by a reader of another version."""
    shutil.copy(SCHEMA_DIR / "users" / "UserSignedUp.v2.avsc", tmp_path)
    broken = json.loads((SCHEMA_DIR / "users" / "UserSignedUp.v1.avsc").read_text())
    broken["fields"][4]["type"] = "int"  # name: string -> int
    (tmp_path / "UserSignedUp.v1.avsc").write_text(json.dumps(broken))
    schemas = SchemaSet.load(tmp_path)
    writer = schemas.versions(NAME)[0]
    body = BytesIO()
    schemaless_writer(body, writer.parsed, SIGNUP.model_dump() | {"name": 42})
    data = b"\xc3\x01" + writer.fingerprint + body.getvalue()

    with pytest.raises(UnresolvableSchemaError, match="UserSignedUp v1 as UserSignedUp v2"):
        AvroCodec(schemas, event_types=EVENT_TYPES).decode(data)


def test_pinning_a_version_that_does_not_exist_fails_at_once(schemas: SchemaSet) -> None:
    """A reader pinned to a missing version is a configuration error, found when built."""
    with pytest.raises(UnknownEventSchemaError, match="version 9"):
        AvroCodec(schemas, event_types=EVENT_TYPES, reader_versions={NAME: 9})
