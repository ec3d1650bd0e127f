"""attachments: uploads and their encrypted chunks

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment_uploads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_uploads'))
    )
    with op.batch_alter_table('attachment_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_uploads_case_id'), ['case_id'], unique=False)
    op.create_table('attachment_chunks',
    sa.Column('attachment_id', sa.Uuid(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('attachment_id', 'idx', name=op.f('pk_attachment_chunks'))
    )
    with op.batch_alter_table('attachment_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_chunks_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attachment_chunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_chunks_case_id'))
    op.drop_table('attachment_chunks')
    with op.batch_alter_table('attachment_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploads_case_id'))
    op.drop_table('attachment_uploads')
