// Documents of a case: the viewer and the signature pad (the list and the upload form are in panels/documents.js).
// Photos of letters and files taken at the door, and signatures: the bytes are
// kept sealed on this device (files.js) and sent with the next sync; the record (kind "attachment") travels
// through the outbox like any other change.
import { stamp } from "../clock.js";
import * as data from "../data.js";
import * as files from "../files.js";
import { sha256hex } from "../imaging.js";
import { t } from "../i18n.js";
import { append, day, h, moment, toast, uuid7 } from "../ui.js";
import { megabytes } from "../panels/documents.js";

// --- the viewer ------------------------------------------------------------------------------------------

let shownUrl = null;

/** ``#/dokument/<id>``: an image, zoomable, or a PDF in the browser's own viewer; fetched once, then offline. */
export async function renderViewer(main, [id], app) {
  const record = await data.record(id);
  if (!record || record.kind !== "attachment" || record.deleted) {
    append(main, h("h2", {}, t("docs.missing")), h("a", { href: "#/heute", class: "button" }, t("nav.today")));
    return;
  }
  const f = record.fields;
  const body = h("div", { class: "viewer", id: "viewer" });
  const progress = h("progress", { id: "doc-progress", max: 1, hidden: true });
  const message = h("p", { class: "muted", "aria-live": "polite" });
  append(
    main,
    h("h2", {}, f.purpose === "signature" ? t("docs.signature_of", { name: f.signer_name, role: t(`signer_role.${f.signer_role}`) }) : f.title),
    h(
      "p",
      { class: "lead" },
      h("a", { href: `#/fall/${record.case_id}` }, t("docs.back_to_case")),
      ` · ${megabytes(f.size)}${f.taken_at ? ` · ${moment(f.taken_at)}` : ""}`,
    ),
    progress,
    message,
    body,
  );
  let bytes = await files.bytesOf(app.key, id);
  if (!bytes) {
    if (!navigator.onLine) {
      message.textContent = t("docs.offline_not_here");
      return;
    }
    progress.hidden = false;
    message.textContent = t("docs.downloading");
    try {
      bytes = await files.download(app.key, record, (received, total) => {
        progress.max = total || f.size;
        progress.value = received;
      });
    } catch (error) {
      progress.hidden = true;
      message.textContent = error?.type === "attachment-pending" ? t("docs.not_uploaded_yet") : t("docs.download_failed");
      return;
    }
    progress.hidden = true;
    message.textContent = "";
  }
  if (shownUrl) URL.revokeObjectURL(shownUrl);
  shownUrl = URL.createObjectURL(new Blob([bytes], { type: f.content_type }));
  if (f.content_type === "application/pdf") {
    append(
      body,
      h("iframe", { src: shownUrl, title: f.title, class: "pdf-frame", id: "pdf-frame" }),
      h("p", {}, h("a", { href: shownUrl, target: "_blank", rel: "noopener", class: "button secondary", id: "open-pdf" }, t("docs.open_pdf"))),
    );
    return;
  }
  let zoom = 1;
  const image = h("img", { src: shownUrl, alt: f.title || t("docs.image"), id: "doc-image" });
  const frame = h("div", { class: "zoom-frame", tabindex: 0 }, image);
  const apply = () => {
    image.style.width = `${zoom * 100}%`;
    level.textContent = `${Math.round(zoom * 100)} %`;
  };
  const level = h("span", { class: "zoom-level", "aria-live": "polite" });
  const by = (factor) => () => {
    zoom = Math.min(6, Math.max(1, zoom * factor));
    apply();
  };
  append(
    body,
    h(
      "div",
      { class: "actions zoom-buttons" },
      h("button", { type: "button", class: "secondary", onclick: by(1 / 1.5), "aria-label": t("docs.zoom_out") }, "−"),
      level,
      h("button", { type: "button", class: "secondary", id: "zoom-in", onclick: by(1.5), "aria-label": t("docs.zoom_in") }, "+"),
      h("button", { type: "button", class: "secondary", onclick: () => ((zoom = 1), apply()) }, t("docs.fit")),
    ),
    frame,
  );
  apply();
}

// --- signatures ------------------------------------------------------------------------------------------

/** ``#/fall/<case>/unterschrift/<kind>/<id>``: a signature pad for the tenant or the worker, kept as a PNG
 * attachment of the consent or installment agreement. */
export async function renderSignature(main, [caseId, kind, recordId], app) {
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const parent = records.find((r) => r.id === recordId && r.kind === kind);
  if (!parent) {
    append(main, h("h2", {}, t("case.missing")), h("a", { href: `#/fall/${caseId}`, class: "button" }, t("common.back")));
    return;
  }
  const household = records.find((r) => r.kind === "household");
  const tenant = household?.fields.members?.find((m) => m.relation === "tenant")?.name || household?.fields.name || "";
  let role = "tenant";
  const name = h("input", { id: "signer-name", type: "text", maxlength: 200, value: tenant, required: true });
  const roles = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("signature.role")),
    ["tenant", "worker"].map((value) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "radio",
          name: "signer-role",
          value,
          checked: value === role,
          onchange: () => {
            role = value;
            name.value = value === "worker" ? app.owner.display_name : tenant;
          },
        }),
        t(`signer_role.${value}`),
      ),
    ),
  );
  const canvas = h("canvas", { id: "signature-pad", class: "signature-pad", width: 900, height: 300, "aria-label": t("signature.pad") });
  const context = canvas.getContext("2d");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  let strokes = 0;
  const clear = () => {
    // Transparent: the PNG carries the strokes only (the baseline on screen is the pad's CSS background).
    context.clearRect(0, 0, canvas.width, canvas.height);
    strokes = 0;
    canvas.dataset.unsaved = "false";
  };
  clear();
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    strokes += 1;
    canvas.dataset.unsaved = "true"; // a sync finishing meanwhile does not redraw the screen
    error.hidden = true;
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    context.strokeStyle = "#0f172a";
    context.lineWidth = event.pointerType === "pen" ? 2 + 3 * (event.pressure || 0.5) : 3.5;
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
  });
  const end = () => (last = null);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const save = async () => {
    error.hidden = true;
    if (!strokes) {
      error.textContent = t("signature.empty");
      error.hidden = false;
      return;
    }
    if (!name.value.trim()) {
      error.textContent = t("signature.name_missing");
      error.hidden = false;
      return;
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const id = uuid7();
    const sha256 = await sha256hex(bytes);
    await files.keep(app.key, { id, case_id: caseId, bytes, sha256, content_type: "image/png" });
    const now = stamp();
    await data.create("attachment", caseId, {
      title: t("signature.title", { what: t(`kind.${kind}`) }),
      content_type: "image/png",
      size: bytes.length,
      sha256,
      purpose: "signature",
      signer_name: name.value.trim(),
      signer_role: role,
      signed_at: now,
      taken_at: now,
      parent_kind: kind,
      parent_id: recordId,
    }, id);
    toast(t("signature.saved"));
    app.navigate(`#/fall/${caseId}/${kind}/${recordId}`);
  };
  append(
    main,
    h("h2", {}, t("signature.heading", { what: t(`kind.${kind}`) })),
    h("p", { class: "lead" }, parent.fields.purpose || parent.fields.creditor_name || "", parent.fields.given_on ? ` · ${day(parent.fields.given_on)}` : ""),
    h(
      "div",
      { class: "card" },
      roles,
      h("div", { class: "field" }, h("label", { for: "signer-name" }, t("signature.name")), name),
      h("p", { class: "muted small-text" }, t("signature.explain")),
      canvas,
      error,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "signature-save", onclick: save }, t("signature.save")),
        h("button", { type: "button", class: "secondary", id: "signature-clear", onclick: clear }, t("signature.clear")),
        h("a", { href: `#/fall/${caseId}/${kind}/${recordId}`, class: "button secondary" }, t("common.back")),
      ),
    ),
  );
}
