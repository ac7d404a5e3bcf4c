import { useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, type KeyboardEvent, type ReactNode, type RefObject } from "react";

import type { Folder, Item } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { linkProps, paths } from "../router";
import { mediaFacts, typeBadge } from "./itemTypes";
import { useFolderItems, useThumbnailUrls } from "./queries";

export const ROW_HEIGHT = 56;
const PREFETCH_ROWS = 50; // ask for the next page this many rows before the end

/** The folder's items in a virtualised list: only the rows in view are in the page, and the
 * next cursor page is fetched as the end comes near.  Each name opens the item viewer; ↑/↓
 * move between rows (scrolling the list), Home/End go to the first and last loaded row. */
export function ItemList({ folder, actions }: { folder: Folder; actions?: ReactNode }) {
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

  const moveFocus = useRowFocus(virtualizer, scroller, items.length);

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
        <span className="items-actions">{actions}</span>
      </header>
      <ErrorMessage error={query.error} context="Items could not be listed" />
      {!query.isPending && items.length === 0 && !query.error ? (
        <p className="empty">No items in this folder yet: Upload files → Import from cloud data registers a manifest's files.</p>
      ) : null}
      <div className="item-scroller" ref={scroller} tabIndex={0} aria-label="Item list, scroll to load more">
        <ul className="item-rows" role="list" style={{ height: virtualizer.getTotalSize() }} onKeyDown={moveFocus}>
          {rows.map((row) => {
            const item = items[row.index];
            return (
              <li
                key={item ? item.id : "more"}
                className="item-row"
                data-index={row.index}
                style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
              >
                {item ? (
                  <ItemRow item={item} index={row.index} thumbnail={thumbnails.get(item.id)} />
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

/** ↑/↓ (and Home/End) from an item's link to another row's, scrolling the list to it first
 * (the row may not be rendered yet: it is focused once it is). */
function useRowFocus(virtualizer: Virtualizer<HTMLDivElement, Element>, scroller: RefObject<HTMLDivElement | null>, count: number) {
  return (event: KeyboardEvent<HTMLUListElement>) => {
    const at = Number((event.target as HTMLElement).dataset.index ?? NaN);
    if (!Number.isFinite(at)) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: count - 1 }[event.key];
    if (to === undefined || to < 0 || to >= count) return;
    event.preventDefault();
    virtualizer.scrollToIndex(to, { align: "auto" });
    const focus = (tries: number) => {
      const link = scroller.current?.querySelector<HTMLAnchorElement>(`a.item-name[data-index="${to}"]`);
      if (link) link.focus();
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1));
    };
    focus(10);
  };
}

function ItemRow({ item, index, thumbnail }: { item: Item; index: number; thumbnail: string | undefined }) {
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
      <a className="item-name" title={item.name} data-index={index} {...linkProps(paths.item(item.folder_id, item.id))}>
        {item.name}
      </a>
      <span className="item-type">{label}</span>
      <span className="item-facts">{mediaFacts(item)}</span>
    </>
  );
}
