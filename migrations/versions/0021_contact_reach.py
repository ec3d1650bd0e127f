"""a contact's reach in clear (reached or an attempt, incoming or outgoing), the statistics of erased cases, and
every case's opening day

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# Contacts and cases stored before this revision hold -1 in ``minutes`` ("not read yet") until the start-up pass
# (server/records/projection.py) reads them: a contact's duration and reach, a case's opening day.
NOT_READ = -1


def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('incoming', sa.Boolean(), nullable=True))
    with op.batch_alter_table('retired_contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('incoming', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('retired_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statistics', sa.JSON(), nullable=True))
    op.execute(
        sa.text("UPDATE records SET minutes = :not_read WHERE kind IN ('contact', 'case')").bindparams(
            not_read=NOT_READ
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('retired_cases', schema=None) as batch_op:
        batch_op.drop_column('statistics')
    with op.batch_alter_table('retired_contacts', schema=None) as batch_op:
        batch_op.drop_column('incoming')
        batch_op.drop_column('reached')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('incoming')
        batch_op.drop_column('reached')
