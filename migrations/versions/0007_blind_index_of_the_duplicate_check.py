"""blind index of the duplicate check

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blind_index',
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('token', sa.LargeBinary(length=32), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('record_id', 'token', name=op.f('pk_blind_index'))
    )
    with op.batch_alter_table('blind_index', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blind_index_token'), ['token'], unique=False)
        batch_op.create_index(batch_op.f('ix_blind_index_case_id'), ['case_id'], unique=False)

    op.create_table('blind_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.LargeBinary(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blind_index_state'))
    )


def downgrade() -> None:
    op.drop_table('blind_index_state')
    with op.batch_alter_table('blind_index', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blind_index_case_id'))
        batch_op.drop_index(batch_op.f('ix_blind_index_token'))
    op.drop_table('blind_index')
