"""The record kind ``attachment``: a document (a photo of a letter, a PDF), a signature or a printed letter.

The record holds what describes the file; the bytes travel separately through the upload protocol
(:mod:`server.records.uploads`, docs/sync-protocol.md "Attachments") and are encrypted with the case's data key.
``size`` and ``sha256`` are fixed at creation: the bytes a supervisor downloads are the bytes the tablet recorded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from server.records.fields import Moment, RecordFields, Short, Text, Title, must

__all__ = ["MAX_ATTACHMENT_BYTES", "Attachment", "ContentType", "Sha256", "sniff"]

# 20 MiB per file: a multi-page scan at about 2,000 px per page, never a video.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

ContentType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Size = Annotated[int, msgspec.Meta(gt=0, le=MAX_ATTACHMENT_BYTES)]


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file show, whatever its name or declared type says."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class Attachment(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Dokument: a file belonging to a case and, usually, to one of its records."""

    KIND = "attachment"
    REQUIRED_ON_CREATE = frozenset({"title", "content_type", "size", "sha256"})
    # The file, what it belongs to, and every fact of a signature (who signed, in which role, when) are append-only.
    IMMUTABLE_FIELDS = frozenset(
        {
            "content_type",
            "size",
            "sha256",
            "pages",
            "purpose",
            "parent_kind",
            "parent_id",
            "signer_name",
            "signer_role",
            "signed_at",
        }
    )
    PAST_MOMENTS = frozenset({"taken_at", "signed_at"})

    # The record it belongs to (a court letter on its legal event); none for a document of the case as a whole.
    parent_kind: Literal["legal_event", "benefit_application", "installment_agreement", "consent", "note"] | None = None
    parent_id: uuid.UUID | None = None
    title: Title
    content_type: ContentType
    size: Size
    sha256: Sha256
    # Several photos make one document: a PDF of one page per photo.
    pages: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    taken_at: Moment | None = None
    # document: a photo or a file; signature: a signature drawn on the tablet (a PNG).
    purpose: Literal["document", "signature"] = "document"
    signer_name: Short = ""
    signer_role: Literal["tenant", "worker"] | None = None
    signed_at: Moment | None = None
    notes: Text = ""

    def __post_init__(self) -> None:
        must(
            (self.parent_kind is None) == (self.parent_id is None), "parent_kind and parent_id go together", "parent_id"
        )
        if self.purpose == "signature":
            must(self.content_type == "image/png", "a signature is a PNG image", "content_type")
            must(self.signer_role is not None, "a signature names the signer's role", "signer_role")
            must(bool(self.signer_name.strip()), "a signature names the signer", "signer_name")
            must(self.signed_at is not None, "a signature has its moment", "signed_at")

    def clear_status(self) -> str | None:
        return self.purpose

    def clear_at(self) -> dt.datetime | None:
        return self.signed_at or self.taken_at
