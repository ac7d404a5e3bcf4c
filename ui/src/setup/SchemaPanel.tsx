import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";
import { schemaKeys } from "../index/filter";
import { addEmbedding, addEnum, addEnumValues, addScalar, deleteKey, restoreKey, retypeScalar, SCALAR_TYPES, type SchemaDocument } from "./schemaEdits";

/** The metadata schema: each key with its type; add a scalar, enum or embedding key, delete (soft) and
 * restore. Each change sends the whole document (PUT /api/v1/schema). */
export function SchemaPanel() {
  const api = useApi();
  const client = useQueryClient();
  const document = useQuery({
    queryKey: ["schema", "document"],
    queryFn: async () => (await unwrap(api.GET("/api/v1/schema"))) as SchemaDocument,
  });
  const save = useMutation({
    mutationFn: (next: SchemaDocument) => unwrap(api.PUT("/api/v1/schema", { body: next as never })),
    onSuccess: () => refreshQueries(client, ["schema"]),
  });
  const [refused, setRefused] = useState<unknown>(null);
  const change = (edit: (current: SchemaDocument) => SchemaDocument) => {
    if (!document.data) return;
    setRefused(null);
    try {
      save.mutate(edit(document.data));
    } catch (error) {
      setRefused(error);
    }
  };
  const keys = schemaKeys(document.data ?? {});
  return (
    <section className="panel" aria-label="Metadata schema">
      <h3>Metadata schema</h3>
      <ErrorMessage error={document.error ?? save.error ?? refused} context="The schema was not changed" />
      <table className="plain-table">
        <thead>
          <tr>
            <th>key</th>
            <th>type</th>
            <th>detail</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.key}>
              <td>{key.key}</td>
              <td>
                {!key.deleted && (SCALAR_TYPES as readonly string[]).includes(key.type) ? (
                  <select aria-label={`Type of ${key.key}`} value={key.type} onChange={(event) => change((current) => retypeScalar(current, key.key, event.target.value))}>
                    {SCALAR_TYPES.map((option) => (
                      <option key={option}>{option}</option>
                    ))}
                  </select>
                ) : key.deleted ? (
                  `deleted (${key.type || "hard"})`
                ) : (
                  key.type
                )}
              </td>
              <td>
                {key.values?.join(", ") ?? (typeof document.data?.[key.key]?.size === "number" ? `${document.data[key.key]!.size} numbers` : "")}
                {key.values && !key.deleted ? <AddValues name={key.key} onAdd={(values) => change((current) => addEnumValues(current, key.key, values))} /> : null}
              </td>
              <td>
                {key.deleted ? (
                  key.restorable ? (
                    <button type="button" onClick={() => change((current) => restoreKey(current, key.key))} aria-label={`Restore ${key.key}`}>
                      Restore
                    </button>
                  ) : null
                ) : (
                  <button type="button" onClick={() => change((current) => deleteKey(current, key.key))} aria-label={`Delete ${key.key}`}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddKey onAdd={change} busy={save.isPending} />
    </section>
  );
}

/** More values of an enum key, comma-separated. */
function AddValues({ name, onAdd }: { name: string; onAdd: (values: string) => void }) {
  const [values, setValues] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!values.trim()) return;
    onAdd(values);
    setValues("");
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Add values to ${name}`}>
      <input aria-label={`New values of ${name} (comma-separated)`} value={values} onChange={(event) => setValues(event.target.value)} />
      <button type="submit" disabled={!values.trim()}>
        Add values
      </button>
    </form>
  );
}

function AddKey({ onAdd, busy }: { onAdd: (edit: (current: SchemaDocument) => SchemaDocument) => void; busy: boolean }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("number");
  const [values, setValues] = useState("");
  const [size, setSize] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const key = name.trim();
    if (!key) return;
    onAdd((current) =>
      type === "enum" ? addEnum(current, key, values) : type === "embedding" ? addEmbedding(current, key, size) : addScalar(current, key, type),
    );
    setName("");
    setValues("");
    setSize("");
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Add a key">
      <label>
        Key name <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <label>
        Key type{" "}
        <select value={type} onChange={(event) => setType(event.target.value)}>
          {[...SCALAR_TYPES, "enum", "embedding"].map((option) => (
            <option key={option}>{option}</option>
          ))}
        </select>
      </label>
      {type === "enum" ? (
        <label>
          Values (comma-separated) <input value={values} onChange={(event) => setValues(event.target.value)} />
        </label>
      ) : null}
      {type === "embedding" ? (
        <label>
          Size (numbers per vector) <input inputMode="numeric" value={size} onChange={(event) => setSize(event.target.value)} />
        </label>
      ) : null}
      <button type="submit" disabled={!name.trim() || (type === "embedding" && !size.trim()) || busy}>
        Add key
      </button>
    </form>
  );
}
