import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";
import { linkProps, paths } from "../router";
import { indexKeys, usePresets } from "./queries";

/** Collections: create one, add the selected results or a preset's items to it, list its items
 * and remove the ticked ones (/api/v1/collections). */
export function CollectionsPanel({ selected }: { selected: string[] }) {
  const api = useApi();
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [openId, setOpenId] = useState<string | null>(null);
  const collections = useQuery({
    queryKey: indexKeys.collections,
    queryFn: () => unwrap(api.GET("/api/v1/collections", { params: { query: { page_size: 500 } } })),
  });
  const create = useMutation({
    mutationFn: (title: string) => unwrap(api.POST("/api/v1/collections", { body: { name: title } })),
    onSuccess: (made) => {
      setName("");
      setOpenId(made.id);
      return refreshQueries(client, indexKeys.collections);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate(name.trim());
  };
  const list = collections.data?.results ?? [];
  const open = list.find((collection) => collection.id === openId) ?? null;
  return (
    <section className="panel" aria-label="Collections">
      <h3>Collections</h3>
      <form className="inline-form" onSubmit={submit}>
        <label>
          New collection <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <button type="submit" disabled={!name.trim() || create.isPending}>
          Create
        </button>
      </form>
      <ErrorMessage error={create.error ?? collections.error} context="Collections" />
      <ul className="plain-list">
        {list.map((collection) => (
          <li key={collection.id}>
            <button type="button" aria-pressed={collection.id === openId} onClick={() => setOpenId(collection.id)}>
              {collection.name}
            </button>
          </li>
        ))}
      </ul>
      {open ? <OpenCollection key={open.id} id={open.id} name={open.name} selected={selected} /> : null}
    </section>
  );
}

function OpenCollection({ id, name, selected }: { id: string; name: string; selected: string[] }) {
  const api = useApi();
  const presets = usePresets();
  const [presetId, setPresetId] = useState("");
  const [ticked, setTicked] = useState<ReadonlySet<string>>(new Set());
  const [done, setDone] = useState("");
  const items = useQuery({
    queryKey: indexKeys.collectionItems(id),
    queryFn: () =>
      unwrap(api.GET("/api/v1/collections/{collection_id}/items", { params: { path: { collection_id: id }, query: { page_size: 500 } } })),
  });
  const change = useCollectionChange(id, (result, what) => {
    setDone(`${what.remove ? "Removed" : "Added"} ${result.changed} (${result.unchanged} unchanged)`);
    setTicked(new Set());
  });
  const rows = items.data?.results ?? [];
  const tick = (itemId: string, on: boolean) =>
    setTicked((current) => {
      const next = new Set(current);
      if (on) next.add(itemId);
      else next.delete(itemId);
      return next;
    });
  return (
    <div className="collection" role="group" aria-label={`Collection ${name}`}>
      <div className="toolbar">
        <button type="button" disabled={selected.length === 0 || change.isPending} onClick={() => change.mutate({ add: selected })}>
          Add {selected.length} selected result{selected.length === 1 ? "" : "s"}
        </button>
        <label>
          Preset{" "}
          <select value={presetId} onChange={(event) => setPresetId(event.target.value)}>
            <option value="">choose…</option>
            {(presets.data?.results ?? []).map((preset) => (
              <option key={preset.id} value={preset.id}>
                {preset.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!presetId || change.isPending} onClick={() => change.mutate({ preset: presetId })}>
          Add the preset's items
        </button>
        <button type="button" disabled={ticked.size === 0 || change.isPending} onClick={() => change.mutate({ remove: [...ticked] })}>
          Remove ticked
        </button>
      </div>
      <ErrorMessage error={change.error ?? items.error} context={`Collection ${name}`} />
      <p className="count" aria-live="polite">
        {done ? `${done}. ` : ""}
        {items.data ? `${rows.length}${items.data.next_page_token ? "+" : ""} item${rows.length === 1 ? "" : "s"} in ${name}` : ""}
      </p>
      <ul className="plain-list" aria-label={`Items of collection ${name}`}>
        {rows.map((item) => (
          <li key={item.id}>
            <input type="checkbox" aria-label={`Tick ${item.name}`} checked={ticked.has(item.id)} onChange={(event) => tick(item.id, event.target.checked)} />{" "}
            <a {...linkProps(paths.item(item.folder_id, item.id))}>{item.name}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

interface Change {
  add?: string[];
  remove?: string[];
  preset?: string;
}

/** Add items (by id or a preset's) to the collection, or remove some; its items listed again. */
function useCollectionChange(id: string, onDone: (result: { changed: number; unchanged: number }, what: Change) => void) {
  const api = useApi();
  const client = useQueryClient();
  const path = { params: { path: { collection_id: id } } };
  return useMutation({
    mutationFn: (what: Change) => {
      if (what.preset) return unwrap(api.POST("/api/v1/collections/{collection_id}/items/add-from-preset", { ...path, body: { preset_id: what.preset } }));
      if (what.remove) return unwrap(api.POST("/api/v1/collections/{collection_id}/items/remove", { ...path, body: { item_ids: what.remove } }));
      return unwrap(api.POST("/api/v1/collections/{collection_id}/items/add", { ...path, body: { item_ids: what.add ?? [] } }));
    },
    onSuccess: (result, what) => {
      onDone(result, what);
      return refreshQueries(client, indexKeys.collectionItems(id));
    },
  });
}
