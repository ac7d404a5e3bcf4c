/** Calls of issue 19's map and similarity routes (docs/embeddings.md) and their answers.
 *
 * Until those routes are in the generated ui/src/api/schema.d.ts, they are called through the
 * same openapi-fetch client (its key, base URL and fetch) with the answers typed here, as the
 * server's models (server/routes/map_routes.py, server/schemas.py) describe them. */

import type { Api, Item } from "../api/client";

export type JobStatus = "PENDING" | "DONE" | "ERROR" | "CANCELLED";

export interface MapJob {
  id: string;
  key: string;
  status: JobStatus;
  /** queued, reading, pca (the preview is stored), refining, done */
  stage: string;
  points: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Selection {
  item_ids: string[];
  points: number;
  collection_id: string | null;
}

export interface SimilarHit {
  item: Item;
  frame: number | null;
  distance: number;
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}
type Call = (path: string, init?: Record<string, unknown>) => Promise<Answer>;

/** The client with its paths untyped (the routes above are not in schema.d.ts yet). */
export function untyped(api: Api): { GET: Call; POST: Call } {
  return api as unknown as { GET: Call; POST: Call };
}
