"""Bringing the cluster's ACLs and SCRAM users to what `rules.derive` says, idempotently.

The cluster is described first; only missing bindings are created. Bindings of conveyor's
principals that the topology no longer needs are shown and removed only when asked (`prune`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # the stubs do not re-export them
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from pydantic import SecretStr

from conveyor.acls.rules import Grant, Operation, Pattern, Resource
from conveyor.clients.contact import QUIET
from conveyor.errors import ConveyorError

SCRAM_ITERATIONS = 8192


class AclApplyError(ConveyorError):
    """The cluster refused to describe, create or delete ACLs, or to upsert a SCRAM user."""


@dataclass(frozen=True)
class AclPlan:
    """What to add (derived, not on the cluster) and what is extra (on it, no longer derived)."""

    add: tuple[Grant, ...]
    extra: tuple[Grant, ...]

    def lines(self) -> list[str]:
        return [f"+ {g}" for g in self.add] + [f"- {g}" for g in self.extra]


def plan(desired: Iterable[Grant], current: Iterable[Grant]) -> AclPlan:
    wanted, present = set(desired), set(current)
    return AclPlan(add=tuple(sorted(wanted - present)), extra=tuple(sorted(present - wanted)))


def _fields(grant: Grant) -> tuple[Any, ...]:
    return (
        ResourceType[grant.resource.value],
        grant.name,
        ResourcePatternType[grant.pattern.value],
        grant.principal,
        "*",
        AclOperation[grant.operation.value],
        AclPermissionType.ALLOW,
    )


def binding(grant: Grant) -> AclBinding:
    return AclBinding(*_fields(grant))


def exact_filter(grant: Grant) -> AclBindingFilter:
    """A filter matching this grant's binding only."""
    return AclBindingFilter(*_fields(grant))


def grant_of(found: AclBinding) -> Grant | None:
    """The grant an ALLOW binding from any host expresses (None for any other binding, which
    conveyor neither derives nor touches)."""
    if found.permission_type != AclPermissionType.ALLOW or found.host != "*":
        return None
    try:
        return Grant(
            principal=found.principal,
            resource=Resource(_name(found.restype)),
            name=found.name,
            pattern=Pattern(_name(found.resource_pattern_type)),
            operation=Operation(_name(found.operation)),
        )
    except ValueError:
        return None


def _name(value: Enum | str | int) -> str:
    """The enum member's name (the stubs allow the str and int forms the constructor takes)."""
    return value.name if isinstance(value, Enum) else str(value)


class AclAdmin:
    """The ACL and SCRAM side of an admin client (the caller's client settings included)."""

    def __init__(self, client_settings: Mapping[str, Any], timeout: float = 15.0) -> None:
        self._admin = AdminClient({**client_settings, **QUIET})
        self.timeout = timeout

    def current(self, principals: Iterable[str]) -> set[Grant]:
        found: set[Grant] = set()
        for principal in principals:
            query = AclBindingFilter(
                ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,  # type: ignore[arg-type]  # None matches any name and host
                AclOperation.ANY, AclPermissionType.ANY,
            )  # fmt: skip
            bindings = self._wait(self._admin.describe_acls(query, request_timeout=self.timeout))
            found |= {g for g in map(grant_of, bindings) if g is not None}
        return found

    def create(self, grants: Iterable[Grant]) -> None:
        bindings = [binding(g) for g in grants]
        if bindings:
            futures = self._admin.create_acls(bindings, request_timeout=self.timeout)
            for future in futures.values():
                self._wait(future)

    def delete(self, grants: Iterable[Grant]) -> None:
        filters = [exact_filter(g) for g in grants]
        if filters:
            futures = self._admin.delete_acls(filters, request_timeout=self.timeout)
            for future in futures.values():
                self._wait(future)

    def upsert_users(self, passwords: Mapping[str, SecretStr]) -> None:
        """Create or update a SCRAM-SHA-512 credential per user."""
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        upserts: list[Any] = [
            UserScramCredentialUpsertion(name, info, secret.get_secret_value().encode())
            for name, secret in sorted(passwords.items())
        ]
        if upserts:
            futures = self._admin.alter_user_scram_credentials(
                upserts, request_timeout=self.timeout
            )
            for future in futures.values():
                self._wait(future)

    def _wait(self, future: Future[Any]) -> Any:
        try:
            return future.result(timeout=self.timeout + 5)
        except KafkaException as exc:
            raise AclApplyError(f"the cluster refused: {exc.args[0].str()}") from None
        except TimeoutError:
            raise AclApplyError(f"no answer from the cluster within {self.timeout:g}s") from None


def apply(
    desired: Iterable[Grant],
    principals: Iterable[str],
    admin: AclAdmin,
    *,
    dry_run: bool = False,
    prune: bool = False,
    report: Callable[[str], None] = print,
) -> AclPlan:
    """Describe the principals' ACLs, report the difference, then create what is missing (and
    delete what is extra when `prune`), unless `dry_run`."""
    planned = plan(desired, admin.current(principals))
    for line in planned.lines():
        report(line)
    if not dry_run:
        admin.create(planned.add)
        if prune:
            admin.delete(planned.extra)
    return planned
