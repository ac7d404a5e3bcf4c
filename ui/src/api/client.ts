import createClient from "openapi-fetch";

import { ApiError } from "./errors";
import type { components, paths } from "./schema";

export type Folder = components["schemas"]["FolderRecord"];
export type Item = components["schemas"]["ItemOut"];
export type Caller = components["schemas"]["CallerOut"];
export type Job = components["schemas"]["JobOut"];
export type JobSummary = components["schemas"]["JobSummary"];
export type DryRun = components["schemas"]["DryRunOut"];
export type Integration = components["schemas"]["IntegrationRecord"];
export type ItemSummary = components["schemas"]["ItemSummaryOut"];
/** One entry of a job's or a dry run's unit_errors (the API's {location, object_urls, error, action}). */
export interface UnitError {
  location: string;
  object_urls: string[];
  error: string;
  action: string;
}
export type Api = ReturnType<typeof makeApi>;

export interface ApiOptions {
  baseUrl?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** A typed client of the native REST API (/api/v1) sending `Authorization: Bearer <key>`. */
export function makeApi(apiKey: string, options: ApiOptions = {}) {
  return createClient<paths>({
    baseUrl: options.baseUrl ?? window.location.origin,
    headers: { Authorization: `Bearer ${apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an ApiError with the API's message. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) {
    throw ApiError.fromBody(response.status, error, response.statusText);
  }
  return data as T;
}
