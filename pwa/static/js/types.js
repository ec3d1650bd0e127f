// The shapes the tablet's modules pass around, for the type checker (jsconfig.json): JSDoc only, no code. The wire
// shapes follow docs/sync-protocol.md; the stored shapes are what storage.js and outbox handling keep in IndexedDB.

/**
 * A change sent to the server (docs/sync-protocol.md "Push"): an upsert of named fields, a delete, or a conflict's
 * resolution. ``mid`` is the device's sequence number; ``base_version`` the version the change started from.
 * @typedef {object} Mutation
 * @property {number} [mid]
 * @property {"put" | "delete" | "resolve"} op
 * @property {string} [kind]
 * @property {string} [id]
 * @property {string} [case_id]
 * @property {number | null} [base_version]
 * @property {Record<string, any>} [fields]
 * @property {string} [conflict_id]
 * @property {any} [value]
 */

/**
 * A mutation as the outbox keeps it (docs/sync-protocol.md "Outbox states"), decrypted.
 * @typedef {Mutation & {mid: number, status: "waiting" | "sent" | "rejected", error: ({code: string, field?: string, detail?: string} | null), generated: boolean}} OutboxEntry
 */

/**
 * A record as the device holds it: the fields last pulled, and this device's changes not pulled back yet.
 * @typedef {object} StoredRecord
 * @property {string} id
 * @property {string} kind
 * @property {string} case_id
 * @property {number | null} version
 * @property {Record<string, any>} fields
 * @property {Record<string, any> | null} [local]
 * @property {boolean} [deleted]
 * @property {string} [flag]
 */

/**
 * One page of a pull (docs/sync-protocol.md "Pull").
 * @typedef {object} PullPage
 * @property {Array<Record<string, any>>} changes
 * @property {string} cursor
 * @property {boolean} more
 * @property {string[]} [purge]
 */

/**
 * What a sync run tells its listeners (sync.js ``subscribe``).
 * @typedef {object} SyncEvent
 * @property {string} type
 * @property {string} [status]
 * @property {number} [done]
 * @property {number} [total]
 */

/**
 * A deadline of a case (deadlines.js ``compute``), with what legal.js adds for the screens.
 * @typedef {object} Deadline
 * @property {string} rule
 * @property {string} due_on
 * @property {string} basis
 * @property {string} record_id
 * @property {"deadline" | "preparation"} kind
 * @property {string | null} unavailable
 * @property {string[]} provisional
 * @property {string | null} warning
 * @property {string} [action]
 * @property {boolean} [done]
 * @property {string} [label]
 * @property {string} [case_id]
 */

/**
 * The options of a date or date-and-time field (datefield.js).
 * @typedef {object} FieldOptions
 * @property {string} [id]
 * @property {string} [value]
 * @property {string} [min]
 * @property {string} [max]
 * @property {boolean} [required]
 * @property {string} [name]
 * @property {(event: Event) => void} [onchange]
 */

export {};
