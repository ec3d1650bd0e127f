"""The office's CSV of landlord referrals: one row per tenancy with arrears, read whole before anything is taken.

The header names the columns (German, any order, case ignored; see :data:`COLUMNS`), ``;`` or ``,`` between them,
UTF-8 with or without a byte-order mark. Amounts are euros ("1.234,56" or "1234.56"), dates "31.12.2026" or
"2026-12-31". A wrong row is reported with its line number (the header is line 1) and its column; one wrong row
means nothing of the file is taken.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any, TypeVar

import msgspec

from server.intake.fields import CourtNotice, ReferralFields
from server.problems import RowProblem, RowsInvalid, ValidationFailed

__all__ = ["COLUMNS", "COURT_COLUMNS", "MAX_ROWS", "read_rows"]

MAX_ROWS = 2000
Row = TypeVar("Row", ReferralFields, CourtNotice)
# Header (folded) -> field.
COLUMNS = {
    "name": "tenant_name",
    "mieterin/mieter": "tenant_name",
    "mieter": "tenant_name",
    "strasse": "street",
    "straße": "street",
    "hausnummer": "house_number",
    "wohnung": "unit",
    "plz": "postcode",
    "ort": "city",
    "telefon": "phone",
    "vertragsnummer": "contract_number",
    "grund": "reason",
    "mietrückstand": "rent_arrears_cents",
    "nebenkostenrückstand": "service_charge_arrears_cents",
    "sonstige forderungen": "other_arrears_cents",
    "kündigung zugestellt am": "notice_served_on",
    "klage zugestellt am": "lawsuit_served_on",
    "gerichtstermin": "court_date",
    "notiz": "note",
}
# The court's notices (server/intake/court.py).
COURT_COLUMNS = {
    "gericht": "court",
    "aktenzeichen": "reference",
    "eingereicht am": "filed_on",
    "zugestellt am": "served_on",
    "name": "tenant_name",
    "mieterin/mieter": "tenant_name",
    "strasse": "street",
    "straße": "street",
    "hausnummer": "house_number",
    "wohnung": "unit",
    "plz": "postcode",
    "ort": "city",
}
REASONS = {
    "mietrückstand": "arrears",
    "rückstand": "arrears",
    "arrears": "arrears",
    "beschwerden": "neighbour_complaints",
    "nachbarschaft": "neighbour_complaints",
    "wohnsituation": "living_situation",
    "sonstiges": "other",
}
_AMOUNT = re.compile(r"^\d{1,3}(\.\d{3})*(,\d{1,2})?$|^\d+([.,]\d{1,2})?$")


def read_rows(
    text: str,
    columns: dict[str, str] = COLUMNS,
    kind: type[Row] = ReferralFields,  # type: ignore[assignment]
) -> list[tuple[int, Row]]:
    """Every row of the file as a ``kind`` (a referral, a court's notice), with its line; or :class:`RowsInvalid`
    naming every wrong row."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ValidationFailed("The file is empty.")
    first = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ",")
    header = [" ".join(name.split()).lower() for name in next(reader)]
    unknown = [name for name in header if name and name not in columns]
    if unknown:
        raise ValidationFailed(f"Unknown column {unknown[0]!r}; the columns are listed in docs/domain.md.")
    if "tenant_name" not in {columns[name] for name in header if name}:
        raise ValidationFailed("The file needs a column 'Name'.")
    rows: list[tuple[int, Row]] = []
    problems: list[RowProblem] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            raise ValidationFailed(f"At most {MAX_ROWS} rows per file.")
        values: dict[str, Any] = {}
        wrong = None
        for name, cell in zip(header, cells, strict=False):
            if not name or not cell.strip():
                continue
            field = columns[name]
            try:
                values[field] = _value(field, cell.strip())
            except ValueError as error:
                wrong = RowProblem(line=line, field=name, detail=str(error))
                break
        if wrong is None:
            try:
                rows.append((line, msgspec.convert(values, kind)))
            except msgspec.ValidationError as error:
                column = next((h for h in header if h and columns[h] in str(error)), None)
                detail = "a value is missing or too long" if column else str(error).split(" - at ")[0]
                wrong = RowProblem(line=line, field=column, detail=detail)
        if wrong is not None:
            problems.append(wrong)
    if problems:
        raise RowsInvalid(f"{len(problems)} rows are wrong; nothing of the file was taken.", rows=problems)
    if not rows:
        raise ValidationFailed("The file has no rows below its header.")
    return rows


def _value(field: str, cell: str) -> Any:
    if field.endswith("_cents"):
        plain = cell.replace("€", "").replace("EUR", "").strip()
        if not _AMOUNT.match(plain):
            raise ValueError("not an amount in euros")
        if "," in plain:
            plain = plain.replace(".", "").replace(",", ".")
        return round(float(plain) * 100)
    if field.endswith("_on") or field == "court_date":
        for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(cell, pattern).date().isoformat()
            except ValueError:
                continue
        raise ValueError("not a date (31.12.2026)")
    if field == "reason":
        reason = REASONS.get(cell.lower())
        if reason is None:
            raise ValueError("not a reason (Mietrückstand, Beschwerden, Wohnsituation, Sonstiges)")
        return reason
    return cell
