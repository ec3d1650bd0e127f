"""a contact's duration in minutes in clear, for counting counselling time without decrypting every contact

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Contacts stored before this revision hold -1 ("not read yet") until the start-up pass
# (server/records/projection.py) reads their duration from the encrypted fields.
NOT_READ = -1


def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minutes', sa.Integer(), nullable=True))
    op.execute(sa.text("UPDATE records SET minutes = :not_read WHERE kind = 'contact'").bindparams(not_read=NOT_READ))


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('minutes')
