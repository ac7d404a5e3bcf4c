import { useInfiniteQuery, useMutation, useQueries, useQueryClient } from "@tanstack/react-query";

import { unwrap, type Api, type Folder, type Item } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";

export const FOLDER_PAGE = 200;
export const ITEM_PAGE = 200;
const SIGNED_URL_STALE_MS = 30 * 60 * 1000; // the server's URLs last an hour by default

export const folderKeys = {
  all: ["folders"] as const,
  children: (parentId: string | null) => ["folders", "children", parentId ?? "top"] as const,
};
export const itemKeys = {
  folder: (folderId: string) => ["items", folderId] as const,
};

/** The subfolders of `parentId` (null: the top level), page by page. */
export function useChildFolders(parentId: string | null, enabled = true) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: folderKeys.children(parentId),
    enabled,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => fetchFolders(api, parentId, pageParam),
    getNextPageParam: (page) => page.next_page_token ?? null,
  });
}

export function fetchFolders(api: Api, parentId: string | null, pageToken: string | null) {
  const scope = parentId === null ? { top_level: true } : { parent_id: parentId };
  return unwrap(
    api.GET("/api/v1/folders", {
      params: { query: { ...scope, order: "name", page_size: FOLDER_PAGE, page_token: pageToken } },
    }),
  );
}

/** The items of a folder, a cursor page at a time (the API's next_page_token). */
export function useFolderItems(folderId: string) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: itemKeys.folder(folderId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/folders/{folder_id}/items", {
          params: { path: { folder_id: folderId }, query: { page_size: ITEM_PAGE, page_token: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.next_page_token ?? null,
  });
}

/** Signed URLs of the image items of each loaded page (one request per page): id -> URL. */
export function useThumbnailUrls(pages: Item[][]): Map<string, string> {
  const api = useApi();
  return useQueries({
    queries: pages.map((page) => {
      const ids = page.filter((item) => item.item_type === "image" && item.url).map((item) => item.id);
      return {
        queryKey: ["signed-urls", ...ids],
        enabled: ids.length > 0,
        staleTime: SIGNED_URL_STALE_MS,
        retry: false,
        queryFn: () => unwrap(api.POST("/api/v1/items/signed-urls", { body: { item_ids: ids } })),
      };
    }),
    combine: (results) => {
      const urls = new Map<string, string>();
      for (const result of results) {
        for (const [id, url] of Object.entries(result.data ?? {})) if (url) urls.set(id, url);
      }
      return urls;
    },
  });
}

export function useCreateFolder() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; parentId: string | null }) =>
      unwrap(api.POST("/api/v1/folders", { body: { name: input.name, parent_id: input.parentId } })),
    onSuccess: (folder: Folder) => refreshQueries(client, folderKeys.children(folder.parent_id)),
  });
}

export function useRenameFolder() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { id: string; name: string }) =>
      unwrap(api.PATCH("/api/v1/folders/{folder_id}", { params: { path: { folder_id: input.id } }, body: { name: input.name } })),
    onSuccess: (folder: Folder) => refreshQueries(client, folderKeys.children(folder.parent_id)),
  });
}

export function useDeleteFolder() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { folder: Folder; recursive: boolean }) =>
      unwrap(
        api.DELETE("/api/v1/folders/{folder_id}", {
          params: { path: { folder_id: input.folder.id }, query: { recursive: input.recursive } },
        }),
      ),
    onSuccess: (_result, input) => {
      client.removeQueries({ queryKey: folderKeys.children(input.folder.id) });
      client.removeQueries({ queryKey: itemKeys.folder(input.folder.id) });
      return refreshQueries(client, folderKeys.children(input.folder.parent_id));
    },
  });
}
