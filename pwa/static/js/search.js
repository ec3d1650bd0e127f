// The case search on the tablet, over the decrypted data in memory: offline, nothing searchable leaves the
// device. The same folding and matching as the office search (server/records/search.py); tests/unit/
// test_shared_rules.py runs one table of queries through both.

const LETTERS = { ı: "i", ł: "l", ø: "o", đ: "d", æ: "ae", œ: "oe", ð: "d", þ: "th" };

/** Lower case, umlauts spelled out, ß as ss, accents dropped, only letters and digits kept. */
export function fold(text) {
  let value = String(text || "").normalize("NFKC").toLowerCase().replaceAll("ß", "ss");
  value = value.replaceAll("ä", "ae").replaceAll("ö", "oe").replaceAll("ü", "ue");
  value = value.replace(/[ıłøđæœðþ]/g, (c) => LETTERS[c]);
  value = value.normalize("NFKD").replace(/\p{M}/gu, "");
  return value.replace(/[^0-9a-z]/g, "");
}

export function words(text) {
  return String(text || "")
    .split(/[\s/,;:()]+/)
    .map(fold)
    .filter(Boolean);
}

/** The digits of a phone number, and for "+49 30 ..." (or "0049 ...") also the national "030 ..." form. */
function phoneForms(phone) {
  const text = String(phone || "");
  const digits = text.replace(/\D/g, "");
  const forms = digits ? [digits] : [];
  const international = text.trim().startsWith("+") || digits.startsWith("00");
  const national = digits.startsWith("00") ? digits.slice(2) : digits;
  for (const code of ["49", "43"]) if (international && national.startsWith(code)) forms.push(`0${national.slice(code.length)}`);
  return forms;
}

/** The searchable texts of one record, as typed. */
export function haystack(kind, fields) {
  if (kind === "case") return [fields.title || ""];
  if (kind === "household") {
    const a = fields.address || {};
    return [
      fields.name || "",
      ...(fields.members || []).map((m) => m.name || ""),
      ["street", "house_number", "postcode", "city"].map((k) => a[k] || "").join(" "),
      ...phoneForms(fields.phone),
      fields.email || "",
    ];
  }
  if (kind === "legal_event") return [fields.reference || ""];
  return [];
}

/** The whole query in one text, or every word of it at the start of a word of the texts. */
export function matches(query, texts) {
  const phrase = fold(query);
  if (phrase && texts.some((text) => fold(text).includes(phrase))) return true;
  const wanted = words(query);
  const have = texts.flatMap(words);
  return wanted.length > 0 && wanted.every((w) => have.some((word) => word.startsWith(w)));
}
