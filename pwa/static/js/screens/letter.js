// "Briefe": an A4 letter filled from the case, printed with the browser (to paper or to PDF), offline. Printing
// records nothing: a letter is a contact when it is sent, so "Als versandt erfassen" records the outgoing contact
// "Brief" (a reprint, a draft, a consent form printed to sign are no contacts; docs/domain.md).
import { stamp } from "../clock.js";
import * as data from "../data.js";
import * as legal from "../legal.js";
import { templates } from "../panels/letters.js";
import * as files from "../files.js";
import { buildLetter, SIGNED_BY, valuesOf } from "../letters.js";
import { t } from "../i18n.js";
import { append, h, toast } from "../ui.js";

let signatureUrls = [];


async function signature(app, attachment) {
  if (!attachment) return null;
  let bytes = await files.bytesOf(app.key, attachment.id);
  if (!bytes && navigator.onLine) bytes = await files.download(app.key, attachment).catch(() => null);
  if (!bytes) return null;
  const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
  signatureUrls.push(url);
  const when = new Date(attachment.fields.signed_at).toLocaleDateString("de-DE");
  const who = attachment.fields.signer_name;
  const shown = document.createDocumentFragment();
  shown.append(h("img", { class: "signature-image", src: url, alt: `Unterschrift ${who}` }), h("span", { class: "signed-at" }, `unterschrieben von ${who} am ${when}`));
  return shown;
}

/** ``#/fall/<case>/brief/<name>``: the letter as it will print, with "Drucken". */
export async function render(main, [caseId, name], app) {
  signatureUrls.forEach((url) => URL.revokeObjectURL(url));
  signatureUrls = [];
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  const set = await templates();
  const letter = set?.letters.find((l) => l.name === name);
  if (!kase || !letter) {
    append(main, h("h2", {}, t("letters.missing")), h("p", {}, t("letters.missing_explain")), h("a", { href: `#/fall/${caseId}`, class: "button" }, t("common.back")));
    return;
  }
  const signedKind = SIGNED_BY[name];
  const signedRecord = signedKind
    ? records.filter((r) => r.kind === signedKind).sort((a, b) => String(b.fields.given_on || b.fields.start_on || "").localeCompare(String(a.fields.given_on || a.fields.start_on || "")))[0]
    : null;
  const signatures = records.filter((r) => r.kind === "attachment" && r.fields.purpose === "signature" && (!signedRecord || r.fields.parent_id === signedRecord.id));
  const latest = (role) => signatures.filter((s) => s.fields.signer_role === role).sort((a, b) => b.fields.signed_at.localeCompare(a.fields.signed_at))[0];
  // The Schonfrist's day, as the case shows it (the earliest still open, provisional or not), for the letters.
  const schonfrist = (await legal.forCase(kase, records)).filter((d) => d.rule === "de.schonfrist" && !d.done && !d.unavailable).map((d) => d.due_on).sort()[0];
  const values = valuesOf(records, {
    schonfrist,
    organisation: legal.organisationName() || set.organisation,
    worker: app.owner.display_name,
    labels: { benefit: (kind) => t(`benefit.${kind}`, {}, kind, "de") },
    chosen: signedRecord ? { [signedKind]: signedRecord.id } : {},
  });
  // No tenant named in the household: the person who signed as the tenant is the one who declares.
  if (!values.tenant_person && latest("tenant")) values.tenant_person = latest("tenant").fields.signer_name;
  values.letterhead = buildLetter(set.letterhead, values);
  values.signature_tenant = await signature(app, latest("tenant"));
  values.signature_worker = await signature(app, latest("worker"));
  const page = h("article", { class: "letter", id: "letter", lang: "de" }, buildLetter(letter.html, values));
  const print = () => window.print();
  const markSent = async () => {
    sent.disabled = true;
    await data.create("contact", caseId, { channel: "letter", direction: "outgoing", reached: true, at: stamp(), summary: t("letters.printed", { title: letter.title }, null, "de") });
    sent.textContent = t("letters.sent_done");
    toast(t("letters.recorded"));
  };
  const sent = h("button", { type: "button", class: "secondary", id: "letter-sent", onclick: markSent }, t("letters.mark_sent"));
  append(
    main,
    h(
      "div",
      { class: "no-print" },
      h("h2", {}, letter.title),
      h("p", { class: "lead" }, h("a", { href: `#/fall/${caseId}` }, kase.fields.title)),
      signedKind && !signatures.length && signedRecord
        ? h("p", { class: "banner-inline" }, t("letters.unsigned"), " ", h("a", { href: `#/fall/${caseId}/unterschrift/${signedKind}/${signedRecord.id}` }, t("letters.sign_now")))
        : null,
      h("p", { class: "muted small-text" }, t("letters.blanks")),
      h("div", { class: "actions" }, h("button", { type: "button", id: "print-letter", onclick: print }, t("letters.print")), sent, h("a", { href: `#/fall/${caseId}`, class: "button secondary" }, t("common.back"))),
    ),
    page,
  );
}
