import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";

const SIGNED_URL_STALE_MS = 30 * 60 * 1000; // the server's URLs last an hour by default
export const SHOWN_CHILDREN = 200;

export function useItem(itemId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["item", itemId],
    queryFn: () => unwrap(api.GET("/api/v1/items/{item_id}", { params: { path: { item_id: itemId } } })),
  });
}

/** Where the item belongs: the group or series it is a file of, and its datasets. */
export function useItemSummary(itemId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["item-summary", itemId],
    queryFn: () => unwrap(api.GET("/api/v1/items/{item_id}/summary", { params: { path: { item_id: itemId } } })),
  });
}

export function useItemChildren(itemId: string, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ["item-children", itemId],
    enabled,
    queryFn: () => unwrap(api.GET("/api/v1/items/{item_id}/children", { params: { path: { item_id: itemId } } })),
  });
}

/** Signed URLs of these items (id -> URL, null: nothing to sign), one request. */
export function useSignedUrls(itemIds: string[], enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ["signed-urls", ...itemIds],
    enabled: enabled && itemIds.length > 0,
    staleTime: SIGNED_URL_STALE_MS,
    retry: false,
    queryFn: () => unwrap(api.POST("/api/v1/items/signed-urls", { body: { item_ids: itemIds } })),
  });
}
