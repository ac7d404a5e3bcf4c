import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";

/** Datasets: create one, link the selected results into it, list its data rows
 * (/api/v1/datasets). */
export function DatasetsPanel({ selected }: { selected: string[] }) {
  const api = useApi();
  const client = useQueryClient();
  const [title, setTitle] = useState("");
  const [openId, setOpenId] = useState<string | null>(null);
  const datasets = useQuery({ queryKey: ["datasets"], queryFn: () => unwrap(api.GET("/api/v1/datasets")) });
  const create = useMutation({
    mutationFn: (name: string) => unwrap(api.POST("/api/v1/datasets", { body: { title: name, storage_location: 0 } })),
    onSuccess: (made) => {
      setTitle("");
      setOpenId(made.id);
      return refreshQueries(client, ["datasets"]);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (title.trim()) create.mutate(title.trim());
  };
  const list = datasets.data ?? [];
  const open = list.find((dataset) => dataset.id === openId) ?? null;
  return (
    <section className="panel" aria-label="Datasets">
      <h3>Datasets</h3>
      <form className="inline-form" onSubmit={submit}>
        <label>
          New dataset <input value={title} onChange={(event) => setTitle(event.target.value)} />
        </label>
        <button type="submit" disabled={!title.trim() || create.isPending}>
          Create dataset
        </button>
      </form>
      <ErrorMessage error={create.error ?? datasets.error} context="Datasets" />
      <ul className="plain-list">
        {list.map((dataset) => (
          <li key={dataset.id}>
            <button type="button" aria-pressed={dataset.id === openId} onClick={() => setOpenId(dataset.id)}>
              {dataset.title}
            </button>
          </li>
        ))}
      </ul>
      {open ? <OpenDataset key={open.id} id={open.id} title={open.title} selected={selected} /> : null}
    </section>
  );
}

function OpenDataset({ id, title, selected }: { id: string; title: string; selected: string[] }) {
  const api = useApi();
  const client = useQueryClient();
  const path = { params: { path: { dataset_id: id } } };
  const rows = useQuery({ queryKey: ["datasets", id, "rows"], queryFn: () => unwrap(api.GET("/api/v1/datasets/{dataset_id}/rows", path)) });
  const link = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/datasets/{dataset_id}/items", { ...path, body: { item_ids: selected, duplicates_behavior: "skip" } })),
    onSuccess: () => refreshQueries(client, ["datasets", id, "rows"]),
  });
  const list = rows.data ?? [];
  return (
    <div role="group" aria-label={`Dataset ${title}`}>
      <button type="button" disabled={selected.length === 0 || link.isPending} onClick={() => link.mutate()}>
        Link {selected.length} selected result{selected.length === 1 ? "" : "s"}
      </button>
      <ErrorMessage error={link.error ?? rows.error} context={`Dataset ${title}`} />
      <p className="count" aria-live="polite">
        {rows.data ? `${list.length} data row${list.length === 1 ? "" : "s"} in ${title}` : ""}
      </p>
      <ul className="plain-list" aria-label={`Data rows of ${title}`}>
        {list.map((row) => (
          <li key={row.id}>
            {row.title} <span className="item-facts">{row.item_type}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
