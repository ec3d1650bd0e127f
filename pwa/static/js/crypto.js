// Device encryption (docs/security.md part 4): a random AES-GCM data key, wrapped by a key derived from the
// worker's passphrase with PBKDF2-SHA256. The unwrapped data key is non-extractable and lives only in memory.

const PBKDF2_ITERATIONS = 600_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

async function passphraseKey(passphrase, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  );
}

/** A new vault: the wrapped data key to store, and the data key to use (non-extractable). */
export async function createVault(passphrase, iterations = PBKDF2_ITERATIONS) {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const wrapping = await passphraseKey(passphrase, salt, iterations);
  const exportable = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  const wrapped = await crypto.subtle.wrapKey("raw", exportable, wrapping, { name: "AES-GCM", iv });
  const vault = { salt, iv, iterations, wrapped: new Uint8Array(wrapped) };
  // Unwrap with the key already derived (one PBKDF2 run, not two): the data key in use is non-extractable.
  return { vault, key: await unwrap(vault, wrapping) };
}

function unwrap(vault, wrapping) {
  return crypto.subtle.unwrapKey(
    "raw",
    vault.wrapped,
    wrapping,
    { name: "AES-GCM", iv: vault.iv },
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** The data key of ``vault``; a wrong passphrase rejects (AES-GCM authentication fails). */
export async function openVault(passphrase, vault) {
  return unwrap(vault, await passphraseKey(passphrase, vault.salt, vault.iterations));
}

/** Encrypt a JSON value, bound to ``aad`` (e.g. the record id): a blob moved to another record fails. */
export async function sealJSON(key, value, aad) {
  const iv = randomBytes(12);
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
    key,
    encoder.encode(JSON.stringify(value)),
  );
  return { iv, data: new Uint8Array(data) };
}

/** Decrypt a blob made by ``sealJSON`` with the same ``aad``. */
export async function openJSON(key, blob, aad) {
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: blob.iv, additionalData: encoder.encode(aad) },
    key,
    blob.data,
  );
  return JSON.parse(decoder.decode(plain));
}
