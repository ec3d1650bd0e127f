// The letters of a case: the templates (fresh when online, kept for offline use) and the case screen's list of
// them. The letter itself is drawn and printed by screens/letter.js.
import { api } from "../api.js";
import { letterOffered } from "../country.js";
import * as store from "../storage.js";
import { t } from "../i18n.js";
import { h } from "../ui.js";

/** The letter templates, fresh when online (kept for offline use), else the copy kept last time. */
export async function templates() {
  try {
    const fresh = await api("GET", "/letters.json");
    await store.setMeta("letters", fresh);
    return fresh;
  } catch {
    return (await store.getMeta("letters")) || null;
  }
}

/** The case screen's list of letters. */
export async function letterLinks(caseId) {
  const set = await templates();
  if (!set) return h("p", { class: "muted" }, t("letters.not_loaded"));
  return h(
    "ul",
    { class: "plain letters", id: "letter-list" },
    set.letters.filter((l) => letterOffered(l.name)).map((l) => h("li", {}, h("a", { href: `#/fall/${caseId}/brief/${l.name}`, "data-letter": l.name }, l.title))),
  );
}
