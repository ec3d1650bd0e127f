"""The AEAD codec: round trips, binding to place, tamper detection, nonce uniqueness (docs/security.md 1-3)."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.crypto import DecryptionError, associated_data, open_blob, read_header, seal, unwrap_key, wrap_key
from server.records.schemas import KINDS

KEY = os.urandom(32)
DEK_ID = uuid.uuid4()

places = st.tuples(
    st.sampled_from(sorted(KINDS)), st.uuids(), st.uuids(), st.sampled_from(["fields", "other"]), st.integers(1, 9)
)


@given(plaintext=st.binary(max_size=4096), place=places)
def test_round_trip_of_any_plaintext_at_any_place(
    plaintext: bytes, place: tuple[str, uuid.UUID, uuid.UUID, str, int]
) -> None:
    aad = associated_data(*place, DEK_ID)
    blob = seal(KEY, plaintext, aad, kek_version=3, dek_id=DEK_ID)
    assert open_blob(KEY, blob, aad) == plaintext
    header = read_header(blob)
    assert (header.kek_version, header.dek_id) == (3, DEK_ID)
    if len(plaintext) >= 16:  # shorter strings can occur in random bytes by chance
        assert plaintext not in blob


@given(plaintext=st.binary(min_size=1, max_size=512), place=places, other=places, other_dek=st.uuids())
def test_a_ciphertext_moved_anywhere_else_fails(
    plaintext: bytes,
    place: tuple[str, uuid.UUID, uuid.UUID, str, int],
    other: tuple[str, uuid.UUID, uuid.UUID, str, int],
    other_dek: uuid.UUID,
) -> None:
    # docs/security.md case 1: another kind, record, case, column, schema version or data key.
    blob = seal(KEY, plaintext, associated_data(*place, DEK_ID), kek_version=1, dek_id=DEK_ID)
    for moved in (other, *((*place[:i], other[i], *place[i + 1 :]) for i in range(5))):
        if moved == place:
            continue
        with pytest.raises(DecryptionError):
            open_blob(KEY, blob, associated_data(*moved, DEK_ID))
    if other_dek != DEK_ID:
        with pytest.raises(DecryptionError):
            open_blob(KEY, blob, associated_data(*place, other_dek))


@given(position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_is_a_clean_error(position: int, bit: int) -> None:
    # docs/security.md case 2: header, nonce, ciphertext or tag.
    aad = b"household|a|b|fields|1|c"
    blob = bytearray(seal(KEY, b"Frau Beispiel, 3. OG", aad, kek_version=1, dek_id=DEK_ID))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(DecryptionError) as info:
        open_blob(KEY, bytes(blob), aad)
    assert "Beispiel" not in str(info.value)


@pytest.mark.parametrize("cut", [1, 8, 16, 30, 60])
def test_truncated_blobs_are_a_clean_error(cut: int) -> None:
    aad = b"note|a|b|fields|1|c"
    blob = seal(KEY, b"some note text", aad, kek_version=1, dek_id=DEK_ID)
    with pytest.raises(DecryptionError):
        open_blob(KEY, blob[:-cut], aad)


def test_the_wrong_key_is_a_clean_error() -> None:
    aad = b"x"
    blob = seal(KEY, b"secret", aad, kek_version=1, dek_id=DEK_ID)
    with pytest.raises(DecryptionError):
        open_blob(os.urandom(32), blob, aad)


def test_ten_thousand_encryptions_use_ten_thousand_nonces() -> None:
    # docs/security.md case 3
    nonces = {read_header(seal(KEY, b"same", b"same", kek_version=1, dek_id=DEK_ID)).nonce for _ in range(10_000)}
    assert len(nonces) == 10_000


def test_wrapped_data_keys_are_bound_to_their_id() -> None:
    kek, dek = os.urandom(32), os.urandom(32)
    wrapped = wrap_key(kek, dek, kek_version=2, dek_id=DEK_ID)
    assert unwrap_key(kek, wrapped, DEK_ID) == dek
    with pytest.raises(DecryptionError):
        unwrap_key(kek, wrapped, uuid.uuid4())
    with pytest.raises(DecryptionError):
        unwrap_key(os.urandom(32), wrapped, DEK_ID)
