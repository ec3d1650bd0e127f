"""The raw baseline the benchmarks compare with: a table of exactly the records' shape and indexes."""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from server.records.models import Record

__all__ = ["records_shaped_table"]


def records_shaped_table(name: str) -> Table:
    """A copy of ``records`` named ``name``, with its own constraint and index names."""
    table = Record.__table__.to_metadata(MetaData(), name=name)
    table.primary_key.name = f"pk_{name}"
    for index in list(table.indexes):
        index.name = f"{name}_{index.name}"
    return table
