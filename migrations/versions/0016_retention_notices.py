"""retention notices: the day each closed case was first announced for erasure

A closed case's clear moment (``records.at``) becomes the moment the server recorded the supervisor's approval; cases
closed before keep the one they have. No case is announced yet: the first housekeeping pass announces those due
within a month, and erases none of them before that month has passed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retention_notices',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_retention_notices'))
    )


def downgrade() -> None:
    op.drop_table('retention_notices')
