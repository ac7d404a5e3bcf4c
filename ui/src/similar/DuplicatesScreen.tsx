import { useMemo, useState, type FormEvent } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { typeBadge } from "../files/itemTypes";
import { useSchemaKeys } from "../index/queries";
import { linkProps, paths } from "../router";
import { useDuplicates, type DuplicateGroup } from "./duplicates";

/** Near-duplicates (/duplicates): groups of items whose vectors of an embedding key lie within
 * a distance of the group's first member (POST /api/v1/items/duplicates), among a filter's
 * items; each member links to the item viewer. */
export function DuplicatesScreen() {
  const schema = useSchemaKeys();
  const keys = useMemo(() => (schema.data ?? []).filter((k) => !k.deleted && k.type === "embedding").map((k) => k.key), [schema.data]);
  const [chosen, setChosen] = useState("");
  const key = chosen || keys[0] || "";
  const [threshold, setThreshold] = useState("0.05");
  const [where, setWhere] = useState("");
  const duplicates = useDuplicates();
  const find = (event: FormEvent) => {
    event.preventDefault();
    if (key) duplicates.mutate({ key, threshold: Number(threshold), where });
  };
  const groups = duplicates.data;
  return (
    <div className="filters">
      <aside className="sidebar" aria-label="Duplicate search">
        <ErrorMessage error={schema.error} context="The metadata schema could not be read" />
        {schema.data && keys.length === 0 ? <p className="empty">The metadata schema has no embedding key.</p> : null}
        <form className="key-control" onSubmit={find} aria-label="Find duplicates">
          <label>
            Embedding key{" "}
            <select value={key} onChange={(event) => setChosen(event.target.value)}>
              {keys.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </label>
          <label>
            Largest distance (cosine: 1 − cos){" "}
            <input inputMode="decimal" value={threshold} onChange={(event) => setThreshold(event.target.value)} />
          </label>
          <label htmlFor="duplicates-where">Only items matching (a JSON tree or --where text; empty: every item)</label>
          <textarea id="duplicates-where" rows={3} value={where} onChange={(event) => setWhere(event.target.value)} />
          <button type="submit" className="primary" disabled={!key || duplicates.isPending}>
            {duplicates.isPending ? "Searching…" : "Find duplicates"}
          </button>
        </form>
      </aside>
      <main className="content filters-main" aria-label="Near-duplicates">
        <h2>Near-duplicates</h2>
        <ErrorMessage error={duplicates.error} context="The duplicate search was refused" />
        {groups ? (
          <p role="status" data-testid="duplicate-count">
            {groups.length === 0 ? "No near-duplicates within this distance." : `${groups.length} group${groups.length === 1 ? "" : "s"}`}
          </p>
        ) : null}
        {(groups ?? []).map((group, n) => (
          <Group key={group.members[0]?.item.id ?? n} group={group} n={n + 1} />
        ))}
      </main>
    </div>
  );
}

function Group({ group, n }: { group: DuplicateGroup; n: number }) {
  return (
    <section className="panel duplicate-group" aria-label={`Group ${n}`}>
      <h3>
        Group {n} ({group.members.length} items)
      </h3>
      <ol>
        {group.members.map((hit) => (
          <li key={`${hit.item.id}-${hit.frame ?? ""}`}>
            <span className={`type-badge type-${hit.item.item_type}`}>{typeBadge(hit.item.item_type).badge}</span>{" "}
            <a {...linkProps(paths.item(hit.item.folder_id, hit.item.id))}>{hit.item.name}</a>
            {hit.frame !== null ? ` (frame ${hit.frame})` : ""} <span className="distance">{hit.distance.toFixed(4)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
