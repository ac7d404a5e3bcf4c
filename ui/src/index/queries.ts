import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { schemaKeys, type FilterNode } from "./filter";

export const RESULT_PAGE = 100;

/** Where a search looks: the organisation, or a folder (and, recursive, the folders below). */
export interface Scope {
  folderId: string | null;
  recursive: boolean;
}

function scopeBody(where: FilterNode | null, scope: Scope) {
  return {
    where: (where ?? undefined) as Record<string, unknown> | undefined,
    folder_id: scope.folderId,
    recursive: scope.folderId ? scope.recursive : false,
  };
}

export const indexKeys = {
  schema: ["schema"] as const,
  presets: ["presets"] as const,
  collections: ["collections"] as const,
  collectionItems: (id: string) => ["collections", id, "items"] as const,
};

/** The metadata schema's keys (GET /api/v1/schema). */
export function useSchemaKeys() {
  const api = useApi();
  return useQuery({
    queryKey: indexKeys.schema,
    queryFn: async () => schemaKeys((await unwrap(api.GET("/api/v1/schema"))) as Record<string, unknown>),
  });
}

/** How many items pass `where` (POST /api/v1/items/count). */
export function useCount(where: FilterNode | null, scope: Scope) {
  const api = useApi();
  return useQuery({
    queryKey: ["items", "count", where, scope],
    placeholderData: keepPreviousData,
    queryFn: () => unwrap(api.POST("/api/v1/items/count", { body: scopeBody(where, scope) })),
  });
}

/** Counts per value (or per range) of `key` among the items that pass `where`. */
export function useFacets(key: string, where: FilterNode | null, scope: Scope, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ["items", "facets", key, where, scope],
    enabled,
    placeholderData: keepPreviousData,
    queryFn: () => unwrap(api.POST("/api/v1/items/facets", { body: { ...scopeBody(where, scope), key, buckets: 8 } })),
  });
}

/** The items that pass `where`, sorted, a keyset page (next_page_token) at a time. */
export function useSearch(where: FilterNode | null, scope: Scope, sort: string | null) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: ["items", "search", where, scope, sort],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.POST("/api/v1/items/search", {
          body: { ...scopeBody(where, scope), sort, limit: RESULT_PAGE, page_token: pageParam },
        }),
      ),
    getNextPageParam: (page) => page.next_page_token ?? null,
  });
}

export function usePresets() {
  const api = useApi();
  return useQuery({
    queryKey: indexKeys.presets,
    queryFn: () => unwrap(api.GET("/api/v1/presets", { params: { query: { page_size: 500 } } })),
  });
}

export function useSavePreset() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; filter: FilterNode }) =>
      unwrap(api.POST("/api/v1/presets", { body: { name: input.name, filter: input.filter as Record<string, unknown> } })),
    onSuccess: () => refreshQueries(client, indexKeys.presets),
  });
}

export function useDeletePreset() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/presets/{preset_id}", { params: { path: { preset_id: id } } })),
    onSuccess: () => refreshQueries(client, indexKeys.presets),
  });
}

/** The filter tree a preset evaluates (GET /presets/{id}/where). */
export function usePresetWhere() {
  const api = useApi();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.GET("/api/v1/presets/{preset_id}/where", { params: { path: { preset_id: id } } })) as Promise<FilterNode>,
  });
}
