// The documents of a case and of a record: the list (each with where its bytes are) and the form that takes photos
// or files at the door. The bytes are kept sealed on this device (files.js) and sent with the next sync; the record
// (kind "attachment") travels through the outbox like any other change. The viewer and the signature pad are in
// screens/documents.js.
import { stamp } from "../clock.js";
import * as data from "../data.js";
import * as files from "../files.js";
import { FileRefused, prepare, sha256hex } from "../imaging.js";
import { lang, t } from "../i18n.js";
import { chip, fill, h, moment, toast, uuid7 } from "../ui.js";

const locale = () => (lang() === "en" ? "en-GB" : "de-DE");

/** A size as people read it: "640 KB", "2,4 MB". */
export function megabytes(bytes) {
  if (bytes < 1048576) return `${Math.max(1, Math.round(bytes / 1024)).toLocaleString(locale())} KB`;
  const mb = bytes / 1048576;
  if (mb >= 1024) return `${(mb / 1024).toLocaleString(locale(), { maximumFractionDigits: 1 })} GB`;
  return `${mb.toLocaleString(locale(), { maximumFractionDigits: 1 })} MB`;
}

/** Where a file stands, as a chip: waiting to be sent, refused, on this tablet, or only on the server. */
function fileChip(file) {
  if (!file) return chip(t("docs.on_server"), "neutral");
  if (file.state === "upload") return chip(t("docs.waiting"), "info");
  if (file.state === "refused") return chip(t("docs.refused", { detail: file.error?.detail || "" }), "danger");
  return chip(t("docs.on_device"), "ok");
}

/** The list of ``attachments`` (newest first), each a link to the viewer.
 * @param {any[]} attachments * @param {(attachment: any) => string | null} [parentLabel] */
export async function documentList(attachments, parentLabel = () => null) {
  if (!attachments.length) return h("p", { class: "muted" }, t("docs.none"));
  const held = new Map((await files.rows()).map((file) => [file.id, file]));
  const when = (a) => a.fields.signed_at || a.fields.taken_at || "";
  return h(
    "ul",
    { class: "plain documents" },
    [...attachments]
      .sort((a, b) => when(b).localeCompare(when(a)))
      .map((a) => {
        const f = a.fields;
        const parent = parentLabel(a);
        return h(
          "li",
          { class: "document", "data-id": a.id },
          h("a", { href: `#/dokument/${a.id}` }, f.purpose === "signature" ? t("docs.signature_of", { name: f.signer_name, role: t(`signer_role.${f.signer_role}`) }) : f.title),
          h(
            "span",
            { class: "muted small-text" },
            ` · ${[
              f.content_type === "application/pdf" ? t("docs.pages", { n: f.pages }) : t("docs.image"),
              megabytes(f.size),
              f.signed_at || f.taken_at ? moment(f.signed_at || f.taken_at) : null,
              parent,
            ]
              .filter(Boolean)
              .join(" · ")} `,
          ),
          fileChip(held.get(a.id)),
        );
      }),
  );
}

/** "Dokumente": the files of one record (or of the case), with capture from the camera or from a file. */
export async function documentsSection(caseId, parent, attachments, app, defaultTitle = "") {
  const pages = [];
  const status = h("p", { class: "muted small-text", id: "doc-status", "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const title = h("input", { id: "doc-title", type: "text", maxlength: 200, value: defaultTitle });
  const saveButton = h("button", { type: "button", id: "doc-save", hidden: true, onclick: () => save() }, t("docs.save"));
  const chosen = h("p", { id: "doc-chosen", class: "small-text" });
  const showChosen = () => {
    fill(chosen, pages.length ? t("docs.chosen", { n: pages.length }) : "");
    saveButton.hidden = !pages.length;
    chosen.dataset.unsaved = String(pages.length > 0); // a sync finishing meanwhile does not redraw the screen
  };
  const pick = (input) => {
    error.hidden = true;
    pages.push(...input.files);
    input.value = "";
    showChosen();
  };
  const camera = h("input", { type: "file", id: "doc-camera", accept: "image/*", capture: "environment", class: "visually-hidden", onchange: (e) => pick(e.target) });
  const picker = h("input", { type: "file", id: "doc-file", accept: "image/jpeg,image/png,image/webp,application/pdf", multiple: true, class: "visually-hidden", onchange: (e) => pick(e.target) });
  const space = await files.estimate();
  if (space) status.textContent = t("docs.storage", { used: megabytes(space.usage), quota: megabytes(space.quota) });

  async function save() {
    error.hidden = true;
    saveButton.disabled = true;
    try {
      status.textContent = t("docs.preparing");
      const prepared = await prepare(pages);
      const { ok } = await files.room(prepared.bytes.length);
      if (!ok) throw new FileRefused("no_room");
      const id = uuid7();
      const sha256 = await sha256hex(prepared.bytes);
      // The bytes first, then the record: a record never exists on the device without its file.
      await files.keep(app.key, { id, case_id: caseId, bytes: prepared.bytes, sha256, content_type: prepared.content_type });
      await data.create("attachment", caseId, {
        title: title.value.trim() || defaultTitle || t("docs.untitled"),
        content_type: prepared.content_type,
        size: prepared.bytes.length,
        sha256,
        pages: prepared.pages,
        taken_at: stamp(),
        parent_kind: parent ? parent.kind : null,
        parent_id: parent ? parent.id : null,
      }, id);
      pages.length = 0;
      toast(t("docs.saved", { size: megabytes(prepared.bytes.length) }));
      app.refresh();
    } catch (problem) {
      error.textContent = problem instanceof FileRefused ? t(`docs.refused_${problem.code}`) : t("docs.failed");
      if (problem instanceof FileRefused && problem.code !== "no_room") pages.length = 0; // choose again
      error.hidden = false;
      if (!(problem instanceof FileRefused)) console.error("doorstep: document not kept", problem);
    } finally {
      saveButton.disabled = false;
      showChosen();
    }
  }

  return h(
    "section",
    { class: "documents-section", "aria-labelledby": "docs-title" },
    h("h3", { id: "docs-title" }, t("docs.title")),
    await documentList(attachments),
    h("div", { class: "field" }, h("label", { for: "doc-title" }, t("docs.doc_title")), title),
    h(
      "div",
      { class: "actions" },
      h("label", { for: "doc-camera", class: "button secondary", id: "doc-camera-button" }, t("docs.photograph")),
      camera,
      h("label", { for: "doc-file", class: "button secondary" }, t("docs.choose_file")),
      picker,
      saveButton,
    ),
    chosen,
    error,
    status,
  );
}
