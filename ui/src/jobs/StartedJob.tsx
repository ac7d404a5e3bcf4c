import type { Job } from "../api/client";
import { linkProps, paths } from "../router";
import { JobProgress, StatusBadge } from "./JobParts";
import { isFinal, jobCounts, useJob } from "./queries";

/** A notice of the import just started from the dialog, following it until it is final (so the
 * folder's items are fetched again once it has registered them). */
export function StartedJob({ started }: { started: Job }) {
  const job = useJob(started.id).data ?? started;
  return (
    <div className="notice" role="status">
      <div className="bell-job-head">
        <span>
          The import of {job.source_name} has {isFinal(job.status) ? "finished" : "started"}: {jobCounts(job)}.{" "}
          <a {...linkProps(paths.job(job.id))}>Open the job</a>
        </span>
        <StatusBadge status={job.status} />
      </div>
      <JobProgress job={job} label={`Progress of ${job.source_name}`} />
    </div>
  );
}
