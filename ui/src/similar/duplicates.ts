import { useMutation } from "@tanstack/react-query";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import type { components } from "../api/schema";
import { whereBody } from "../map/queries";

export type DuplicateGroup = components["schemas"]["DuplicateGroupOut"];

/** One near-duplicates question: groups of `key`'s vectors within `threshold` of their first
 * member, among a filter's items (all when empty). */
export interface DuplicatesQuery {
  key: string;
  threshold: number;
  where: string;
}

/** POST /api/v1/items/duplicates, asked when the person presses "Find duplicates". */
export function useDuplicates() {
  const api = useApi();
  return useMutation({
    mutationFn: async (query: DuplicatesQuery) => {
      const body = {
        key: query.key,
        threshold: query.threshold,
        metric: "cosine",
        recursive: false,
        limit: 1000,
        where: whereBody(query.where),
      };
      return (await unwrap(api.POST("/api/v1/items/duplicates", { body }))).groups;
    },
  });
}
