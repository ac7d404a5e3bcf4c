import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";

import type { Folder, Item } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { mediaFacts, typeBadge } from "./itemTypes";
import { useFolderItems, useThumbnailUrls } from "./queries";

export const ROW_HEIGHT = 56;
const PREFETCH_ROWS = 50; // ask for the next page this many rows before the end

/** The folder's items in a virtualised list: only the rows in view are in the page, and the
 * next cursor page is fetched as the end comes near. */
export function ItemList({ folder }: { folder: Folder }) {
  const query = useFolderItems(folder.id);
  const pages = useMemo(() => query.data?.pages.map((page) => page.results) ?? [], [query.data]);
  const items = useMemo(() => pages.flat(), [pages]);
  const thumbnails = useThumbnailUrls(pages);
  const scroller = useRef<HTMLDivElement>(null);
  const more = query.hasNextPage ? 1 : 0;
  const virtualizer = useVirtualizer({
    count: items.length + more,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.length > 0 ? rows[rows.length - 1]!.index : -1;

  useEffect(() => {
    if (lastIndex >= items.length - PREFETCH_ROWS && query.hasNextPage && !query.isFetchingNextPage) {
      void query.fetchNextPage();
    }
  }, [lastIndex, items.length, query]);

  const status = query.isPending
    ? "Loading items…"
    : `${items.length}${query.hasNextPage ? "+" : ""} item${items.length === 1 && !query.hasNextPage ? "" : "s"}`;

  return (
    <section className="items" aria-label={`Items of ${folder.name}`}>
      <header className="items-header">
        <h2>{folder.name}</h2>
        <span className="count" aria-live="polite">
          {status}
        </span>
      </header>
      <ErrorMessage error={query.error} context="Items could not be listed" />
      {!query.isPending && items.length === 0 && !query.error ? (
        <p className="empty">No items in this folder yet. Register files with `bucketdex register` or the SDK.</p>
      ) : null}
      <div className="item-scroller" ref={scroller} tabIndex={0} aria-label="Item list, scroll to load more">
        <ul className="item-rows" role="list" style={{ height: virtualizer.getTotalSize() }}>
          {rows.map((row) => {
            const item = items[row.index];
            return (
              <li
                key={item ? item.id : "more"}
                className="item-row"
                data-index={row.index}
                style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
              >
                {item ? <ItemRow item={item} thumbnail={thumbnails.get(item.id)} /> : <span className="loading">Loading more…</span>}
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}

function ItemRow({ item, thumbnail }: { item: Item; thumbnail: string | undefined }) {
  const { badge, label } = typeBadge(item.item_type);
  return (
    <>
      {thumbnail ? (
        <img className="thumb" src={thumbnail} alt="" loading="lazy" width={40} height={40} />
      ) : (
        <span className={`type-badge type-${item.item_type}`} role="img" aria-label={label}>
          {badge}
        </span>
      )}
      <span className="item-name" title={item.name}>
        {item.name}
      </span>
      <span className="item-type">{label}</span>
      <span className="item-facts">{mediaFacts(item)}</span>
    </>
  );
}
