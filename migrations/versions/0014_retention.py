"""retention: anonymous lines of erased cases and their contacts, for the reports of past years

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retired_cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('first_contact_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('retired_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retired_cases'))
    )
    with op.batch_alter_table('retired_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_cases_team_id'), ['team_id'], unique=False)
    op.create_table('retired_contacts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('timed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retired_contacts'))
    )
    with op.batch_alter_table('retired_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_contacts_team_id'), ['team_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retired_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_contacts_team_id'))
    op.drop_table('retired_contacts')
    with op.batch_alter_table('retired_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_cases_team_id'))
    op.drop_table('retired_cases')
