"""Rows for every table of a schema read from the database itself (reflection), so that any schema
revision, today's or a later one, can be filled: several rows a table, foreign keys that point to
rows that exist, NULLs, non-ASCII text, JSON, and the values of the enums the models know."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, MetaData, Table

from store.models import Base

ROWS = 5
Rows = dict[str, list[dict[str, Any]]]


def reflect(conn: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(conn)
    meta.remove(meta.tables["alembic_version"])
    return meta


def _enum_values(table: str, column: str) -> list[str] | None:
    model = Base.metadata.tables.get(table)
    if model is None or column not in model.c or not isinstance(model.c[column].type, sa.Enum):
        return None
    return list(model.c[column].type.enums)


def _text(table: str, column: str, i: int, length: int | None) -> str:
    value = f"{i}·{table}.{column} 西宁市总工会「线下活动」第{i}场 ✓ café"
    return value[:length] if length else value


def _value(table: Table, column: sa.Column[Any], i: int) -> Any:
    kind = column.type
    enums = _enum_values(table.name, column.name)
    if enums is not None:
        return enums[i % len(enums)]
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return 1000 * i + sum(map(ord, column.name)) % 997
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2020, 8, 1 + i, 9, 30 + i, 15, 123456 * (i + 1) % 1_000_000)
    if isinstance(kind, sa.Date):
        return dt.date(2020, 8, 1 + i)
    if isinstance(kind, sa.JSON):
        return [] if i == 3 else [f"第{i}条：照片不足 “引号”", {"n": i, "单位": "海南州总工会", "ok": i % 2 == 0}]
    if isinstance(kind, sa.String):
        return _text(table.name, column.name, i, getattr(kind, "length", None))
    raise TypeError(f"no value for {table.name}.{column.name} of type {kind!r}")


def fill(conn: Connection, meta: MetaData) -> Rows:
    """Insert ROWS rows into every table, parents first; returns what was inserted, by table."""
    made: Rows = {}
    for table in meta.sorted_tables:
        rows: list[dict[str, Any]] = []
        for i in range(ROWS):
            row: dict[str, Any] = {}
            for column in table.columns:
                fks = list(column.foreign_keys)
                if fks:
                    target = fks[0].column
                    if target.table.name == table.name:  # points to an earlier row of its own table
                        row[column.name] = rows[i - 1][target.name] if i else None
                    else:
                        row[column.name] = made[target.table.name][i % ROWS][target.name]
                elif column.primary_key and isinstance(column.type, sa.Integer):
                    row[column.name] = i + 1
                elif column.nullable and i % 3 == 1:
                    row[column.name] = None
                else:
                    row[column.name] = _value(table, column, i)
            conn.execute(table.insert().values(**row))
            rows.append(row)
        made[table.name] = rows
    advance_sequences(conn, meta)
    return made


def advance_sequences(conn: Connection, meta: MetaData) -> None:
    """On PostgreSQL, move each serial key's sequence past the ids given explicitly."""
    if conn.dialect.name != "postgresql":
        return
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, sa.Integer) and len(table.primary_key.columns) == 1:
                seq = conn.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                )
                name = seq.scalar()
                if name:
                    top = f'SELECT COALESCE(MAX("{column.name}"), 0) + 1 FROM "{table.name}"'
                    conn.execute(sa.text(f"SELECT setval(:s, ({top}), false)"), {"s": name})


def read(conn: Connection, meta: MetaData) -> Rows:
    """Every row of every table of meta, in key order, as read through meta's column types."""
    out: Rows = {}
    for table in meta.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        out[table.name] = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*order))]
    return out


def kept(before: Rows, after: Rows) -> list[str]:
    """Every difference between the rows before and after, for the columns that existed before."""
    problems: list[str] = []
    for name, rows in before.items():
        now = after.get(name)
        if now is None:
            problems.append(f"table {name} is gone")
            continue
        if len(now) != len(rows):
            problems.append(f"{name}: {len(rows)} rows before, {len(now)} after")
            continue
        for old, new in zip(rows, now, strict=True):
            for column, value in old.items():
                if column not in new:
                    problems.append(f"{name}.{column} is gone")
                elif new[column] != value:
                    problems.append(f"{name}.{column}: {value!r} became {new[column]!r}")
    return problems
