import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { mediaFacts, typeBadge } from "../files/itemTypes";
import { linkProps, paths } from "../router";
import type { FilterNode } from "./filter";
import { useSearch, type Scope } from "./queries";

const ROW = 40;
const PREFETCH_ROWS = 30;

/** The search's results in a virtualised list (only the rows in view are in the page), the
 * next keyset page fetched as the end comes near; each row can be ticked for a collection. */
export function ResultList({ where, scope, sort, selected, onSelect }: {
  where: FilterNode | null;
  scope: Scope;
  sort: string | null;
  selected: ReadonlySet<string>;
  onSelect: (ids: ReadonlySet<string>) => void;
}) {
  const query = useSearch(where, scope, sort);
  const items = useMemo(() => query.data?.pages.flatMap((page) => page.results) ?? [], [query.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length + (query.hasNextPage ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 10,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.length > 0 ? rows[rows.length - 1]!.index : -1;
  useEffect(() => {
    if (lastIndex >= items.length - PREFETCH_ROWS && query.hasNextPage && !query.isFetchingNextPage) {
      void query.fetchNextPage();
    }
  }, [lastIndex, items.length, query]);

  const tick = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    onSelect(next);
  };
  return (
    <section className="results" aria-label="Results">
      <div className="toolbar">
        <span className="count">
          {query.isPending ? "Searching…" : `${items.length}${query.hasNextPage ? "+" : ""} loaded · ${selected.size} selected`}
        </span>
        <button type="button" onClick={() => onSelect(new Set(items.map((item) => item.id)))} disabled={items.length === 0}>
          Select loaded
        </button>
        <button type="button" onClick={() => onSelect(new Set())} disabled={selected.size === 0}>
          Clear selection
        </button>
      </div>
      <ErrorMessage error={query.error} context="The search was refused" />
      <div className="item-scroller" ref={scroller} tabIndex={0} aria-label="Results, scroll to load more">
        <ul className="item-rows" role="list" style={{ height: virtualizer.getTotalSize() }}>
          {rows.map((row) => {
            const item = items[row.index];
            return (
              <li key={item ? item.id : "more"} className="item-row result-row" style={{ height: ROW, transform: `translateY(${row.start}px)` }}>
                {item ? (
                  <>
                    <input type="checkbox" aria-label={`Select ${item.name}`} checked={selected.has(item.id)} onChange={(event) => tick(item.id, event.target.checked)} />
                    <span className={`type-badge type-${item.item_type}`}>{typeBadge(item.item_type).badge}</span>
                    <a className="item-name" {...linkProps(paths.item(item.folder_id, item.id))}>
                      {item.name}
                    </a>
                    <span className="item-facts">{metadataLine(item.client_metadata)}</span>
                    <span className="item-facts">{mediaFacts(item)}</span>
                  </>
                ) : (
                  <span className="loading">Loading more…</span>
                )}
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}

function metadataLine(metadata: Record<string, unknown> | null | undefined): string {
  return Object.entries(metadata ?? {})
    .slice(0, 4)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" · ");
}
