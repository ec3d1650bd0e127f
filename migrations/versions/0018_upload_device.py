"""the device that declared each upload, for the quota of open uploads per device

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachment_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_device', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachment_uploads', schema=None) as batch_op:
        batch_op.drop_column('created_device')
