"""one sync clock and one audit chain per organisation, so that organisations never wait for each other

Every organisation's clock starts where the single clock stood (with its horizon), so every cursor handed out
before stays valid. The audit entries written so far stay in the installation's chain (``chain`` empty), which
verifies as before; each organisation's chain starts empty.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_GENESIS = "0" * 64


def _append_only_triggers() -> None:
    """SQLite's rebuild of audit_log drops its triggers: make them again (PostgreSQL alters in place)."""
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table('sync_clocks',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('horizon', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_sync_clocks'))
    )
    op.execute(
        "INSERT INTO sync_clocks (organisation_id, seq, horizon) "
        "SELECT o.id, c.seq, c.horizon FROM organisations o CROSS JOIN sync_clock c WHERE c.id = 1"
    )
    op.drop_table('sync_clock')

    op.create_table('audit_heads',
    sa.Column('chain', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_heads'))
    )
    op.execute("INSERT INTO audit_heads (chain, seq, hash) SELECT '', seq, hash FROM audit_head WHERE id = 1")
    op.drop_table('audit_head')

    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=36), server_default='', nullable=False))
        batch_op.drop_constraint('pk_audit_log', type_='primary')
        batch_op.create_primary_key('pk_audit_log', ['chain', 'seq'])
    if sqlite:
        _append_only_triggers()


def downgrade() -> None:
    # Only an installation whose organisations have written nothing since can go back without losing entries.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('pk_audit_log', type_='primary')
        batch_op.create_primary_key('pk_audit_log', ['seq'])
        batch_op.drop_column('chain')
    if sqlite:
        _append_only_triggers()
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM audit_heads WHERE chain = ''")
    op.execute(f"INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, '{_GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audit_head)")
    op.drop_table('audit_heads')
    op.create_table('sync_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('horizon', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_clock'))
    )
    op.execute(
        "INSERT INTO sync_clock (id, seq, horizon) "
        "SELECT 1, COALESCE(MAX(seq), 0), COALESCE(MAX(horizon), 0) FROM sync_clocks"
    )
    op.drop_table('sync_clocks')
