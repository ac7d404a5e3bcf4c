import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { unwrap } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { useApi } from "../api/context";
import { fetchFolders } from "../files/queries";
import { CollectionsPanel } from "./CollectionsPanel";
import { DatasetsPanel } from "./DatasetsPanel";
import { filterTree, MEDIA_FACTS, sortableKeys, type Controls, type FilterKey, type FilterNode } from "./filter";
import { KeyControl } from "./KeyControl";
import { PresetsPanel } from "./PresetsPanel";
import { useCount, useSchemaKeys, type Scope } from "./queries";
import { ResultList } from "./ResultList";

/** Filters (the Index): a control per schema key and media fact, the filter tree they make,
 * the API's count, sort, the results a keyset page at a time; presets and collections. */
export function FiltersScreen({ folderId = null }: { folderId?: string | null }) {
  const schema = useSchemaKeys();
  const keys = useMemo<FilterKey[]>(
    () => [...(schema.data ?? []).filter((key) => !key.deleted && key.type !== "embedding"), ...MEDIA_FACTS],
    [schema.data],
  );
  const [controls, setControls] = useState<Controls>({});
  const [scope, setScope] = useState<Scope>({ folderId, recursive: true });
  const [sortKey, setSortKey] = useState("");
  const [descending, setDescending] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const where = useMemo(() => filterTree(keys, controls), [keys, controls]);
  const count = useCount(where, scope);
  const sort = sortKey ? `${descending ? "-" : ""}${sortKey}` : null;

  return (
    <div className="filters">
      <aside className="sidebar" aria-label="Filter controls">
        <ScopeControl scope={scope} onChange={setScope} />
        <ErrorMessage error={schema.error} context="The metadata schema could not be read" />
        <div className="toolbar">
          <button type="button" onClick={() => setControls({})} disabled={where === null}>
            Clear filter
          </button>
        </div>
        {keys.map((key) => (
          <KeyControl
            key={key.key}
            filterKey={key}
            control={controls[key.key]}
            onChange={(control) => setControls((current) => ({ ...current, [key.key]: control }))}
            others={filterTree(keys, controls, key.key)}
            scope={scope}
          />
        ))}
      </aside>
      <main className="content filters-main">
        <header className="items-header">
          <h2>Filters</h2>
          <span className="count" aria-live="polite" data-testid="match-count">
            {count.data ? `${count.data.count} matching item${count.data.count === 1 ? "" : "s"}` : "Counting…"}
          </span>
          <SortControl keys={sortableKeys(keys)} sortKey={sortKey} descending={descending} onKey={setSortKey} onDirection={setDescending} />
        </header>
        <FilterJson where={where} />
        <ErrorMessage error={count.error} context="The filter was refused" />
        <ResultList where={where} scope={scope} sort={sort} selected={selected} onSelect={setSelected} />
        <div className="panels">
          <PresetsPanel keys={keys} where={where} onOpen={setControls} />
          <CollectionsPanel selected={[...selected]} />
          <DatasetsPanel selected={[...selected]} />
        </div>
      </main>
    </div>
  );
}

function FilterJson({ where }: { where: FilterNode | null }) {
  return (
    <details className="filter-json" open>
      <summary>Filter (JSON, as sent to POST /api/v1/items/search)</summary>
      <pre aria-label="Filter JSON">{where === null ? "(no filter: every item)" : JSON.stringify(where, null, 2)}</pre>
    </details>
  );
}

function SortControl({ keys, sortKey, descending, onKey, onDirection }: {
  keys: FilterKey[];
  sortKey: string;
  descending: boolean;
  onKey: (key: string) => void;
  onDirection: (descending: boolean) => void;
}) {
  return (
    <span className="sort">
      <label>
        Sort by{" "}
        <select value={sortKey} onChange={(event) => onKey(event.target.value)}>
          <option value="">registration order</option>
          {keys.map((key) => (
            <option key={key.key} value={key.key}>
              {key.label ?? key.key}
            </option>
          ))}
        </select>
      </label>
      <label>
        <input type="checkbox" checked={descending} onChange={(event) => onDirection(event.target.checked)} /> descending
      </label>
    </span>
  );
}

/** The whole organisation, or a top-level folder (with the folders below it, or not). */
function ScopeControl({ scope, onChange }: { scope: Scope; onChange: (scope: Scope) => void }) {
  const api = useApi();
  const folders = useQuery({ queryKey: ["folders", "children", "top", "scope"], queryFn: () => fetchFolders(api, null, null) });
  // a folder below the top level (Files → Filter this folder) is offered too
  const chosen = useQuery({
    queryKey: ["folder", scope.folderId],
    enabled: scope.folderId !== null,
    queryFn: () => unwrap(api.GET("/api/v1/folders/{folder_id}", { params: { path: { folder_id: scope.folderId! } } })),
  });
  const listed = folders.data?.results ?? [];
  const options = chosen.data && !listed.some((folder) => folder.id === chosen.data.id) ? [chosen.data, ...listed] : listed;
  return (
    <fieldset className="key-control">
      <legend>Scope</legend>
      <select aria-label="Scope" value={scope.folderId ?? ""} onChange={(event) => onChange({ ...scope, folderId: event.target.value || null })}>
        <option value="">Whole organisation</option>
        {options.map((folder) => (
          <option key={folder.id} value={folder.id}>
            {folder.name}
          </option>
        ))}
      </select>
      <label>
        <input type="checkbox" checked={scope.recursive} disabled={!scope.folderId} onChange={(event) => onChange({ ...scope, recursive: event.target.checked })} /> and its subfolders
      </label>
      <ErrorMessage error={folders.error ?? chosen.error} context="Folders" />
    </fieldset>
  );
}
