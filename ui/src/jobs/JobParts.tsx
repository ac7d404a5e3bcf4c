import type { Job, JobSummary, UnitError } from "../api/client";
import { isFinal, jobFraction } from "./queries";

/** The job's status as the API names it (PENDING, DONE, ERROR, CANCELLED). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status}</span>;
}

/** A progress bar: the phase and counts while PENDING, full once the job is final. */
export function JobProgress({ job, label }: { job: Job | JobSummary; label: string }) {
  const fraction = jobFraction(job);
  const progress = "progress" in job ? job.progress : null;
  const phase = progress ? `${progress.phase}: ${progress.done} of ${progress.total}` : null;
  const percent = fraction === null ? null : Math.round(fraction * 100);
  const text = isFinal(job.status) ? "finished" : percent === null ? "reading the manifest…" : `${percent}%`;
  return (
    <div className="progress-line">
      <div
        className={`progress${fraction === null ? " indeterminate" : ""}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={phase ?? text}
      >
        <div className="progress-fill" style={{ width: `${percent ?? 100}%` }} />
      </div>
      <span className="progress-text">{phase ?? text}</span>
    </div>
  );
}

/** Unit errors as the API phrases them: where in the manifest (a JSON path or a CSV line), the
 * file(s), what went wrong and what to do. */
export function UnitErrorTable({ errors, caption }: { errors: readonly UnitError[]; caption: string }) {
  if (errors.length === 0) return null;
  return (
    <div className="table-scroller">
      <table className="unit-errors">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Location</th>
            <th scope="col">File</th>
            <th scope="col">Error</th>
            <th scope="col">What to do</th>
          </tr>
        </thead>
        <tbody>
          {errors.map((error, index) => (
            <tr key={`${error.location}-${index}`}>
              <td className="location">{error.location}</td>
              <td className="urls">
                {error.object_urls.map((url) => (
                  <div key={url}>{url}</div>
                ))}
              </td>
              <td>{error.error}</td>
              <td>{error.action}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The API's unit_errors entries ({location, object_urls, error, action}) typed. */
export function unitErrors(entries: readonly Record<string, unknown>[]): UnitError[] {
  return entries.map((entry) => ({
    location: String(entry.location ?? ""),
    object_urls: Array.isArray(entry.object_urls) ? entry.object_urls.map(String) : [],
    error: String(entry.error ?? ""),
    action: String(entry.action ?? ""),
  }));
}
