"""organisation region: country and Land, for legal deadlines and public holidays

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), server_default='DE', nullable=False))
        batch_op.add_column(sa.Column('subdivision', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('subdivision')
        batch_op.drop_column('country')
