// Drafts: what a worker has typed into a form and not saved yet. It is kept encrypted on this device (the drafts
// store, sealed with the data key like every record), written on every pause in typing, and written at once before
// the screen goes away: the idle lock, a redraw after a sync, another screen, the page being hidden or closed. The
// form shows it again when it is drawn next, after unlocking, after a reload or after a crash. A draft is never
// sent; saving the form drops it.
//
// Two ways to keep a form:
// - ``keeper(id, read)`` for a screen that holds its own model (a visit, the intake, a case-work form): ``read()``
//   gives what to keep, or null when there is nothing worth keeping;
// - ``keepFields(container, id)`` for a panel of plain fields: every input, text area and select with an id is
//   kept by that id and put back, with the events its handlers listen to.
import * as data from "./data.js";
import { debounce } from "./ui.js";

/** The keepers of the screen on show: flushed, then forgotten, when it goes. */
let live = new Set();

/** Write every draft of the screen on show now; the screen is about to go (lock, redraw, navigation, hiding). */
export async function flushDrafts() {
  const going = [...live];
  await Promise.all(going.map((save) => save.flush()));
}

/** The drafts of the screens that went, still being written: the next screen waits for them, so that a form left
 * and opened again at once (back, then forward, on a slow tablet) is drawn with its draft, not empty. */
let writing = Promise.resolve();
const EARLIER_WRITES_MS = 3000;

/** The screen on show is replaced: its keepers are written and let go, after any earlier screen's. */
export async function leaveScreen() {
  const going = live;
  live = new Set();
  const earlier = writing;
  const mine = Promise.all([...going].map((save) => save.flush()));
  // A write that failed has been reported (data.drafts); it holds up no later screen.
  writing = Promise.all([earlier, mine]).then(
    () => undefined,
    () => undefined,
  );
  // Waited for a few seconds at most: a storage that stopped answering must not hold every later screen.
  await Promise.race([earlier, new Promise((done) => setTimeout(done, EARLIER_WRITES_MS))]);
  await mine;
}

/**
 * Keep ``read()`` as the draft ``id`` on every pause (``keep``) and whenever the screen goes. ``read`` returns
 * null (or an object of empty values) when nothing is typed: the draft is dropped then. ``saved`` runs after a
 * write, for a "kept on this device" line.
 */
export function keeper(id, read, saved = () => {}) {
  let dropped = false;
  let typed = false; // an untouched form writes nothing (its defaults, its "now", are not a draft)
  const save = debounce(async () => {
    if (dropped || !typed) return;
    const value = read();
    if (value === null || value === undefined || isEmpty(value)) await data.drafts.drop(id);
    else {
      await data.drafts.save(id, value);
      saved();
    }
  }, 400);
  live.add(save);
  return {
    keep: () => {
      typed = true;
      save();
    },
    /** The form was saved (or given up): no draft any more, and none written later by a pending pause. */
    drop: async () => {
      dropped = true;
      live.delete(save);
      await data.drafts.drop(id);
    },
  };
}

/** Nothing typed: every value empty (an empty string, null, false or an empty list). */
function isEmpty(value) {
  if (value === null || value === undefined || value === "" || value === false) return true;
  if (Array.isArray(value)) return value.every(isEmpty);
  if (typeof value === "object") return Object.values(value).every(isEmpty);
  return false;
}

/** The fields of a panel kept by their ids (file inputs and passwords never). */
function fieldsOf(container) {
  return [...container.querySelectorAll("input[id], textarea[id], select[id]")].filter((input) => !["file", "password", "hidden"].includes(input.type));
}

const valueOf = (input) => (input.type === "checkbox" || input.type === "radio" ? input.checked : input.value);

/** The panels kept by ``keepFields``, to drop their draft once saved. */
const panels = new WeakMap();

/** The panel holding ``element`` was saved: its draft goes. */
export async function draftSaved(element) {
  const panel = element.closest("[data-draft]");
  if (panel && panels.has(panel)) await panels.get(panel)();
}

/**
 * Keep the fields of ``container`` as the draft ``id``; the draft, if any, is put back as soon as it is read
 * (a field the worker already changed keeps what they typed). Returns ``container``, marked ``data-draft``;
 * ``draftSaved`` drops the draft after a successful save.
 */
export function keepFields(container, id) {
  const initial = new Map();
  const touched = new Set();
  const read = () => {
    const changed = {};
    for (const input of fieldsOf(container)) {
      const value = valueOf(input);
      if (value !== initial.get(input.id)) changed[input.id] = value;
    }
    return Object.keys(changed).length ? changed : null;
  };
  const { keep, drop } = keeper(id, read);
  for (const input of fieldsOf(container)) initial.set(input.id, valueOf(input));
  let restoring = false;
  const note = (event) => {
    if (restoring) return; // what is put back is the draft already kept: writing it again could outlive its save
    if (event.target && event.target.id) touched.add(event.target.id);
    keep();
  };
  container.addEventListener("input", note);
  container.addEventListener("change", note);
  container.dataset.draft = id;
  panels.set(container, drop);
  Promise.resolve(data.drafts.get(id)).catch(() => null).then((draft) => {
    if (!draft) return;
    restoring = true;
    for (const input of fieldsOf(container)) {
      if (!(input.id in draft) || touched.has(input.id)) continue;
      if (input.type === "checkbox" || input.type === "radio") input.checked = Boolean(draft[input.id]);
      else input.value = draft[input.id];
      // The field's own handlers learn of it as if typed; a date field settles on its change.
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    restoring = false;
  });
  return container;
}
