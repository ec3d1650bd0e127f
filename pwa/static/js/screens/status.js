// "Sync status": what waits to be sent, what the server refused and why, the last sync, and whether the browser
// keeps this device's storage when space runs short.
import { nowMs, offsetMs } from "../clock.js";
import { momentField } from "../datefield.js";
import * as data from "../data.js";
import * as push from "../push.js";
import { t } from "../i18n.js";
import * as store from "../storage.js";
import * as outbox from "../outbox.js";
import * as files from "../files.js";
import { megabytes } from "../panels/documents.js";
import * as sync from "../sync.js";
import { append, chip, fromLocalInput, h, moment, refusal, toLocalInput, toast } from "../ui.js";

export async function render(main, _params, app) {
  const entries = await outbox.pending(app.key);
  const lastSync = await store.getMeta("last_sync");
  const records = await store.countRecords();
  const { case: cases } = await data.kinds("case");
  const titles = new Map(cases.map((c) => [c.id, c.fields.title]));
  const persisted = navigator.storage?.persisted ? await navigator.storage.persisted() : null;
  const estimate = navigator.storage?.estimate ? await navigator.storage.estimate() : null;
  const pushState = await push.status();
  const rejected = entries.filter((m) => m.status === "rejected");
  const waiting = entries.filter((m) => m.status !== "rejected");
  const generated = waiting.filter((m) => m.generated).length;

  const syncButton = h(
    "button",
    {
      type: "button",
      id: "sync-now",
      onclick: async () => {
        syncButton.disabled = true;
        const result = await sync.syncNow();
        syncButton.disabled = false;
        if (result.status === "offline") toast(t("sync.failed_offline"));
        else if (result.status === "busy") toast(t("sync.busy"));
        app.refresh();
      },
    },
    t("status.sync_now"),
  );

  const describe = (m) => {
    if (m.op === "resolve") return t("status.resolution");
    const title = titles.get(m.case_id);
    return `${t(`kind.${m.kind}`)}${title ? ` · ${title}` : ""}`;
  };

  append(
    main,
    h("h2", {}, t("status.title")),
    h(
      "section",
      { class: "card", "aria-labelledby": "status-summary" },
      h("h3", { id: "status-summary" }, t("status.summary")),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("status.waiting")),
        h("dd", { id: "waiting-count" }, String(waiting.length), generated ? h("span", { class: "muted" }, " ", t("status.generated", { n: generated })) : null),
        h("dt", {}, t("status.rejected")),
        h("dd", { id: "rejected-count" }, String(rejected.length)),
        h("dt", {}, t("status.last_sync")),
        h("dd", { id: "last-sync" }, lastSync ? moment(lastSync) : t("status.never")),
        h("dt", {}, t("status.records")),
        h("dd", {}, String(records)),
        h("dt", {}, t("status.network")),
        h("dd", {}, navigator.onLine ? t("net.online") : t("net.offline")),
      ),
      syncButton,
    ),
    rejected.length
      ? h(
          "section",
          { class: "card", "aria-labelledby": "status-errors" },
          h("h3", { id: "status-errors" }, t("status.errors")),
          h("p", {}, t("status.errors_explain")),
          h(
            "ul",
            { class: "plain outbox" },
            rejected.map((m) =>
              h(
                "li",
                { class: "rejected" },
                h("strong", {}, describe(m)),
                " ",
                chip(`${t("sync.rejected")}: ${refusal(m.error)}`, "danger"),
                m.error?.detail ? h("span", { class: "muted detail", lang: "en" }, ` ${m.error.detail}`) : null,
                futureMoment(m) ? momentFix(m, app) : null,
                " ",
                h(
                  "button",
                  {
                    type: "button",
                    class: "secondary small",
                    onclick: async () => {
                      if (!window.confirm(t("status.discard_confirm"))) return;
                      await data.discard(m.mid, m.id || m.conflict_id);
                      app.refresh();
                    },
                  },
                  t("status.discard"),
                ),
              ),
            ),
          ),
        )
      : null,
    waiting.length
      ? h(
          "section",
          { class: "card", "aria-labelledby": "status-waiting" },
          h("h3", { id: "status-waiting" }, t("status.waiting_list")),
          h("ul", { class: "plain outbox" }, waiting.slice(0, 100).map((m) => h("li", {}, describe(m), " ", chip(t("sync.waiting"), "info"), m.generated ? [" ", chip(t("status.auto"), "neutral")] : null))),
        )
      : null,
    await filesSection(app),
    h(
      "section",
      { class: "card", "aria-labelledby": "status-device" },
      h("h3", { id: "status-device" }, t("status.device")),
      h(
        "dl",
        { class: "facts" },
        estimate ? h("dt", {}, t("status.usage")) : null,
        estimate ? h("dd", {}, `${megabytes(estimate.usage)} / ${megabytes(estimate.quota)}`) : null,
        h("dt", {}, t("push.title")),
        h("dd", { id: "push-state" }, pushText(pushState)),
        h("dt", {}, t("status.protection")),
        h("dd", {}, t("status.protection_value")),
        h("dt", {}, t("status.lock_after")),
        h("dd", {}, t("status.minutes", { n: Number(localStorage.getItem("doorstep.idle_minutes")) || 5 })),
      ),
      persisted === false ? h("p", { class: "warning", id: "storage-warning" }, t("status.persist_warning")) : null,
      pushState.supported && pushState.permission !== "denied"
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              id: "push-toggle",
              onclick: async () => {
                const next = pushState.active ? await push.disable() : await push.enable();
                toast(next.active ? t("push.enabled") : t("push.not_enabled"));
                app.refresh();
              },
            },
            pushState.active ? t("push.disable") : t("push.enable"),
          )
        : null,
      persisted === false
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: async () => {
                const granted = await navigator.storage.persist();
                localStorage.setItem("doorstep.persisted", String(granted));
                app.refresh();
              },
            },
            t("status.persist_ask"),
          )
        : null,
      technicalDetails(app, persisted),
    ),
  );
}

/** What whoever looks after the tablets needs and a worker does not: the storage grant, the cipher, the device id. */
function technicalDetails(app, persisted) {
  return h(
    "details",
    { class: "technical" },
    h("summary", {}, t("status.technical")),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("status.persistence")),
      h("dd", { id: "persistence" }, persisted === null ? t("status.persist_unknown") : persisted ? t("status.persist_yes") : t("status.persist_no")),
      h("dt", {}, t("status.encryption")),
      h("dd", {}, t("status.encryption_value")),
      h("dt", {}, t("status.device_id")),
      h("dd", { class: "mono" }, app.deviceId() || "–"),
    ),
  );
}

function pushText(state) {
  if (!state.supported) return t("push.unsupported");
  if (state.permission === "denied") return t("push.blocked");
  if (state.active) return t("push.active", { host: state.host || "" });
  return t("push.inactive");
}

/** Documents taken on this tablet that the server does not hold yet, and those it refused (kept here). */
async function filesSection(app) {
  const held = await files.rows();
  const waiting = held.filter((f) => f.state === "upload");
  const refused = held.filter((f) => f.state === "refused");
  if (!waiting.length && !refused.length) return null;
  const bytes = waiting.reduce((sum, f) => sum + f.size, 0);
  return h(
    "section",
    { class: "card", "aria-labelledby": "status-files" },
    h("h3", { id: "status-files" }, t("status.files")),
    waiting.length ? h("p", { id: "files-waiting" }, t("status.files_waiting", { n: waiting.length, size: megabytes(bytes) })) : null,
    refused.length
      ? h(
          "ul",
          { class: "plain" },
          refused.map((f) =>
            h(
              "li",
              {},
              h("a", { href: `#/dokument/${f.id}` }, megabytes(f.size)),
              " ",
              chip(t("docs.refused", { detail: f.error?.detail || "" }), "danger"),
              " ",
              h(
                "button",
                {
                  type: "button",
                  class: "small secondary",
                  onclick: async () => {
                    if (!window.confirm(t("docs.discard_confirm"))) return;
                    await files.discard(f.id);
                    app.refresh();
                  },
                },
                t("docs.discard"),
              ),
            ),
          ),
        )
      : null,
  );
}

/** A change refused for one of its moments (one that lay in the future: the tablet's clock ran ahead). */
function futureMoment(m) {
  const value = m.error?.code === "validation" && m.error.field && m.fields ? m.fields[m.error.field] : null;
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value);
}

/** The refused moment, to be put right and sent again. Suggested: the moment less the clock's known difference. */
function momentFix(m, app) {
  const field = m.error.field;
  const wrong = Date.parse(m.fields[field]);
  const corrected = wrong - offsetMs();
  const suggestion = corrected <= nowMs() ? corrected : nowMs();
  const id = `fix-${m.mid}`;
  const when = momentField({ id, value: toLocalInput(new Date(suggestion).toISOString()), required: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  return h(
    "form",
    {
      class: "moment-fix",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const value = when.value;
        const problem = !value ? "status.fix_invalid" : Date.parse(fromLocalInput(value)) > nowMs() + 60_000 ? "status.fix_future" : null;
        if (problem) {
          error.textContent = t(problem);
          error.hidden = false;
          return;
        }
        if (event.submitter) event.submitter.disabled = true; // one tap, one correction
        await data.resendMoment(m, field, fromLocalInput(value));
        toast(t("status.fix_done"));
        sync.syncNow().then(() => app.refresh());
        app.refresh();
      },
    },
    h("p", { class: "muted" }, t("status.fix_explain")),
    h("label", { for: id }, t("status.fix_moment")),
    when,
    error,
    h("button", { type: "submit", class: "small" }, t("status.fix_resend")),
  );
}
