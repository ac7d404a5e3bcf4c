import type { DryRun } from "../api/client";

/** The manifest's media type from its name: CSV for .csv, otherwise JSON (the API reads both). */
export function manifestContentType(file: { name: string; type?: string }): string {
  if (/\.csv$/i.test(file.name) || file.type === "text/csv") return "text/csv";
  return "application/json";
}

/** What identifies the inputs a dry run was made for: a changed file, switch or integration
 * (whose bucket the URLs are checked against) needs a new one. */
export function inputsKey(file: File, ignoreErrors: boolean, integrationId = ""): string {
  return [file.name, file.size, file.lastModified, ignoreErrors, integrationId].join("|");
}

/** "add 3 · skip 1 · update 0 · 1 error": a dry run in words. */
export function dryRunSummary(report: DryRun): string {
  const errors = report.unit_errors.length;
  return `add ${report.would_add} · skip ${report.would_skip} · update ${report.would_update} · ${errors} error${errors === 1 ? "" : "s"}`;
}

/** The request options sending `file` as the manifest body (JSON or CSV, as the file holds it),
 * named by the file so the API's messages say where. */
export async function manifestBody(file: File) {
  const bytes = await file.arrayBuffer();
  return {
    body: bytes as unknown as Record<string, never>,
    bodySerializer: (body: unknown) => body as ArrayBuffer,
    headers: { "Content-Type": manifestContentType(file) },
  };
}
