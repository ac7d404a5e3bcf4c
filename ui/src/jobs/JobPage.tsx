import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap, type Job } from "../api/client";
import { useApi } from "../api/context";
import { ErrorMessage } from "../components/ErrorMessage";
import { linkProps, navigate, paths } from "../router";
import { JobProgress, StatusBadge, UnitErrorTable, unitErrors } from "./JobParts";
import { downloadFailedFiles, isFinal, useCancelJob, useJob, useRetryJob } from "./queries";

const SHOWN_ITEMS = 100;

/** A job's page (/jobs/<id>): status, counts, progress, its errors and unit errors, the
 * failed-files CSV, retry of the failures and cancel. */
export function JobPage({ jobId }: { jobId: string }) {
  const job = useJob(jobId);
  return (
    <main className="content job-page" aria-label="Import job">
      <ErrorMessage error={job.error} context="This job could not be read" />
      {job.isPending ? <p className="empty">Loading the job…</p> : null}
      {job.data ? <JobDetails job={job.data} /> : null}
    </main>
  );
}

function JobDetails({ job }: { job: Job }) {
  const api = useApi();
  const folder = useQuery({
    queryKey: ["folder", job.folder_id],
    queryFn: () => unwrap(api.GET("/api/v1/folders/{folder_id}", { params: { path: { folder_id: job.folder_id } } })),
  });
  const errors = unitErrors(job.unit_errors);
  const items = job.items.slice(0, SHOWN_ITEMS).map((item) => ({ id: String(item.uuid), name: String(item.name) }));

  return (
    <>
      <p className="crumbs">
        <a {...linkProps(paths.folder(job.folder_id))}>← {folder.data ? folder.data.name : "the folder"}</a>
      </p>
      <header className="job-header">
        <h2>Import of {job.source_name}</h2>
        <StatusBadge status={job.status} />
      </header>
      <p className="job-meta">
        Started {new Date(job.created_at).toLocaleString()} · last change {new Date(job.updated_at).toLocaleString()} ·{" "}
        {job.ignore_errors ? "individual file errors ignored" : "stops on any file error"} · job {job.id}
      </p>
      <JobProgress job={job} label="Job progress" />
      <dl className="job-counts" aria-label="Counts">
        <Count label="Registered" value={job.units_done} />
        <Count label="Failed" value={job.units_error} />
        <Count label="To go" value={job.units_pending} />
        <Count label="Cancelled" value={job.units_cancelled} />
      </dl>
      {job.errors.length > 0 ? (
        <div className="error" role="alert">
          <strong>The job reported: </strong>
          <ul>
            {job.errors.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <JobActions job={job} failures={errors.length} />
      <UnitErrorTable errors={errors} caption={`Files not registered (${errors.length})`} />
      {items.length > 0 ? (
        <section className="job-items" aria-label="Registered items">
          <h3>Registered items ({job.items.length})</h3>
          <ul>
            {items.map((item) => (
              <li key={item.id}>
                <a {...linkProps(paths.item(job.folder_id, item.id))}>{item.name}</a>
              </li>
            ))}
          </ul>
          {job.items.length > SHOWN_ITEMS ? <p className="empty">… and {job.items.length - SHOWN_ITEMS} more in the folder.</p> : null}
        </section>
      ) : null}
    </>
  );
}

/** Download failed files (CSV), Retry the failures (then the new job's page), Cancel. */
function JobActions({ job, failures }: { job: Job; failures: number }) {
  const api = useApi();
  const retry = useRetryJob();
  const cancel = useCancelJob();
  const [download, setDownload] = useState<{ error: unknown; busy: boolean; saved: string | null }>({ error: null, busy: false, saved: null });
  const final = isFinal(job.status);
  const saveCsv = async () => {
    setDownload({ error: null, busy: true, saved: null });
    try {
      setDownload({ error: null, busy: false, saved: await downloadFailedFiles(api, job.id) });
    } catch (error) {
      setDownload({ error, busy: false, saved: null });
    }
  };
  return (
    <>
      <div className="toolbar" role="toolbar" aria-label="Job actions">
        <button type="button" onClick={() => void saveCsv()} disabled={failures === 0 || download.busy}>
          Download failed files (CSV)
        </button>
        <button
          type="button"
          onClick={() => retry.mutate(job.id, { onSuccess: (next) => navigate(paths.job(next.id)) })}
          disabled={!final || failures === 0 || retry.isPending}
        >
          Retry the failures
        </button>
        <button type="button" className="danger" onClick={() => cancel.mutate(job.id)} disabled={final || cancel.isPending}>
          Cancel
        </button>
      </div>
      {download.saved ? <p className="notice" role="status">Saved {download.saved}</p> : null}
      <ErrorMessage error={download.error} context="The failed-files report could not be downloaded" />
      <ErrorMessage error={retry.error} context="The failures were not retried" />
      <ErrorMessage error={cancel.error} context="The job was not cancelled" />
    </>
  );
}

function Count({ label, value }: { label: string; value: number }) {
  return (
    <div className="count-box">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
