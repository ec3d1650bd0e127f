"""referrals from property management: the team's inbox, the referrer's course, repeats by contract number

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_by', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('contract_token', sa.LargeBinary(length=32), nullable=True),
    sa.Column('decline_reason', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('blob', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_referrals'))
    )
    with op.batch_alter_table('intake_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_referrals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_referrals_submitted_by'), ['submitted_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_referrals_contract_token'), ['contract_token'], unique=False)
        batch_op.create_index('ix_intake_referrals_team_status', ['team_id', 'status'], unique=False)
    op.create_table('intake_files',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_files'))
    )
    with op.batch_alter_table('intake_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_files_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    op.drop_table('intake_files')
    op.drop_table('intake_referrals')
