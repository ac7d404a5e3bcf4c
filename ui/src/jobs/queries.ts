import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { unwrap, type Api, type Job, type JobSummary } from "../api/client";
import { useApi } from "../api/context";
import { ApiError } from "../api/errors";
import { refreshQueries } from "../api/refresh";
import { itemKeys } from "../files/queries";

/** How often a job still PENDING is asked about again; polling stops once every job is final. */
export const POLL_MS = 1000;
export const RECENT_JOBS = 20;

export const jobKeys = {
  all: ["jobs"] as const,
  recent: ["jobs", "recent"] as const,
  job: (jobId: string) => ["jobs", "one", jobId] as const,
};

export function isFinal(status: string): boolean {
  return status !== "PENDING";
}

/** The organisation's newest import jobs, polled while any of them is PENDING. */
export function useRecentJobs() {
  const api = useApi();
  const query = useQuery({
    queryKey: jobKeys.recent,
    queryFn: () => unwrap(api.GET("/api/v1/import-jobs", { params: { query: { limit: RECENT_JOBS } } })),
    refetchInterval: (q) => (q.state.data?.results.some((job) => !isFinal(job.status)) ? POLL_MS : false),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  useRefreshWhenFinished(query.data?.results ?? []);
  return query;
}

/** One job, polled (its progress, counts and unit errors) until it is final. */
export function useJob(jobId: string) {
  const api = useApi();
  const query = useQuery({
    queryKey: jobKeys.job(jobId),
    queryFn: () => unwrap(api.GET("/api/v1/import-jobs/{job_id}", { params: { path: { job_id: jobId } } })),
    refetchInterval: (q) => (q.state.data && !isFinal(q.state.data.status) ? POLL_MS : false),
    staleTime: 0,
  });
  useRefreshWhenFinished(query.data ? [query.data] : []);
  return query;
}

/** When a job seen PENDING becomes final, its folder's items (and the job list) are asked for
 * again: what it registered shows in Files without a reload. */
function useRefreshWhenFinished(jobs: readonly (Job | JobSummary)[]) {
  const client = useQueryClient();
  const pending = useRef(new Set<string>());
  useEffect(() => {
    for (const job of jobs) {
      if (!isFinal(job.status)) pending.current.add(job.id);
      else if (pending.current.delete(job.id)) {
        void refreshQueries(client, itemKeys.folder(job.folder_id));
        void refreshQueries(client, jobKeys.all);
      }
    }
  }, [jobs, client]);
}

export function useRetryJob() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      unwrap(api.POST("/api/v1/import-jobs/{job_id}/retry", { params: { path: { job_id: jobId } } })),
    onSuccess: (job: Job) => {
      client.setQueryData(jobKeys.job(job.id), job);
      return refreshQueries(client, jobKeys.recent);
    },
  });
}

export function useCancelJob() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      unwrap(api.POST("/api/v1/import-jobs/{job_id}/cancel", { params: { path: { job_id: jobId } } })),
    onSuccess: (job: Job) => {
      client.setQueryData(jobKeys.job(job.id), job);
      return refreshQueries(client, jobKeys.recent);
    },
  });
}

/** The job's failed-file report (GET .../failed-files, CSV) saved as the server names it.  A
 * link cannot carry the API key, so the file is fetched and handed to the browser as a blob. */
export async function downloadFailedFiles(api: Api, jobId: string): Promise<string> {
  const { data, error, response } = await api.GET("/api/v1/import-jobs/{job_id}/failed-files", {
    params: { path: { job_id: jobId } },
    parseAs: "blob",
  });
  if (!response.ok || !data) throw ApiError.fromBody(response.status, error, response.statusText);
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? `failed-files-${jobId}.csv`;
  const url = URL.createObjectURL(data);
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}

/** How far a job is: a fraction 0..1, or null while it is still reading its manifest. */
export function jobFraction(job: Job | JobSummary): number | null {
  if ("progress" in job && job.progress && job.progress.total > 0) return job.progress.done / job.progress.total;
  const cancelled = "units_cancelled" in job ? job.units_cancelled : 0;
  const total = job.units_done + job.units_error + job.units_pending + cancelled;
  if (total === 0) return isFinal(job.status) ? 1 : null;
  return (total - job.units_pending) / total;
}

/** "3 registered · 1 failed · 2 to go": a job's counts in words. */
export function jobCounts(job: Job | JobSummary): string {
  const parts = [`${job.units_done} registered`];
  if (job.units_error > 0) parts.push(`${job.units_error} failed`);
  if (job.units_pending > 0) parts.push(`${job.units_pending} to go`);
  if ("units_cancelled" in job && job.units_cancelled > 0) parts.push(`${job.units_cancelled} cancelled`);
  return parts.join(" · ");
}
