import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { ErrorMessage } from "../components/ErrorMessage";
import { typeBadge } from "../files/itemTypes";
import { linkProps, paths } from "../router";
import type { Shape } from "./points";
import { SHOWN_SELECTED, useSelectedItems, useSelectOnMap, type MapFilter } from "./queries";

/** The items the API finds in the drawn shape (POST .../map/select), listed with links to the
 * item viewer, and added to a collection on request. */
export function SelectionPanel({ mapKey, filter, shape, drawn, onClear }: {
  mapKey: string;
  filter: MapFilter;
  shape: Shape;
  drawn: Uint8Array | null;
  onClear: () => void;
}) {
  const select = useSelectOnMap(mapKey, filter);
  const { mutate } = select;
  useEffect(() => mutate({ shape }), [mutate, shape]);
  const ids = select.data?.item_ids ?? [];
  const items = useSelectedItems(ids);
  const marked = drawn ? drawn.reduce((sum, bit) => sum + bit, 0) : 0;
  return (
    <section className="map-selection" aria-label="Selection">
      <div className="toolbar">
        <h3>Selection</h3>
        <span className="count" data-testid="selection-count">
          {select.isPending ? "Selecting…" : select.data ? `${ids.length} item${ids.length === 1 ? "" : "s"} selected (${select.data.points} points; ${marked} marked on the map)` : ""}
        </span>
        <button type="button" onClick={onClear}>
          Clear selection
        </button>
      </div>
      <ErrorMessage error={select.error} context="The selection was refused" />
      {select.data && ids.length > 0 ? <AddToCollection onAdd={(collectionId) => mutate({ shape, collectionId })} added={select.data.collection_id} /> : null}
      <ErrorMessage error={items.error} context="The selected items could not be read" />
      <ul className="selected-items" aria-label="Selected items">
        {(items.data ?? []).map((item) => (
          <li key={item.id}>
            <span className={`type-badge type-${item.item_type}`}>{typeBadge(item.item_type).badge}</span>{" "}
            <a {...linkProps(paths.item(item.folder_id, item.id))}>{item.name}</a>
          </li>
        ))}
      </ul>
      {ids.length > SHOWN_SELECTED ? <p className="hint">The first {SHOWN_SELECTED} of {ids.length} are listed.</p> : null}
    </section>
  );
}

function AddToCollection({ onAdd, added }: { onAdd: (collectionId: string) => void; added: string | null }) {
  const api = useApi();
  const collections = useQuery({
    queryKey: ["collections"],
    queryFn: () => unwrap(api.GET("/api/v1/collections", { params: { query: { page_size: 500 } } })),
  });
  const [chosen, setChosen] = useState("");
  const list = collections.data?.results ?? [];
  if (list.length === 0) return null;
  return (
    <div className="toolbar">
      <select aria-label="Collection" value={chosen} onChange={(event) => setChosen(event.target.value)}>
        <option value="">Add to a collection…</option>
        {list.map((collection) => (
          <option key={collection.id} value={collection.id}>
            {collection.name}
          </option>
        ))}
      </select>
      <button type="button" disabled={!chosen} onClick={() => onAdd(chosen)}>
        Add the selection
      </button>
      {added ? <span className="hint">Added to the collection.</span> : null}
    </div>
  );
}
