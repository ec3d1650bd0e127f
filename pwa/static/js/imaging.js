// Files as the tablet takes them in: the type read from the bytes (never from the name), photos re-encoded so that
// nothing of the camera's metadata (EXIF, GPS included) leaves the device, several photos made one PDF, and the
// SHA-256 the server checks the upload against. Imports nothing, so a test can run it on its own.

const MAX_BYTES = 20 * 1024 * 1024;
// The longest side of a photographed page: sharp enough to read small print, small enough to send from the door.
const LONGEST_SIDE = 2000;
const QUALITY = 0.85;

/** The type the first bytes show, or null (the same rule as the server's ``sniff``). */
function sniff(head) {
  const b = head instanceof Uint8Array ? head : new Uint8Array(head);
  const starts = (...bytes) => bytes.every((value, i) => b[i] === value);
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return "image/webp";
  if (starts(0x25, 0x50, 0x44, 0x46, 0x2d)) return "application/pdf";
  return null;
}

export async function sha256hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Why a chosen file cannot be kept: {code}, or null. */
export class FileRefused extends Error {
  constructor(code) {
    super(code);
    this.name = "FileRefused";
    this.code = code;
  }
}

async function canvasBytes(canvas, type, quality) {
  const blob = canvas.convertToBlob ? await canvas.convertToBlob({ type, quality }) : await new Promise((resolve) => canvas.toBlob(resolve, type, quality));
  return new Uint8Array(await blob.arrayBuffer());
}

/** One photographed page: decoded (upright, as the camera meant it), scaled down and encoded again as JPEG. */
async function photoPage(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new FileRefused("unreadable");
  }
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(width, height) : Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // a transparent PNG becomes a page on white paper
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close?.();
  return { bytes: await canvasBytes(canvas, "image/jpeg", QUALITY), width, height };
}

/** A PDF with one A4 page per JPEG (placed whole, with a margin): several photos of one letter as one document. */
function pdfOf(pages) {
  const encoder = new TextEncoder();
  const parts = [];
  const offsets = [];
  let length = 0;
  const put = (part) => {
    const bytes = typeof part === "string" ? encoder.encode(part) : part;
    parts.push(bytes);
    length += bytes.length;
  };
  const object = (number, ...content) => {
    offsets[number] = length;
    put(`${number} 0 obj\n`);
    content.forEach(put);
    put("\nendobj\n");
  };
  put("%PDF-1.4\n%\u00e2\u00e3\n");
  const kids = pages.map((_, i) => `${3 + 3 * i} 0 R`).join(" ");
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, `<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  pages.forEach((page, i) => {
    const n = 3 + 3 * i;
    const landscape = page.width > page.height;
    const [pw, ph] = landscape ? [842, 595] : [595, 842];
    const fit = Math.min((pw - 40) / page.width, (ph - 40) / page.height);
    const [w, h] = [page.width * fit, page.height * fit].map((v) => Math.round(v * 100) / 100);
    const [x, y] = [(pw - w) / 2, (ph - h) / 2].map((v) => Math.round(v * 100) / 100);
    const draw = `q ${w} 0 0 ${h} ${x} ${y} cm /Im0 Do Q`;
    object(n, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pw} ${ph}] /Resources << /XObject << /Im0 ${n + 1} 0 R >> >> /Contents ${n + 2} 0 R >>`);
    object(
      n + 1,
      `<< /Type /XObject /Subtype /Image /Width ${page.width} /Height ${page.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${page.bytes.length} >>\nstream\n`,
      page.bytes,
      "\nendstream",
    );
    object(n + 2, `<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`);
  });
  const count = 3 + 3 * pages.length;
  const xref = length;
  put(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let i = 1; i < count; i++) put(`${String(offsets[i]).padStart(10, "0")} 00000 n \n`);
  put(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The chosen files as one document: {bytes, content_type, pages}. A PDF is kept as it is (alone); photos are
 * re-encoded, one as a JPEG, several as a PDF of their pages. */
export async function prepare(files) {
  const kinds = await Promise.all(files.map(async (file) => sniff(new Uint8Array(await file.slice(0, 16).arrayBuffer()))));
  if (kinds.some((kind) => !kind)) throw new FileRefused("type");
  if (kinds.includes("application/pdf")) {
    if (files.length > 1) throw new FileRefused("pdf_alone");
    if (files[0].size > MAX_BYTES) throw new FileRefused("too_large");
    return { bytes: new Uint8Array(await files[0].arrayBuffer()), content_type: "application/pdf", pages: 1 };
  }
  const pages = [];
  for (const file of files) pages.push(await photoPage(file));
  const result = pages.length === 1 ? { bytes: pages[0].bytes, content_type: "image/jpeg", pages: 1 } : { bytes: pdfOf(pages), content_type: "application/pdf", pages: pages.length };
  if (result.bytes.length > MAX_BYTES) throw new FileRefused("too_large");
  return result;
}
