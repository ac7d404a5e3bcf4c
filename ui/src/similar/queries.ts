import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { whereBody } from "../map/queries";

/** One similarity question: like an item, or like a text, among a folder's or a filter's items. */
export interface SimilarQuery {
  key: string;
  k: number;
  itemId?: string;
  text?: string;
  folderId: string | null;
  where: string;
}

/** The k nearest items, nearest first (POST /api/v1/items/similar). */
export function useSimilar(query: SimilarQuery | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["items", "similar", query],
    enabled: query !== null && query.key !== "" && Boolean(query.itemId || query.text?.trim()),
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const q = query!;
      const body = {
        key: q.key,
        k: q.k,
        metric: "cosine",
        recursive: false,
        ...(q.itemId ? { item_id: q.itemId } : { text: q.text!.trim() }),
        ...(q.folderId ? { folder_id: q.folderId } : {}),
        where: whereBody(q.where),
      };
      const answer = await unwrap(api.POST("/api/v1/items/similar", { body }));
      return answer.results;
    },
  });
}
