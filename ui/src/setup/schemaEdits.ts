/** Edits of the metadata schema document (the encord wire format), sent whole with
 * PUT /api/v1/schema; the server checks every key and transition and names what it refuses. */
export type SchemaDocument = Record<string, Record<string, unknown>>;

export const SCALAR_TYPES = ["number", "boolean", "datetime", "varchar", "text", "uuid"] as const;

export function addScalar(document: SchemaDocument, key: string, type: string): SchemaDocument {
  return { ...document, [key]: { ty: "variant", hint: type } };
}

/** An enum key with the values typed, comma-separated (blank ones dropped). */
export function addEnum(document: SchemaDocument, key: string, values: string): SchemaDocument {
  const list = values.split(",").map((value) => value.trim()).filter(Boolean);
  return { ...document, [key]: { ty: "enum", values: list } };
}

/** More values for an enum key (blank and already present ones dropped: the server refuses
 * nothing then, and names a bad value). */
export function addEnumValues(document: SchemaDocument, key: string, values: string): SchemaDocument {
  const current = Array.isArray(document[key]?.values) ? (document[key]!.values as string[]) : [];
  const added = values.split(",").map((value) => value.trim()).filter((value) => value && !current.includes(value));
  return { ...document, [key]: { ...document[key], values: [...current, ...added] } };
}

/** A scalar key retyped (its index rows are rebuilt for the new type; values that do not fit
 * it are left out of filters on it). */
export function retypeScalar(document: SchemaDocument, key: string, type: string): SchemaDocument {
  return { ...document, [key]: { ty: "variant", hint: type } };
}

/** An embedding key of ``size`` numbers (the server refuses a size outside 1..4096, saying so). */
export function addEmbedding(document: SchemaDocument, key: string, size: string): SchemaDocument {
  return { ...document, [key]: { ty: "embedding", size: Number(size.trim()) } };
}

/** A soft delete: the key's option kept in the tombstone, so it can be restored. */
export function deleteKey(document: SchemaDocument, key: string): SchemaDocument {
  return { ...document, [key]: { ty: "tombstone", deleted_ty: document[key] ?? null } };
}

export function restoreKey(document: SchemaDocument, key: string): SchemaDocument {
  const was = document[key]?.deleted_ty;
  if (!was || typeof was !== "object") throw new Error(`${key} was hard deleted and cannot be restored`);
  return { ...document, [key]: was as Record<string, unknown> };
}
