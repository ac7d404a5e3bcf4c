import type { QueryClient, QueryKey } from "@tanstack/react-query";

/** Fetch the queries under `queryKey` again after a write.  A first fetch still in flight is
 * cancelled first: `invalidateQueries` alone would hand back that fetch's promise (a query
 * with no data yet is never refetched while it fetches), and its answer may predate the write. */
export async function refreshQueries(client: QueryClient, queryKey: QueryKey): Promise<void> {
  await client.cancelQueries({ queryKey });
  await client.invalidateQueries({ queryKey });
}
