/** The answers of issue 19's map and similarity routes, as the generated OpenAPI types name them
 * (ui/src/api/schema.d.ts; docs/embeddings.md describes the routes). */

import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type MapJob = Schemas["MapJobOut"];
export type JobStatus = MapJob["status"];
export type Selection = Schemas["SelectionOut"];
export type SimilarHit = Schemas["SimilarHitOut"];
