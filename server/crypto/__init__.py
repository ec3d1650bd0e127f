"""Pure cryptography: the AEAD codec with associated data, data-key wrapping, and KEK providers.

Nothing here knows the database or the domain; :mod:`server.records` decides what is encrypted where.
"""

from server.crypto.aead import (
    DecryptionError,
    associated_data,
    open_blob,
    read_header,
    seal,
    unwrap_key,
    wrap_key,
)
from server.crypto.keys import EnvKeyProvider, FileKeyProvider, KeyMaterialError, KeyProvider, KeySet, new_key

__all__ = [
    "DecryptionError",
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyMaterialError",
    "KeyProvider",
    "KeySet",
    "associated_data",
    "new_key",
    "open_blob",
    "read_header",
    "seal",
    "unwrap_key",
    "wrap_key",
]
