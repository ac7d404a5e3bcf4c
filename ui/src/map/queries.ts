import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap, type Api } from "../api/client";
import { useApi } from "../api/context";
import { ApiError } from "../api/errors";
import { refreshQueries } from "../api/refresh";
import type { MapJob } from "./api";
import { decodePoints, type MapPoints, type Shape } from "./points";

/** What the map shows: the items a filter (its JSON tree or --where text) selects, in a folder. */
export interface MapFilter {
  where: string;
  folderId: string | null;
}

/** A filter as a JSON body takes it: the tree when the text is a JSON object, else the text. */
export function whereBody(text: string): Record<string, unknown> | string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith("{")) {
    try {
      const tree: unknown = JSON.parse(trimmed);
      if (tree && typeof tree === "object" && !Array.isArray(tree)) return tree as Record<string, unknown>;
    } catch {
      // sent as text: the API's grammar then says where it fails
    }
  }
  return trimmed;
}

const jobKey = (key: string) => ["map", key, "job"] as const;

/** The newest map job of `key` (null: none), polled every second while it runs. */
export function useMapJob(key: string) {
  const api = useApi();
  return useQuery({
    queryKey: jobKey(key),
    enabled: key !== "",
    queryFn: async () =>
      unwrap(api.GET("/api/v1/embeddings/{key}/map/job", { params: { path: { key } } })),
    refetchInterval: (query) => (query.state.data?.status === "PENDING" ? 1000 : false),
  });
}

/** Start the map job of `key` (the API answers the running one if there is one). */
export function useStartMap(key: string) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(api.POST("/api/v1/embeddings/{key}/map", { params: { path: { key } }, body: { metric: "cosine" } })),
    onSuccess: (job) => client.setQueryData(jobKey(key), job),
  });
}

/** Which layout the job has stored: none yet, the PCA preview, or the refined one. */
export function storedLayout(job: MapJob | null | undefined): string | null {
  if (!job) return null;
  if (job.status === "DONE") return `refined ${job.updated_at}`;
  if (job.stage === "pca" || job.stage === "refining") return `pca ${job.id}`;
  return job.status === "PENDING" ? null : `other ${job.updated_at}`; // ERROR: whatever is stored
}

/** The points of the stored layout the filter selects (the binary array, decoded). */
export function useMapPoints(key: string, filter: MapFilter, layout: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["map", key, "points", filter, layout],
    enabled: key !== "" && layout !== null,
    staleTime: Infinity,
    gcTime: 0, // a million points are 40 MB: keep only the map in view
    queryFn: () => fetchPoints(api, key, filter),
  });
}

async function fetchPoints(api: Api, key: string, filter: MapFilter): Promise<MapPoints & { fetchMs: number }> {
  const started = performance.now();
  const query: Record<string, unknown> = {};
  if (filter.where.trim()) query.where = filter.where.trim();
  if (filter.folderId) Object.assign(query, { folder_id: filter.folderId, recursive: true });
  const { data, error, response } = await api.GET("/api/v1/embeddings/{key}/map", {
    params: { path: { key }, query },
    parseAs: "arrayBuffer",
  });
  if (!response.ok || error !== undefined) throw await errorOf(response, error);
  const record = Number(response.headers.get("X-Map-Record-Bytes") ?? 24);
  const points = decodePoints(data as ArrayBuffer, response.headers.get("X-Map-Stage"), record);
  return { ...points, fetchMs: performance.now() - started };
}

/** The filter narrowed to `key = value` (a JSON tree; null when the filter is --where text,
 * which a JSON condition cannot be joined to). */
export function narrowed(filter: MapFilter, key: string, value: unknown): MapFilter | null {
  const condition = { key, op: "=", value };
  const where = whereBody(filter.where);
  if (typeof where === "string") return null;
  return { ...filter, where: JSON.stringify(where ? { and: [where, condition] } : condition) };
}

/** Colour by: the points of each value of `colourKey` (one request per value, at most 10). */
export function useColourLayers(key: string, filter: MapFilter, colourKey: string, values: unknown[], layout: string | null) {
  const api = useApi();
  return useQueries({
    queries: values.slice(0, 10).map((value) => {
      const narrow = narrowed(filter, colourKey, value);
      return {
        queryKey: ["map", key, "points", narrow, layout],
        enabled: key !== "" && layout !== null && narrow !== null,
        staleTime: Infinity,
        gcTime: 0,
        queryFn: () => fetchPoints(api, key, narrow!),
      };
    }),
  });
}

/** An error answer read as the API's message (a binary route's error body is still JSON). */
async function errorOf(response: Response, error: unknown): Promise<ApiError> {
  if (error instanceof ArrayBuffer) {
    const text = new TextDecoder().decode(error);
    try {
      return ApiError.fromBody(response.status, JSON.parse(text), response.statusText);
    } catch {
      return ApiError.fromBody(response.status, text, response.statusText);
    }
  }
  return ApiError.fromBody(response.status, error, response.statusText);
}

/** The items whose points lie in a rectangle or lasso (POST .../map/select), optionally added
 * to a collection. */
export function useSelectOnMap(key: string, filter: MapFilter) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ shape, collectionId = null }: { shape: Shape; collectionId?: string | null }) =>
      unwrap(
        api.POST("/api/v1/embeddings/{key}/map/select", {
          params: { path: { key } },
          body: {
            shape,
            where: whereBody(filter.where),
            folder_id: filter.folderId,
            recursive: filter.folderId !== null,
            collection_id: collectionId,
          },
        }),
      ),
    onSuccess: (selection) => {
      if (selection.collection_id) void refreshQueries(client, ["collections"]);
    },
  });
}

export const SHOWN_SELECTED = 200;

/** The first selected items' records, to list them (POST /items/get-many). */
export function useSelectedItems(ids: string[]) {
  const api = useApi();
  const shown = ids.slice(0, SHOWN_SELECTED);
  return useQuery({
    queryKey: ["items", "get-many", shown],
    enabled: shown.length > 0,
    queryFn: () => unwrap(api.POST("/api/v1/items/get-many", { body: { item_ids: shown } })),
  });
}
