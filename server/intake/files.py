"""Files a referrer hands over with a referral (an account statement, the notice): sealed with the referral's data
key in the same chunks as any attachment, so that a referral taken on as a new case brings them into the case as
its documents (re-sealed under the case's key when the referral is linked to the household's open case). The
supervisor reads them in the inbox; the referrer hands them over and reads nothing back."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.auth.models import Role
from server.auth.schemas import Principal
from server.crypto.aead import associated_data, open_blob, seal
from server.db import begin_write, utcnow
from server.intake.fields import ReferralFileOut
from server.intake.models import Referral, ReferralFile
from server.problems import NotFound, PayloadTooLarge, ValidationFailed
from server.records.bulk import BulkItem
from server.records.documents import MAX_ATTACHMENT_BYTES, sniff
from server.records.keyring import DataKey, Keyring
from server.records.models import AttachmentChunk, AttachmentUpload
from server.records.uploads import MAX_CHUNK_BYTES, chunk_aad

__all__ = ["add_file", "file_bytes", "files_of", "into_case"]

MAX_FILES = 10


def _title_aad(file_id: uuid.UUID, referral_id: uuid.UUID, key: DataKey) -> bytes:
    return associated_data("referral_file", file_id, referral_id, "title", 1, key.dek_text)


async def add_file(
    db: AsyncSession, keyring: Keyring, principal: Principal, referral_id: uuid.UUID, title: str, body: bytes
) -> ReferralFileOut:
    """Seal ``body`` as a file of the caller's own referral, while it waits for the team."""
    await begin_write(db)
    referral = await db.get(Referral, referral_id)
    if referral is None or referral.submitted_by != principal.user_id or principal.role is not Role.REFERRER:
        raise NotFound("No such referral of yours.")
    if referral.status != "received":
        raise ValidationFailed("The team has decided on this referral; send further papers to it directly.")
    if not body:
        raise ValidationFailed("The file is empty.")
    if len(body) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(f"A file may have at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB.")
    content_type = sniff(body[:16])
    if content_type is None:
        raise ValidationFailed("Send a PDF, JPEG, PNG or WebP file.", field="content_type")
    held = await db.scalar(select(ReferralFile.id).where(ReferralFile.referral_id == referral_id).offset(MAX_FILES - 1))
    if held is not None:
        raise ValidationFailed(f"A referral holds at most {MAX_FILES} files.")
    key = (await keyring.data_keys(db, [referral_id]))[referral_id]
    file_id = uuid.uuid4()
    pieces = [body[start : start + MAX_CHUNK_BYTES] for start in range(0, len(body), MAX_CHUNK_BYTES)]
    db.add(
        AttachmentUpload(
            id=file_id,
            case_id=referral_id,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            content_type=content_type,
            received=len(body),
            chunks=len(pieces),
            complete=True,
            created_by=principal.user_id,
            created_device=principal.device_id,
            completed_at=utcnow(),
        )
    )
    for index, piece in enumerate(pieces):
        aad = chunk_aad(file_id, index, referral_id, key.dek_id)
        blob = seal(key.key, piece, aad, kek_version=key.kek_version, dek_id=key.dek_id)
        db.add(
            AttachmentChunk(
                attachment_id=file_id,
                idx=index,
                case_id=referral_id,
                offset=index * MAX_CHUNK_BYTES,
                length=len(piece),
                blob=blob,
            )
        )
    name = title.strip()[:200] or "Unterlage"
    sealed = seal(
        key.key, name.encode(), _title_aad(file_id, referral_id, key), kek_version=key.kek_version, dek_id=key.dek_id
    )
    db.add(ReferralFile(id=file_id, referral_id=referral_id, blob=sealed))
    await audit.append(
        db,
        action="referral.file",
        outcome="ok",
        actor_id=principal.user_id,
        device_id=principal.device_id,
        record_ids=[referral_id, file_id],
        organisation=referral.organisation_id,
        key=keyring.audit,
    )
    await db.commit()
    return ReferralFileOut(id=file_id, title=name, content_type=content_type, size=len(body))


async def files_of(
    db: AsyncSession, keyring: Keyring, referral_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ReferralFileOut]]:
    """The files of ``referral_ids`` with their titles (a referral erased with its case has none)."""
    if not referral_ids:
        return {}
    rows = (
        await db.execute(
            select(ReferralFile, AttachmentUpload.content_type, AttachmentUpload.size)
            .join(AttachmentUpload, AttachmentUpload.id == ReferralFile.id)
            .where(ReferralFile.referral_id.in_(list(referral_ids)))
        )
    ).all()
    keys = await keyring.data_keys(db, {row[0].referral_id for row in rows})
    found: dict[uuid.UUID, list[ReferralFileOut]] = {}
    for file, content_type, size in rows:
        key = keys.get(file.referral_id)
        if key is None:
            continue
        title = open_blob(key.key, file.blob, _title_aad(file.id, file.referral_id, key)).decode()
        found.setdefault(file.referral_id, []).append(
            ReferralFileOut(id=file.id, title=title, content_type=content_type, size=size)
        )
    return found


async def file_bytes(
    db: AsyncSession, keyring: Keyring, referral_id: uuid.UUID, file_id: uuid.UUID
) -> tuple[str, bytes]:
    """The content type and bytes of one file of a referral (the inbox reads it before deciding)."""
    upload = await db.get(AttachmentUpload, file_id)
    held = await db.get(ReferralFile, file_id)
    if upload is None or held is None or held.referral_id != referral_id:
        raise NotFound("No such file of the referral.")
    key = (await keyring.data_keys(db, [upload.case_id])).get(upload.case_id)
    if key is None:
        raise NotFound("No such file of the referral.")
    chunks = (
        await db.scalars(
            select(AttachmentChunk).where(AttachmentChunk.attachment_id == file_id).order_by(AttachmentChunk.idx)
        )
    ).all()
    body = b"".join(
        open_blob(key.key, chunk.blob, chunk_aad(file_id, chunk.idx, upload.case_id, key.dek_id)) for chunk in chunks
    )
    return upload.content_type, body


async def into_case(db: AsyncSession, keyring: Keyring, referral_id: uuid.UUID, case_id: uuid.UUID) -> list[BulkItem]:
    """The referral's files as documents of ``case_id``: re-sealed under the case's key when the case is not the one
    the referral became; returns the attachment records to write."""
    files = (await files_of(db, keyring, [referral_id])).get(referral_id, [])
    if not files:
        return []
    items: list[BulkItem] = []
    if case_id != referral_id:
        keys = await keyring.data_keys(db, [referral_id, case_id])
        old, new = keys[referral_id], keys[case_id]
        for file in files:
            for chunk in (
                await db.scalars(select(AttachmentChunk).where(AttachmentChunk.attachment_id == file.id))
            ).all():
                plain = open_blob(old.key, chunk.blob, chunk_aad(file.id, chunk.idx, referral_id, old.dek_id))
                aad = chunk_aad(file.id, chunk.idx, case_id, new.dek_id)
                chunk.blob = seal(new.key, plain, aad, kek_version=new.kek_version, dek_id=new.dek_id)
                chunk.case_id = case_id
            upload = await db.get(AttachmentUpload, file.id)
            assert upload is not None
            upload.case_id = case_id
    for file in files:
        upload = await db.get(AttachmentUpload, file.id)
        assert upload is not None
        fields = {
            "title": f"{file.title} (aus der Meldung)"[:200],
            "content_type": file.content_type,
            "size": file.size,
            "sha256": upload.sha256,
        }
        items.append(("attachment", file.id, case_id, fields))
    return items
