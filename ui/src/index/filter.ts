/** The filter controls of the Filters screen and the Index's JSON filter tree they make
 * (docs/index.md): one condition per control, joined by "and". */

export type KeyType = "enum" | "boolean" | "number" | "datetime" | "varchar" | "uuid" | "text" | "embedding";

/** A filterable key: a schema key or a media fact ($type, $mime, ...). */
export interface FilterKey {
  key: string;
  type: KeyType;
  values?: string[]; // an enum's
  label?: string;
}

/** A key of the metadata schema document (the encord wire format), deleted ones included. */
export interface SchemaKey extends FilterKey {
  deleted: boolean;
  restorable: boolean;
}

export type Condition = { key: string; op: string; value?: unknown };
export type FilterNode = Condition | { and: FilterNode[] } | { or: FilterNode[] } | { not: FilterNode };

/** The state of one key's control. */
export type Control =
  | { kind: "values"; values: Array<string | boolean> } // enum, boolean: the ticked values
  | { kind: "range"; low: string; high: string } // number, datetime: as typed
  | { kind: "match"; op: "=" | "prefix"; text: string } // varchar, uuid
  | { kind: "contains"; text: string }; // text
export type Controls = Record<string, Control>;

const ALIASES: Record<string, KeyType> = { string: "varchar", long_string: "text" };

function typeOf(option: Record<string, unknown>): KeyType {
  const ty = String(option.ty ?? "");
  const hint = ty === "variant" ? String(option.hint ?? "text") : ty;
  return (ALIASES[hint] ?? hint) as KeyType;
}

/** The schema document's keys with their types, sorted by name. */
export function schemaKeys(document: Record<string, unknown>): SchemaKey[] {
  return Object.entries(document)
    .map(([key, raw]) => {
      const option = (raw ?? {}) as Record<string, unknown>;
      const ty = String(option.ty ?? "");
      if (ty === "tombstone") {
        // a soft delete keeps the key's option in deleted_ty (a hard delete: null)
        const was = (option.deleted_ty ?? null) as Record<string, unknown> | null;
        return { key, type: was ? typeOf(was) : ("" as KeyType), deleted: true, restorable: was !== null };
      }
      const type = typeOf(option);
      const values = Array.isArray(option.values) ? option.values.map(String) : undefined;
      return { key, type, deleted: false, restorable: false, ...(values ? { values } : {}) };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The media facts a person filters by most (every item has them, no schema needed). */
export const MEDIA_FACTS: FilterKey[] = [
  { key: "$type", type: "enum", label: "type" },
  { key: "$mime", type: "varchar", label: "MIME type" },
  { key: "$width", type: "number", label: "width (px)" },
  { key: "$height", type: "number", label: "height (px)" },
  { key: "$duration", type: "number", label: "duration (s)" },
  { key: "$size", type: "number", label: "file size (bytes)" },
  { key: "$created_at", type: "datetime", label: "registered" },
];

/** The control a key of this type gets, empty. */
export function emptyControl(type: KeyType): Control | null {
  switch (type) {
    case "enum":
    case "boolean":
      return { kind: "values", values: [] };
    case "number":
    case "datetime":
      return { kind: "range", low: "", high: "" };
    case "varchar":
    case "uuid":
      return { kind: "match", op: "=", text: "" };
    case "text":
      return { kind: "contains", text: "" };
    default:
      return null; // embeddings are searched by similarity, not filtered
  }
}

/** A bound as typed: a number key's as a JSON number when it reads as one (anything else is
 * sent as typed, so the API's message names it), a datetime's as the text. */
function bound(type: KeyType, text: string): unknown {
  const trimmed = text.trim();
  if (type !== "number") return trimmed;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}

/** The condition one control makes on its key (null when the control is empty). */
export function conditionOf(key: FilterKey, control: Control | undefined): FilterNode | null {
  if (!control) return null;
  switch (control.kind) {
    case "values": {
      if (control.values.length === 0) return null;
      if (key.type === "boolean") {
        const parts = control.values.map((value): FilterNode => ({ key: key.key, op: "=", value }));
        return parts.length === 1 ? parts[0]! : { or: parts };
      }
      return { key: key.key, op: "in", value: [...control.values] };
    }
    case "range": {
      const low = control.low.trim() ? bound(key.type, control.low) : null;
      const high = control.high.trim() ? bound(key.type, control.high) : null;
      if (low !== null && high !== null) return { key: key.key, op: "between", value: [low, high] };
      if (low !== null) return { key: key.key, op: ">=", value: low };
      if (high !== null) return { key: key.key, op: "<=", value: high };
      return null;
    }
    case "match":
      return control.text.trim() ? { key: key.key, op: control.op, value: control.text.trim() } : null;
    case "contains":
      return control.text.trim() ? { key: key.key, op: "contains", value: control.text.trim() } : null;
  }
}

/** The filter tree of every control (null: no condition, every item), leaving out `except`
 * (a key's own facet counts are taken under the other keys' conditions). */
export function filterTree(keys: FilterKey[], controls: Controls, except?: string): FilterNode | null {
  const parts = keys
    .filter((key) => key.key !== except)
    .map((key) => conditionOf(key, controls[key.key]))
    .filter((node): node is FilterNode => node !== null);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : { and: parts };
}

function isCondition(node: FilterNode): node is Condition {
  return typeof (node as Condition).key === "string";
}

/** The controls that make `tree` again (a saved preset reopened), or null when the tree is not
 * one the controls can show (an "or" across keys, a "not", an operator they do not make). */
export function controlsOf(keys: FilterKey[], tree: FilterNode | null): Controls | null {
  if (tree === null) return {};
  const parts = "and" in tree ? tree.and : [tree];
  const controls: Controls = {};
  for (const part of parts) {
    const read = controlOf(keys, part);
    if (!read || controls[read[0]]) return null;
    controls[read[0]] = read[1];
  }
  return controls;
}

function controlOf(keys: FilterKey[], node: FilterNode): [string, Control] | null {
  if ("or" in node) {
    // a boolean key with both values ticked
    const values = node.or.map((part) => (isCondition(part) && part.op === "=" ? part : null));
    const key = values[0]?.key;
    if (!key || values.some((part) => !part || part.key !== key || typeof part.value !== "boolean")) return null;
    return [key, { kind: "values", values: values.map((part) => part!.value as boolean) }];
  }
  if (!isCondition(node)) return null;
  const key = keys.find((candidate) => candidate.key === node.key);
  if (!key) return null;
  const text = (value: unknown) => (value === undefined || value === null ? "" : String(value));
  switch (node.op) {
    case "in":
      return Array.isArray(node.value) ? [key.key, { kind: "values", values: node.value.map(String) }] : null;
    case "=":
      if (key.type === "boolean") return [key.key, { kind: "values", values: [node.value as boolean] }];
      if (key.type === "enum") return [key.key, { kind: "values", values: [String(node.value)] }];
      return [key.key, { kind: "match", op: "=", text: text(node.value) }];
    case "prefix":
      return [key.key, { kind: "match", op: "prefix", text: text(node.value) }];
    case "contains":
      return [key.key, { kind: "contains", text: text(node.value) }];
    case "between": {
      const [low, high] = Array.isArray(node.value) ? node.value : [];
      return [key.key, { kind: "range", low: text(low), high: text(high) }];
    }
    case ">=":
      return [key.key, { kind: "range", low: text(node.value), high: "" }];
    case "<=":
      return [key.key, { kind: "range", low: "", high: text(node.value) }];
    default:
      return null;
  }
}

/** The keys a search can sort by (scalars and facts; not text or embeddings). */
export function sortableKeys(keys: FilterKey[]): FilterKey[] {
  return keys.filter((key) => ["number", "datetime", "varchar", "enum", "boolean", "uuid"].includes(key.type));
}
