"""Attachment bytes: a resumable, idempotent upload in the spirit of tus, and the download.

The protocol (docs/sync-protocol.md "Attachments"):

* ``POST /api/attachments/{id}/upload`` declares case, size, SHA-256 and content type; the same declaration again
  answers the current state, so a client that lost the answer simply sends it again;
* ``PATCH`` with ``Upload-Offset`` appends one chunk at exactly the offset the server holds; a chunk the server
  already has (same offset, same bytes) is a harmless replay; any other offset is ``409`` with the server's offset;
* ``GET .../upload`` answers the offset after a failure;
* the chunk that reaches the declared size is checked with the whole file's SHA-256: a mismatch drops every chunk
  and answers ``422``; only a complete, verified upload can ever be downloaded.

Every chunk is sealed with the case's data key (AES-GCM; the associated data binds attachment id, chunk index, case
and key id), so erasing the case's key makes every chunk unreadable with the rest of the case. Scope and audit are
the records' own: a case outside the caller's scope is ``404``; uploads and downloads are audited per case.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.schemas import Principal
from server.crypto import DecryptionError, open_blob, seal
from server.db import begin_write, utcnow
from server.problems import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unprocessable,
    ValidationFailed,
)
from server.records import entitlement
from server.records.documents import MAX_ATTACHMENT_BYTES, ContentType, Sha256, sniff
from server.records.keyring import CaseShredded, DataKey, Keyring
from server.records.models import AttachmentChunk, AttachmentUpload, Record
from server.records.quota import UploadQuota, within_quota
from server.records.scope import in_scope, may_send_file
from server.records.store import RecordStore

__all__ = [
    "MAX_CHUNK_BYTES",
    "AttachmentTooLarge",
    "Download",
    "UploadOffsetMismatch",
    "UploadSpec",
    "UploadState",
    "Uploads",
    "WrongContent",
    "chunk_aad",
]

# A chunk is at most 2 MiB: small enough to resend cheaply on a poor line, large enough to keep requests few.
MAX_CHUNK_BYTES = 2 * 1024 * 1024


class AttachmentTooLarge(PayloadTooLarge):
    """The declared file, or one chunk, is larger than allowed."""

    name = "attachment-too-large"
    title = "The file is too large"


class WrongContent(Problem):
    """The content type is not one Doorstep keeps, or the bytes are not what the declared type says."""

    status = 415
    name = "attachment-type"
    title = "This kind of file is not accepted"


class UploadOffsetMismatch(Problem):
    """The chunk does not start where the server's copy ends; ``Upload-Offset`` says where that is."""

    status = 409
    name = "upload-offset"
    title = "The chunk does not continue the upload"


class HashMismatch(Unprocessable):
    """The whole file does not have the declared SHA-256; every chunk was dropped."""

    name = "upload-hash-mismatch"
    title = "The file does not match its hash"


class NotUploaded(Problem):
    """The attachment is recorded but its bytes have not all arrived yet."""

    status = 409
    name = "attachment-pending"
    title = "The file has not been uploaded yet"


class UploadSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The declaration that opens an upload (a size over the limit is refused as ``413 attachment-too-large``)."""

    case_id: uuid.UUID
    size: Annotated[int, msgspec.Meta(ge=1)]
    sha256: Sha256
    content_type: ContentType


class UploadState(msgspec.Struct, kw_only=True, frozen=True):
    """Where an upload stands: ``offset`` bytes of ``size`` received; ``complete`` once verified."""

    id: uuid.UUID
    case_id: uuid.UUID
    size: int
    offset: int
    complete: bool
    chunk_size: int = MAX_CHUNK_BYTES

    @classmethod
    def of(cls, row: AttachmentUpload) -> UploadState:
        return cls(id=row.id, case_id=row.case_id, size=row.size, offset=row.received, complete=row.complete)


class Download(msgspec.Struct, kw_only=True, frozen=True):
    """The verified bytes of an attachment and what the response needs to say about them."""

    content: bytes
    content_type: str
    sha256: str
    filename: str


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


# What an upload id that is unknown, or someone else's, is answered with: the same words for both.
UNKNOWN_UPLOAD = "No upload under this id in your cases; declare it with POST first."


def chunk_aad(attachment_id: uuid.UUID, idx: int, case_id: uuid.UUID, dek_id: uuid.UUID) -> bytes:
    """``attachment|id|chunk index|case id|dek id``: the place a chunk's ciphertext is bound to."""
    return f"attachment|{attachment_id}|{idx}|{case_id}|{dek_id}".encode()


def _check_spec(spec: UploadSpec) -> None:
    if spec.size > MAX_ATTACHMENT_BYTES:
        raise AttachmentTooLarge(f"A file may have at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB.", field="size")


class Uploads:
    """The upload protocol's server side and the download, each in one transaction."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], keyring: Keyring, quota: UploadQuota | None = None
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.quota = quota or UploadQuota()

    async def _key(self, db: AsyncSession, case_id: uuid.UUID) -> DataKey:
        try:
            return (await self.keyring.data_keys_for_write(db, [case_id]))[case_id]
        except CaseShredded:
            raise NotFound("No such case.") from None

    async def _audit(
        self,
        db: AsyncSession,
        principal: Principal,
        action: str,
        outcome: str,
        row_id: uuid.UUID,
        case_id: uuid.UUID | None,
    ) -> None:
        await audit.append(
            db,
            action=action,
            outcome=outcome,
            actor_id=principal.user_id,
            device_id=principal.device_id,
            case_id=case_id,
            record_ids=[row_id],
            organisation=principal.organisation_id,
            key=self.keyring.audit,
        )

    async def _denied(
        self,
        db: AsyncSession,
        principal: Principal,
        action: str,
        attachment_id: uuid.UUID,
        case_id: uuid.UUID | None,
        answer: str = "No such attachment in your cases.",
    ) -> Problem:
        """Audit a refused access and give the answer an unknown id gets, word for word (no existence oracle)."""
        await self._audit(db, principal, action, "denied", attachment_id, case_id)
        await db.commit()
        return NotFound(answer)

    async def create(
        self, principal: Principal, attachment_id: uuid.UUID, spec: UploadSpec
    ) -> tuple[UploadState, bool]:
        """Open an upload (``True``) or answer the one already open with the same declaration (``False``)."""
        _check_spec(spec)
        async with self.sessions() as db:
            await begin_write(db)
            if not await may_send_file(db, principal, spec.case_id, attachment_id):
                raise await self._denied(db, principal, "attachment.upload", attachment_id, spec.case_id)
            row = await db.get(AttachmentUpload, attachment_id, with_for_update=True)
            if row is not None:
                same = (row.case_id, row.size, row.sha256, row.content_type) == (
                    spec.case_id,
                    spec.size,
                    spec.sha256,
                    spec.content_type,
                )
                if not same:
                    raise Conflict("Another file was declared under this attachment id.", field="sha256")
                return UploadState.of(row), False
            record = await db.get(Record, attachment_id)
            if record is not None and (record.kind != "attachment" or record.case_id != spec.case_id):
                raise Conflict("This id belongs to another record.")
            if record is not None and not record.deleted:
                await self._check_against_record(db, record, spec)
            await within_quota(db, principal, spec.size, self.quota)
            await self._key(db, spec.case_id)
            row = AttachmentUpload(
                id=attachment_id,
                case_id=spec.case_id,
                size=spec.size,
                sha256=spec.sha256,
                content_type=spec.content_type,
                received=0,
                chunks=0,
                complete=False,
                created_by=principal.user_id,
                created_device=principal.device_id,
            )
            db.add(row)
            await self._audit(db, principal, "attachment.upload", "opened", attachment_id, spec.case_id)
            await db.commit()
            return UploadState.of(row), True

    async def _check_against_record(self, db: AsyncSession, record: Record, spec: UploadSpec) -> None:
        """A declaration for an attachment whose record the server already holds must describe that file: one that
        contradicts it (size, hash, type) is refused rather than kept, where it would block the true file with 409
        (docs/security.md case 49)."""
        store = RecordStore(db, self.keyring)
        described = (await store.decrypt([store.row_of(record)]))[0].fields
        if described is None:
            return
        declared = {"size": spec.size, "sha256": spec.sha256, "content_type": spec.content_type}
        for name, value in declared.items():
            if described.get(name) != value:
                raise Conflict(f"The declared {name} is not the one the attachment record holds.", field=name)

    async def state(self, principal: Principal, attachment_id: uuid.UUID) -> UploadState:
        """The offset to continue from (after a failure, or to learn that the upload is complete)."""
        async with self.sessions() as db:
            row = await db.get(AttachmentUpload, attachment_id)
            if row is None or not await may_send_file(db, principal, row.case_id, attachment_id):
                raise NotFound(UNKNOWN_UPLOAD)
            return UploadState.of(row)

    async def append(self, principal: Principal, attachment_id: uuid.UUID, offset: int, body: bytes) -> UploadState:
        """Store one chunk at ``offset``; the last one is verified against the declared hash."""
        if len(body) > MAX_CHUNK_BYTES:
            raise AttachmentTooLarge(f"A chunk may have at most {MAX_CHUNK_BYTES // (1024 * 1024)} MiB.")
        if not body:
            raise ValidationFailed("A chunk needs bytes.")
        async with self.sessions() as db:
            await begin_write(db)
            row = await db.get(AttachmentUpload, attachment_id, with_for_update=True)
            if row is None:
                raise NotFound(UNKNOWN_UPLOAD)
            if not await may_send_file(db, principal, row.case_id, attachment_id):  # as an unknown id (security.md 50)
                raise await self._denied(db, principal, "attachment.upload", attachment_id, row.case_id, UNKNOWN_UPLOAD)
            key = await self._key(db, row.case_id)
            if offset < row.received or row.complete:
                if await self._is_replay(db, row, key, offset, body):
                    return UploadState.of(row)
                raise self._mismatch(row)
            if offset != row.received:
                raise self._mismatch(row)
            if offset + len(body) > row.size:
                raise AttachmentTooLarge("The chunk goes beyond the declared size.")
            if offset == 0 and sniff(body[:16]) != row.content_type:
                raise WrongContent("The bytes are not a file of the declared type.", field="content_type")
            aad = chunk_aad(row.id, row.chunks, row.case_id, key.dek_id)
            db.add(
                AttachmentChunk(
                    attachment_id=row.id,
                    idx=row.chunks,
                    case_id=row.case_id,
                    offset=offset,
                    length=len(body),
                    blob=seal(key.key, body, aad, kek_version=key.kek_version, dek_id=key.dek_id),
                )
            )
            row.received += len(body)
            row.chunks += 1
            if row.received == row.size:
                await db.flush()
                digest = hashlib.sha256(await self._plaintext(db, row, key)).hexdigest()
                if digest != row.sha256:
                    await db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id == row.id))
                    row.received, row.chunks = 0, 0
                    await self._audit(db, principal, "attachment.upload", "hash-mismatch", row.id, row.case_id)
                    await db.commit()
                    raise HashMismatch(
                        "The file received does not have the declared SHA-256; send it again from offset 0."
                    )
                row.complete, row.completed_at = True, utcnow()
                await self._audit(db, principal, "attachment.upload", "ok", row.id, row.case_id)
            state = UploadState.of(row)
            await db.commit()
            return state

    @staticmethod
    def _mismatch(row: AttachmentUpload) -> UploadOffsetMismatch:
        return UploadOffsetMismatch(
            f"The server holds {row.received} bytes of this file; continue at that offset.",
            headers={"Upload-Offset": str(row.received)},
        )

    async def _is_replay(self, db: AsyncSession, row: AttachmentUpload, key: DataKey, offset: int, body: bytes) -> bool:
        """A chunk sent again after its answer was lost: the same offset and the same bytes as one stored."""
        chunk = await db.scalar(
            select(AttachmentChunk).where(AttachmentChunk.attachment_id == row.id, AttachmentChunk.offset == offset)
        )
        if chunk is None or chunk.length != len(body):
            return False
        return self._open(row, key, chunk) == body

    @staticmethod
    def _open(row: AttachmentUpload, key: DataKey, chunk: AttachmentChunk) -> bytes:
        return open_blob(key.key, chunk.blob, chunk_aad(row.id, chunk.idx, row.case_id, key.dek_id))

    async def _plaintext(self, db: AsyncSession, row: AttachmentUpload, key: DataKey) -> bytes:
        chunks = (
            await db.scalars(
                select(AttachmentChunk).where(AttachmentChunk.attachment_id == row.id).order_by(AttachmentChunk.idx)
            )
        ).all()
        return b"".join(self._open(row, key, chunk) for chunk in chunks)

    async def download(self, principal: Principal, attachment_id: uuid.UUID) -> Download:
        """The verified bytes of an attachment record in the caller's scope, audited as a read."""
        async with self.sessions() as db:
            await begin_write(db)
            record = await db.get(Record, attachment_id)
            if record is None or record.kind != "attachment" or record.deleted:
                raise NotFound("No such attachment in your cases.")
            if not await in_scope(db, principal, record.case_id) or await entitlement.refused(
                db, self.keyring, principal, record.case_id
            ):
                raise await self._denied(db, principal, "attachment.read", attachment_id, record.case_id)
            row = await db.get(AttachmentUpload, attachment_id)
            if row is None or not row.complete:
                raise NotUploaded("The tablet that took this file has not finished sending it.")
            store = RecordStore(db, self.keyring)
            described = (await store.decrypt([store.row_of(record)]))[0].fields or {}
            if described.get("sha256") != row.sha256 or described.get("content_type") != row.content_type:
                raise NotUploaded("The bytes received are not the file this attachment describes.")
            keys = await self.keyring.data_keys(db, [row.case_id])
            if row.case_id not in keys:
                raise NotFound("No such attachment in your cases.")
            try:
                content = await self._plaintext(db, row, keys[row.case_id])
            except DecryptionError:
                await self._audit(db, principal, "attachment.read", "damaged", row.id, row.case_id)
                await db.commit()
                raise NotUploaded("The stored file is damaged; ask the tablet that took it to send it again.") from None
            if hashlib.sha256(content).hexdigest() != row.sha256:
                raise NotUploaded("The stored file does not match its hash.")
            await self._audit(db, principal, "attachment.read", "ok", row.id, row.case_id)
            await db.commit()
            return Download(
                content=content,
                content_type=row.content_type,
                sha256=row.sha256,
                filename=f"{row.id}.{_EXTENSIONS.get(row.content_type, 'bin')}",
            )
