"""sync: the scope feed, each subject's changes in pull order, kept by triggers on records and scope_members

A pull page was found by ordering the whole remaining scope by each record's position (the later of its version
and its case's entry into the scope), which no index held. The feed holds that position per subject and record,
so that a page is one range of an index. Triggers keep it, on SQLite and on PostgreSQL alike, so that no writer
(a push, the bulk writer, an import, a shred, the housekeeping) can leave it behind.

A later migration that rebuilds ``records`` or ``scope_members`` on SQLite (``batch_alter_table``) drops their
triggers with the old table: it must create them again (``create_triggers`` below).

Positions are the ones the cursors already name, so a device's cursor stays valid across this migration.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# What each trigger does, in both dialects' words: {greatest} is max() on SQLite, GREATEST() on PostgreSQL.
_RECORD_WRITTEN = """
INSERT INTO sync_feed (subject, record_id, position, entered_seq)
SELECT m.subject, {new}.id, {greatest}({new}.version, m.entered_seq), m.entered_seq
FROM scope_members m WHERE m.case_id = {new}.case_id
ON CONFLICT (subject, record_id) DO UPDATE SET position = excluded.position, entered_seq = excluded.entered_seq;
"""
_RECORD_GONE = """
DELETE FROM sync_feed WHERE record_id = {old}.id
AND subject IN (SELECT m.subject FROM scope_members m WHERE m.case_id = {old}.case_id);
"""
_MEMBER_ENTERED = """
INSERT INTO sync_feed (subject, record_id, position, entered_seq)
SELECT {new}.subject, r.id, {greatest}(r.version, {new}.entered_seq), {new}.entered_seq
FROM records r WHERE r.case_id = {new}.case_id
ON CONFLICT (subject, record_id) DO UPDATE SET position = excluded.position, entered_seq = excluded.entered_seq;
"""
_MEMBER_LEFT = """
DELETE FROM sync_feed WHERE subject = {old}.subject
AND record_id IN (SELECT r.id FROM records r WHERE r.case_id = {old}.case_id);
"""

# trigger name -> (table, event, body)
_TRIGGERS = {
    'sync_feed_record_written': ('records', 'AFTER INSERT', _RECORD_WRITTEN),
    'sync_feed_record_moved': ('records', 'AFTER UPDATE OF version', _RECORD_WRITTEN),
    'sync_feed_record_gone': ('records', 'AFTER DELETE', _RECORD_GONE),
    'sync_feed_member_entered': ('scope_members', 'AFTER INSERT', _MEMBER_ENTERED),
    'sync_feed_member_moved': ('scope_members', 'AFTER UPDATE', _MEMBER_LEFT + _MEMBER_ENTERED),
    'sync_feed_member_left': ('scope_members', 'AFTER DELETE', _MEMBER_LEFT),
}


def create_triggers() -> None:
    """The triggers that keep ``sync_feed``, in the dialect of the migrated database."""
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name, (table, event, body) in _TRIGGERS.items():
        # {old}/{new} stand for OLD/NEW; an upsert's SELECT on SQLite needs its WHERE (it has one).
        sql = body.format(new='NEW', old='OLD', greatest='GREATEST' if postgresql else 'max')
        if postgresql:
            op.execute(
                f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {sql} RETURN NULL; END $$'
            )
            op.execute(f'CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()')
        else:
            op.execute(f'CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW BEGIN {sql} END')


def drop_triggers() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name, (table, _, _) in _TRIGGERS.items():
        if postgresql:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')


def upgrade() -> None:
    op.create_table(
        'sync_feed',
        sa.Column('subject', sa.Uuid(), nullable=False),
        sa.Column('record_id', sa.Uuid(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('entered_seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('subject', 'record_id', name=op.f('pk_sync_feed')),
        # On SQLite the primary key is the table itself: one b-tree fewer to write with every record.
        sqlite_with_rowid=False,
    )
    op.create_index('ix_sync_feed_position', 'sync_feed', ['subject', 'position', 'record_id'], unique=False)
    greatest = 'GREATEST' if op.get_bind().dialect.name == 'postgresql' else 'max'
    # Every record of every case in scope, at the position the pull has always given it.
    op.execute(
        'INSERT INTO sync_feed (subject, record_id, position, entered_seq) '
        f'SELECT m.subject, r.id, {greatest}(r.version, m.entered_seq), m.entered_seq '
        'FROM scope_members m JOIN records r ON r.case_id = m.case_id'
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_index('ix_sync_feed_position', table_name='sync_feed')
    op.drop_table('sync_feed')
