import { useEffect, useRef, useState } from "react";

import type { JobSummary } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { linkProps, paths } from "../router";
import { JobProgress, StatusBadge } from "./JobParts";
import { isFinal, jobCounts, useRecentJobs } from "./queries";

/** The header's bell: the newest import jobs with their live progress (polled while any is
 * PENDING), each a link to its job page.  Escape or a click outside closes the list. */
export function JobsBell() {
  const [open, setOpen] = useState(false);
  const jobs = useRecentJobs();
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const results = jobs.data?.results ?? [];
  const running = results.filter((job) => !isFinal(job.status)).length;

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  const toggle = () => {
    if (!open) void jobs.refetch(); // jobs started elsewhere (the CLI, the SDK) show at once
    setOpen(!open);
  };
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  return (
    <div className="bell" ref={box} onKeyDown={(event) => event.key === "Escape" && open && close()}>
      <button
        ref={button}
        type="button"
        className="bell-button"
        aria-expanded={open}
        aria-controls="jobs-panel"
        aria-label={running > 0 ? `Import jobs, ${running} running` : "Import jobs"}
        onClick={toggle}
      >
        <BellIcon />
        {running > 0 ? (
          <span className="bell-count" aria-hidden="true">
            {running}
          </span>
        ) : null}
      </button>
      {open ? (
        <div id="jobs-panel" className="bell-panel" role="region" aria-label="Recent import jobs">
          <h2>Import jobs</h2>
          <ErrorMessage error={jobs.error} context="Jobs could not be listed" />
          {jobs.isPending ? <p className="empty">Loading…</p> : null}
          {!jobs.isPending && results.length === 0 ? <p className="empty">No import jobs yet.</p> : null}
          <ul className="bell-jobs">
            {results.map((job) => (
              <BellEntry key={job.id} job={job} onOpen={() => setOpen(false)} />
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function BellEntry({ job, onOpen }: { job: JobSummary; onOpen: () => void }) {
  const link = linkProps(paths.job(job.id));
  return (
    <li className="bell-job">
      <div className="bell-job-head">
        <a href={link.href} onClick={(event) => (link.onClick(event), onOpen())}>
          {job.source_name}
        </a>
        <StatusBadge status={job.status} />
      </div>
      <JobProgress job={job} label={`Progress of ${job.source_name}`} />
      <div className="bell-job-counts">
        {jobCounts(job)} · {new Date(job.created_at).toLocaleString()}
      </div>
    </li>
  );
}

function BellIcon() {
  return (
    <svg className="bell-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path
        d="M12 2a6 6 0 0 0-6 6v3.6l-1.7 3.4A1 1 0 0 0 5.2 16.5h13.6a1 1 0 0 0 .9-1.5L18 11.6V8a6 6 0 0 0-6-6Zm0 20a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Z"
        fill="currentColor"
      />
    </svg>
  );
}
