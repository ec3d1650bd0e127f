// The organisation's country profile on the tablet (/static/data/countries.json, cached with the app, read by the
// server too): which legal steps, triggers, benefits and letters are offered, and the country's own words. The
// country comes from the organisation's calendar (legal.js). Nothing here is chosen by ``if (country === "AT")``:
// the screens ask ``offered`` and ``t`` and the profile answers.
import { useWords } from "./i18n.js";

/** @typedef {{offered: Object<string, string[]>, benefits: Object<string, {basis: string, agency: string}>, letters: string[], words: Object<string, string[]>}} Profile */

/** @type {Object<string, Profile> | null} */
let profiles = null;
/** @type {Profile | null} */
let profile = null;

/** Load the profiles (once) and use the one of ``country`` ("DE" when not known yet). */
export async function useCountry(country) {
  if (!profiles) profiles = (await (await fetch("/static/data/countries.json")).json()).countries;
  profile = profiles?.[country] || profiles?.DE || null;
  useWords(profile?.words || {});
}

/** The values of an enum (catalogue prefix ``prefix``) this country offers, in their order; ``keep`` (the value a
 * record already holds) stays among them, so that nothing stored disappears from a form. */
export function offered(prefix, values, keep = null) {
  const allowed = profile?.offered?.[prefix];
  if (!allowed) return values;
  const kept = Array.isArray(keep) ? keep : [keep];
  return values.filter((value) => allowed.includes(value) || kept.includes(value));
}

/** ``value`` when this country offers it, else the first value it offers: a new form's default. */
export function preferred(prefix, values, value) {
  const choices = offered(prefix, values);
  return choices.includes(value) ? value : choices[0];
}

/** A new application for the benefit ``kind``: its legal basis and the agency that decides it, where known. */
export function benefitDefaults(kind) {
  const known = profile?.benefits?.[kind];
  return known ? { legal_basis: known.basis, agency: known.agency } : {};
}

/** Whether this country's teams are offered the letter ``name``. */
export function letterOffered(name) {
  return !profile || profile.letters.includes(name);
}
