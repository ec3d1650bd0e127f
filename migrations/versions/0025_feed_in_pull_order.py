"""sync: the scope feed keyed by its pull order, so that it is one index to write instead of two

The feed of 0024 had the primary key ``(subject, record_id)`` and a second index ``(subject, position, record_id)``
for the pull, so each entry a trigger made was written twice. Its key is now the pull order itself, ``(subject,
position, record_id)``: a page is a range of the table's own key, and every record written writes one index entry
per subject holding its case instead of two.

An entry is found by its position, which is ``max(version, entered_seq)`` of its record and the subject's scope
membership: a trigger that moves or deletes an entry works that position out from the record's old version and the
membership's ``entered_seq``, which the triggers keep equal to the entry's own.

Positions do not change, so a device's cursor stays valid across this migration.

A later migration that rebuilds ``records`` or ``scope_members`` on SQLite (``batch_alter_table``) drops their
triggers with the old table: it must create them again (``create_triggers`` below).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-11 10:00:00
"""

from __future__ import annotations

from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

# {new}/{old} stand for NEW/OLD; {greatest} is max() on SQLite and GREATEST() on PostgreSQL. An upsert's SELECT
# needs a WHERE on SQLite (each has one).
_ENTER_RECORD = """
INSERT INTO sync_feed (subject, position, record_id, entered_seq)
SELECT m.subject, {greatest}({new}.version, m.entered_seq), {new}.id, m.entered_seq
FROM scope_members m WHERE m.case_id = {new}.case_id
ON CONFLICT (subject, position, record_id) DO UPDATE SET entered_seq = excluded.entered_seq;
"""
_LEAVE_RECORD = """
DELETE FROM sync_feed WHERE (subject, position, record_id) IN (
SELECT m.subject, {greatest}({old}.version, m.entered_seq), {old}.id
FROM scope_members m WHERE m.case_id = {old}.case_id);
"""
_ENTER_MEMBER = """
INSERT INTO sync_feed (subject, position, record_id, entered_seq)
SELECT {new}.subject, {greatest}(r.version, {new}.entered_seq), r.id, {new}.entered_seq
FROM records r WHERE r.case_id = {new}.case_id
ON CONFLICT (subject, position, record_id) DO UPDATE SET entered_seq = excluded.entered_seq;
"""
_LEAVE_MEMBER = """
DELETE FROM sync_feed WHERE subject = {old}.subject AND (position, record_id) IN (
SELECT {greatest}(r.version, {old}.entered_seq), r.id
FROM records r WHERE r.case_id = {old}.case_id);
"""

# (The subject stands outside the list where it is one: SQLite then searches the key by subject and position, not
# the subject's whole feed.)
# trigger name -> (table, event, body); the names are 0024's.
_TRIGGERS = {
    'sync_feed_record_written': ('records', 'AFTER INSERT', _ENTER_RECORD),
    'sync_feed_record_moved': ('records', 'AFTER UPDATE OF version', _LEAVE_RECORD + _ENTER_RECORD),
    'sync_feed_record_gone': ('records', 'AFTER DELETE', _LEAVE_RECORD),
    'sync_feed_member_entered': ('scope_members', 'AFTER INSERT', _ENTER_MEMBER),
    'sync_feed_member_moved': ('scope_members', 'AFTER UPDATE', _LEAVE_MEMBER + _ENTER_MEMBER),
    'sync_feed_member_left': ('scope_members', 'AFTER DELETE', _LEAVE_MEMBER),
}

# 0024's bodies, for the downgrade: the entry found by (subject, record_id).
_OLD_WRITTEN = """
INSERT INTO sync_feed (subject, record_id, position, entered_seq)
SELECT m.subject, {new}.id, {greatest}({new}.version, m.entered_seq), m.entered_seq
FROM scope_members m WHERE m.case_id = {new}.case_id
ON CONFLICT (subject, record_id) DO UPDATE SET position = excluded.position, entered_seq = excluded.entered_seq;
"""
_OLD_GONE = """
DELETE FROM sync_feed WHERE record_id = {old}.id
AND subject IN (SELECT m.subject FROM scope_members m WHERE m.case_id = {old}.case_id);
"""
_OLD_ENTERED = """
INSERT INTO sync_feed (subject, record_id, position, entered_seq)
SELECT {new}.subject, r.id, {greatest}(r.version, {new}.entered_seq), {new}.entered_seq
FROM records r WHERE r.case_id = {new}.case_id
ON CONFLICT (subject, record_id) DO UPDATE SET position = excluded.position, entered_seq = excluded.entered_seq;
"""
_OLD_LEFT = """
DELETE FROM sync_feed WHERE subject = {old}.subject
AND record_id IN (SELECT r.id FROM records r WHERE r.case_id = {old}.case_id);
"""
_OLD_TRIGGERS = {
    'sync_feed_record_written': ('records', 'AFTER INSERT', _OLD_WRITTEN),
    'sync_feed_record_moved': ('records', 'AFTER UPDATE OF version', _OLD_WRITTEN),
    'sync_feed_record_gone': ('records', 'AFTER DELETE', _OLD_GONE),
    'sync_feed_member_entered': ('scope_members', 'AFTER INSERT', _OLD_ENTERED),
    'sync_feed_member_moved': ('scope_members', 'AFTER UPDATE', _OLD_LEFT + _OLD_ENTERED),
    'sync_feed_member_left': ('scope_members', 'AFTER DELETE', _OLD_LEFT),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def create_triggers(triggers: dict[str, tuple[str, str, str]] = _TRIGGERS) -> None:
    """The triggers that keep ``sync_feed``, in the dialect of the migrated database."""
    postgresql = _postgresql()
    for name, (table, event, body) in triggers.items():
        sql = body.format(new='NEW', old='OLD', greatest='GREATEST' if postgresql else 'max')
        if postgresql:
            op.execute(
                f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {sql} RETURN NULL; END $$'
            )
            op.execute(f'CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()')
        else:
            op.execute(f'CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW BEGIN {sql} END')


def drop_triggers() -> None:
    postgresql = _postgresql()
    for name, (table, _, _) in _TRIGGERS.items():
        if postgresql:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')


def _rebuild_on_sqlite(key: str, index: bool) -> None:
    """SQLite cannot change a primary key in place: the feed is copied into a table with the new one."""
    op.execute(
        'CREATE TABLE sync_feed_next (subject CHAR(32) NOT NULL, record_id CHAR(32) NOT NULL, '
        f'position BIGINT NOT NULL, entered_seq BIGINT NOT NULL, CONSTRAINT pk_sync_feed PRIMARY KEY ({key})) '
        'WITHOUT ROWID'
    )
    op.execute(
        'INSERT INTO sync_feed_next (subject, record_id, position, entered_seq) '
        'SELECT subject, record_id, position, entered_seq FROM sync_feed'
    )
    op.execute('DROP TABLE sync_feed')
    op.execute('ALTER TABLE sync_feed_next RENAME TO sync_feed')
    if index:
        op.create_index('ix_sync_feed_position', 'sync_feed', ['subject', 'position', 'record_id'], unique=False)


def upgrade() -> None:
    drop_triggers()
    if _postgresql():
        op.drop_index('ix_sync_feed_position', table_name='sync_feed')
        op.drop_constraint('pk_sync_feed', 'sync_feed', type_='primary')
        op.create_primary_key('pk_sync_feed', 'sync_feed', ['subject', 'position', 'record_id'])
    else:
        _rebuild_on_sqlite('subject, position, record_id', index=False)
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    if _postgresql():
        op.drop_constraint('pk_sync_feed', 'sync_feed', type_='primary')
        op.create_primary_key('pk_sync_feed', 'sync_feed', ['subject', 'record_id'])
        op.create_index('ix_sync_feed_position', 'sync_feed', ['subject', 'position', 'record_id'], unique=False)
    else:
        _rebuild_on_sqlite('subject, record_id', index=True)
    create_triggers(_OLD_TRIGGERS)
