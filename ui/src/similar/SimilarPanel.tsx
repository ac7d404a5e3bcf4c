import { useMemo, useState, type FormEvent } from "react";

import type { Item } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { typeBadge } from "../files/itemTypes";
import { useSchemaKeys } from "../index/queries";
import { linkProps, paths } from "../router";
import { useSimilar, type SimilarQuery } from "./queries";

const K_CHOICES = [5, 10, 20, 50];

/** "Similar items" in the item viewer: the k items nearest to this one (or to a text, for a key
 * with a text encoder) by an embedding key, optionally within its folder or a filter. */
export function SimilarPanel({ item }: { item: Item }) {
  const schema = useSchemaKeys();
  const keys = useMemo(() => (schema.data ?? []).filter((k) => !k.deleted && k.type === "embedding").map((k) => k.key), [schema.data]);
  const [chosen, setChosen] = useState("");
  const key = chosen || keys[0] || "";
  const [k, setK] = useState(10);
  const [inFolder, setInFolder] = useState(false);
  const [whereText, setWhereText] = useState("");
  const [where, setWhere] = useState("");
  const [textDraft, setTextDraft] = useState("");
  const [text, setText] = useState("");
  if (keys.length === 0) return null; // no embedding key (or no schema yet): nothing to compare
  const query: SimilarQuery | null = key
    ? { key, k, folderId: inFolder ? item.folder_id : null, where, ...(text ? { text } : { itemId: item.id }) }
    : null;
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setWhere(whereText);
    setText(textDraft.trim());
  };
  return (
    <section className="similar" aria-label="Similar items">
      <h3>Similar items</h3>
      <form className="similar-form" onSubmit={apply}>
        <label>
          Key{" "}
          <select aria-label="Similarity key" value={key} onChange={(event) => setChosen(event.target.value)}>
            {keys.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Top{" "}
          <select aria-label="How many" value={k} onChange={(event) => setK(Number(event.target.value))}>
            {K_CHOICES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={inFolder} onChange={(event) => setInFolder(event.target.checked)} /> within this folder
        </label>
        <input aria-label="Only items matching (filter)" placeholder="filter: JSON or --where text" value={whereText} onChange={(event) => setWhereText(event.target.value)} />
        <input type="search" aria-label="Find by text" placeholder="or find by text: rainy street scenes" value={textDraft} onChange={(event) => setTextDraft(event.target.value)} />
        <button type="submit">Search</button>
        {text ? (
          <button type="button" onClick={() => (setText(""), setTextDraft(""))}>
            Like this item
          </button>
        ) : null}
      </form>
      <p className="hint">{text ? `Nearest to the text “${text}”` : "Nearest to this item"}</p>
      <SimilarResults query={query} />
    </section>
  );
}

/** The hits, nearest first, each opening its item in the viewer. */
export function SimilarResults({ query }: { query: SimilarQuery | null }) {
  const similar = useSimilar(query);
  return (
    <>
      <ErrorMessage error={similar.error} context="The similarity search was refused" />
      {similar.isFetching && !similar.data ? <p className="empty">Searching…</p> : null}
      {similar.data && similar.data.length === 0 ? <p className="empty">No items with a vector of this key here.</p> : null}
      <ol className="similar-list" aria-label="Nearest items">
        {(similar.data ?? []).map((hit) => (
          <li key={`${hit.item.id}:${hit.frame ?? ""}`} data-item-id={hit.item.id}>
            <span className={`type-badge type-${hit.item.item_type}`}>{typeBadge(hit.item.item_type).badge}</span>{" "}
            <a {...linkProps(paths.item(hit.item.folder_id, hit.item.id))}>{hit.item.name}</a>
            {hit.frame !== null ? <span className="hint"> frame {hit.frame}</span> : null}
            <span className="distance" title="distance">
              {hit.distance.toFixed(4)}
            </span>
          </li>
        ))}
      </ol>
    </>
  );
}
