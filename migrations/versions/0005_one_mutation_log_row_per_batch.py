"""one mutation_log row per push batch

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 01:55:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mutation_log_batches",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("first_mid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_mid", sa.BigInteger(), nullable=False),
        sa.Column("results", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "first_mid", name=op.f("pk_mutation_log_batches")),
    )
    # Every stored result becomes a batch of one, so replays of old mids keep their first answers.
    if op.get_bind().dialect.name == "postgresql":
        wrapped = "'\\x5b'::bytea || result || '\\x5d'::bytea"
    else:
        wrapped = "CAST('[' || CAST(result AS TEXT) || ']' AS BLOB)"
    op.execute(
        "INSERT INTO mutation_log_batches (device_id, first_mid, last_mid, results, created_at) "
        f"SELECT device_id, mid, mid, {wrapped}, created_at FROM mutation_log"
    )
    with op.batch_alter_table("mutation_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mutation_log_created_at"))
    op.drop_table("mutation_log")
    op.rename_table("mutation_log_batches", "mutation_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mutation_log RENAME CONSTRAINT pk_mutation_log_batches TO pk_mutation_log")
    with op.batch_alter_table("mutation_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mutation_log_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT device_id, results, created_at FROM mutation_log")).all()
    with op.batch_alter_table("mutation_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mutation_log_created_at"))
    op.drop_table("mutation_log")
    op.create_table(
        "mutation_log",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("mid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "mid", name=op.f("pk_mutation_log")),
    )
    with op.batch_alter_table("mutation_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mutation_log_created_at"), ["created_at"], unique=False)
    # Values go back exactly as they were read (no type conversion on the way).
    insert = sa.text("INSERT INTO mutation_log (device_id, mid, result, created_at) VALUES (:d, :m, :r, :t)")
    for device_id, results, created_at in rows:
        for item in json.loads(bytes(results)):
            bind.execute(insert, {"d": device_id, "m": item["mid"], "r": json.dumps(item).encode(), "t": created_at})
