"""The one way conveyor reads settings from the environment, and documents them.

A settings group is a pydantic model whose fields name their variable (`variable(...)`): the
type, the default and the description live there and nowhere else. `EnvModel.from_env(env)`
reads the mapping given (never `os.environ` by itself) with pydantic-settings, so a model built
in code, `ServiceSettings(max_in_flight=8)`, reads nothing. Comma lists and `a=b,c=d` maps are
parsed by the model's own validators, not as JSON. A bad value raises the group's error naming
the variable, never its value (it may be a secret). `table(...)` renders the groups as the
README's markdown table (`conveyor settings` prints it).

pydantic-settings is imported when a process reads its environment, not when the CLI starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from conveyor.errors import ConveyorError

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0}
_UNIT_NAMES: dict[str, str] = {"ms": "milliseconds", "s": "seconds"}


class SettingsError(ConveyorError):
    """A setting has a bad value; the message names the variable and never holds its value."""


def variable(
    name: str,
    default: Any = ...,
    *,
    description: str,
    example: str,
    unit: str | None = None,
    shown: str | None = None,
    sets: str | None = None,
    given: Mapping[str, str] | None = None,
    secret_file: bool = False,
    keep_empty: bool = False,
    default_factory: Callable[[], Any] | None = None,
    **constraints: Any,
) -> Any:
    """A field read from the environment variable `name`.

    `example` is a valid value other than the default (the documentation test sets it);
    `unit` says the variable is in `ms` or `s` while the field holds seconds (or a timedelta);
    `shown` is the default as the table shows it when the field's own would mislead;
    `sets` the attribute of the built settings it changes when that is not the field itself,
    `given` what else must be set for it to matter; `secret_file` that `<name>_FILE` may name a
    file holding the value instead; `keep_empty` that an empty value is a value, not unset."""
    extra: dict[str, Any] = {
        "example": example,
        "secret_file": secret_file,
        "keep_empty": keep_empty,
    }
    for key, value in (("unit", unit), ("shown", shown), ("sets", sets), ("given", given)):
        if value is not None:
            extra[key] = dict(value) if isinstance(value, Mapping) else value
    if default_factory is not None:
        return Field(
            default_factory=default_factory,
            validation_alias=name,
            description=description,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(
        default,
        validation_alias=name,
        description=description,
        json_schema_extra=extra,
        **constraints,
    )


class EnvModel(BaseModel):
    """A settings group: frozen, built in code by field name or from the environment."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)
    # What a bad value raises; each group names its own.
    settings_error: ClassVar[type[ConveyorError]] = SettingsError

    @model_validator(mode="wrap")
    @classmethod
    def _named_errors(cls, data: Any, handler: Callable[[Any], Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            raise cls.settings_error(describe(exc)) from None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """The group as `env` sets it; an unset or empty variable keeps its default."""
        return cls.model_validate(read(cls, env))


def read(model: type[BaseModel], env: Mapping[str, str]) -> dict[str, Any]:
    """The values `env` holds for `model`'s fields, keyed by variable, units converted and
    `<NAME>_FILE` secrets read."""
    values = _source(model)(env)
    for name, field in model.model_fields.items():
        variable_name = env_name(name, field)
        extra = _extra(field)
        if extra.get("keep_empty") and env.get(variable_name) == "":
            values[variable_name] = ""
        if extra.get("secret_file"):
            _read_secret_file(model, variable_name, env, values)
        unit = extra.get("unit")
        if unit is not None and variable_name in values:
            values[variable_name] = _in_seconds(model, variable_name, values[variable_name], unit)
    return values


def env_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    return alias if isinstance(alias, str) else name


@cache
def _source(model: type[BaseModel]) -> Callable[[Mapping[str, str]], dict[str, Any]]:
    from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

    # pydantic-settings reads a settings class's fields: the model, as one, read from a mapping.
    settings_cls = type(
        f"{model.__name__}FromEnv",
        (BaseSettings, model),
        # no JSON: lists and maps keep their `a,b` and `a=b,c=d` forms, parsed by the model
        {"model_config": SettingsConfigDict(enable_decoding=False)},
    )

    class MappingSource(EnvSettingsSource):
        def __init__(self, env: Mapping[str, str]) -> None:
            self._env = env
            super().__init__(settings_cls, case_sensitive=True, env_ignore_empty=True)

        def _load_env_vars(self) -> Mapping[str, str | None]:
            return {key: value for key, value in self._env.items() if value != ""}

    return lambda env: MappingSource(env)()


def _read_secret_file(
    model: type[BaseModel], name: str, env: Mapping[str, str], values: dict[str, Any]
) -> None:
    path = env.get(f"{name}_FILE")
    if not path:
        return
    if name in values:
        raise _error_of(model)(f"set {name} or {name}_FILE, not both")
    try:
        with open(path, encoding="utf-8") as file:
            values[name] = file.read().strip()
    except OSError as exc:
        raise _error_of(model)(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None


def _in_seconds(model: type[BaseModel], name: str, value: Any, unit: str) -> float:
    try:
        return float(value) * _UNITS[unit]
    except ValueError:
        raise _error_of(model)(f"{name}: expected a number of {_UNIT_NAMES[unit]}") from None


def _error_of(model: type[BaseModel]) -> type[ConveyorError]:
    error = getattr(model, "settings_error", SettingsError)
    return error if isinstance(error, type) else SettingsError


def describe(exc: ValidationError) -> str:
    """pydantic's errors named by variable (or field, for a model built in code), without the
    values, which may be secrets."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


@dataclass(frozen=True)
class Variable:
    """One documented environment variable of a settings group."""

    name: str
    field: str
    default: str
    description: str
    example: str
    sets: str
    given: Mapping[str, str]
    unit: str | None = None


def variables(model: type[BaseModel]) -> list[Variable]:
    """The variables `model` reads, in field order (a secret's `_FILE` variant after it)."""
    found = []
    for name, field in model.model_fields.items():
        if not isinstance(field.validation_alias, str):
            continue
        extra = _extra(field)
        given = extra.get("given", {})
        entry = Variable(
            name=field.validation_alias,
            field=name,
            default=str(extra.get("shown", _shown_default(field, extra.get("unit")))),
            description=field.description or "",
            example=str(extra["example"]),
            sets=str(extra.get("sets", name)),
            given=given,
            unit=extra.get("unit"),
        )
        found.append(entry)
        if extra.get("secret_file"):
            found.append(
                Variable(
                    name=f"{entry.name}_FILE",
                    field=name,
                    default="",
                    description=f"A file holding `{entry.name}` (a mounted secret).",
                    example="",
                    sets=entry.sets,
                    given=given,
                )
            )
    return found


def _shown_default(field: FieldInfo, unit: str | None) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value in ((), {}):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, float) and unit is not None:
        value = value / _UNITS[unit]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def table(groups: Iterable[tuple[str, type[BaseModel]]]) -> str:
    """The markdown table of the groups' variables, one section row per title."""
    lines = ["| Variable | Default | What it sets |", "|---|---|---|"]
    previous = None
    for title, model in groups:
        if title != previous:
            lines.append(f"| **{title}** | | |")
        previous = title
        for entry in variables(model):
            default = f"`{entry.default}`" if entry.default else ""
            description = " ".join(entry.description.split())
            lines.append(f"| `{entry.name}` | {default} | {description} |")
    return "\n".join(lines) + "\n"
