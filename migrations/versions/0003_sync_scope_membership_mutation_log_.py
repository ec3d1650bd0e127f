"""sync: scope membership, mutation log, cursor secret

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:39:18.059671
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mutation_log',
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('mid', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('result', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'mid', name=op.f('pk_mutation_log'))
    )
    with op.batch_alter_table('mutation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mutation_log_created_at'), ['created_at'], unique=False)

    op.create_table('scope_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subject', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('entered', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scope_events'))
    )
    with op.batch_alter_table('scope_events', schema=None) as batch_op:
        batch_op.create_index('ix_scope_events_subject_seq', ['subject', 'seq'], unique=False)

    op.create_table('scope_members',
    sa.Column('subject', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('entered_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'case_id', name=op.f('pk_scope_members'))
    )
    with op.batch_alter_table('scope_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scope_members_case_id'), ['case_id'], unique=False)

    op.create_table('server_secrets',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_server_secrets'))
    )
    with op.batch_alter_table('sync_clock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('horizon', sa.BigInteger(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('sync_clock', schema=None) as batch_op:
        batch_op.drop_column('horizon')

    op.drop_table('server_secrets')
    with op.batch_alter_table('scope_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scope_members_case_id'))

    op.drop_table('scope_members')
    with op.batch_alter_table('scope_events', schema=None) as batch_op:
        batch_op.drop_index('ix_scope_events_subject_seq')

    op.drop_table('scope_events')
    with op.batch_alter_table('mutation_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mutation_log_created_at'))

    op.drop_table('mutation_log')
