"""The TOML tables of the configuration as typed readers: each value checked, each error naming its key."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign.settings import ConfigError, Secret

SECURITY_CHOICES = ("ssl", "starttls", "none")
EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")


class Table:
    """A TOML table with its dotted location, for error messages."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _get(self, name: str, types: type | tuple[type, ...], what: str, default: Any) -> Any:
        if name not in self.data:
            if default is REQUIRED:
                raise ConfigError(f"{self.key(name)}: missing (expected {what})")
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise ConfigError(f"{self.key(name)}: expected {what}, got {value!r}")
        if not isinstance(value, types):
            raise ConfigError(f"{self.key(name)}: expected {what}, got {value!r}")
        return value

    def text(self, name: str, default: Any = None) -> Any:
        value = self._get(name, str, "a string", default)
        if isinstance(value, str) and not value.strip():
            raise ConfigError(f"{self.key(name)}: must not be empty")
        return value

    def integer(self, name: str, default: Any = None, *, minimum: int = 0) -> Any:
        value = self._get(name, int, "an integer", default)
        if isinstance(value, int) and value < minimum:
            raise ConfigError(f"{self.key(name)}: must be at least {minimum}, got {value}")
        return value

    def str_list(self, name: str, default: Any = None) -> Any:
        value = self._get(name, list, "a list of strings", default)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not item.strip():
                    raise ConfigError(f"{self.key(name)}: every item must be a non-empty string, got {item!r}")
            return tuple(value)
        return value

    def table(self, name: str, *, required: bool = True) -> Table:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(f"{self.key(name)}: missing table [{self.key(name)}]")
            return Table({}, self.key(name))
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(name)}: expected a table")
        return Table(value, self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self.data.get(name)
        if value is None:
            raise ConfigError(f"{self.key(name)}: missing (expected one or more [[{name}]] tables)")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{self.key(name)}: expected an array of tables [[{name}]]")
        return [Table(v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def unknown(self, allowed: set[str]) -> None:
        if "password" in self.data and "password_env" in allowed:
            raise ConfigError(
                f"{self.key('password')}: passwords are never read from the configuration file; "
                "name an environment variable in password_env (or a file in password_file)"
            )
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise ConfigError(f"{self.key(extra[0])}: unknown key (allowed: {', '.join(sorted(allowed))})")


REQUIRED: Any = object()


def security(table: Table, default: str) -> str:
    value = table.text("security", default)
    if value not in SECURITY_CHOICES:
        raise ConfigError(f"{table.key('security')}: must be one of {', '.join(SECURITY_CHOICES)}, got {value!r}")
    return str(value)


def secret(table: Table, base: Path) -> Secret:
    env = table.text("password_env", None)
    file = table.text("password_file", None)
    if "password" in table.data:
        raise ConfigError(
            f"{table.key('password')}: passwords are never read from the configuration file; "
            "name an environment variable in password_env (or a file in password_file)"
        )
    if env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise ConfigError(f"{table.key('password_env')}: not a valid environment variable name: {env!r}")
    return Secret(env=env, file=(base / file) if file else None)


def address(table: Table, name: str, default: Any = REQUIRED) -> Any:
    value = table.text(name, default)
    if value is not None and not EMAIL.match(value):
        raise ConfigError(f"{table.key(name)}: not an email address: {value!r}")
    return value


def date_value(table: Table, name: str) -> dt.date | None:
    value = table.data.get(name)
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ConfigError(f"{table.key(name)}: expected a date like 2020-08-20, got {value!r}")
    return value
