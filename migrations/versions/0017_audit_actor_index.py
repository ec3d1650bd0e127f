"""an index of the audit log by actor, action and moment, for the duplicate check's limit per user

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_log_actor_action_at', 'audit_log', ['actor_id', 'action', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_actor_action_at', table_name='audit_log')
