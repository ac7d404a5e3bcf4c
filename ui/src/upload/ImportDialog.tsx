import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { unwrap, type DryRun, type Folder, type Job } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";
import { Modal } from "../components/Modal";
import { UnitErrorTable, unitErrors } from "../jobs/JobParts";
import { jobKeys } from "../jobs/queries";
import { dryRunSummary, inputsKey, manifestBody } from "./manifest";

const NO_INTEGRATION = "";

interface Props {
  folder: Folder;
  onClose: () => void;
  onStarted: (job: Job) => void;
}

/** "Import from cloud data": an integration, a JSON or CSV manifest and the "Ignore individual
 * file errors" switch; a dry run (nothing written) shows what would be added, skipped and
 * updated and each error with its location, then the job is started. */
export function ImportDialog({ folder, onClose, onStarted }: Props) {
  const ids = useId();
  const [integrationId, setIntegrationId] = useState(NO_INTEGRATION);
  const [file, setFile] = useState<File | null>(null);
  const [ignoreErrors, setIgnoreErrors] = useState(false);
  const { integrations, dryRun, start } = useImport(folder, onStarted);

  const checked =
    dryRun.data && file && dryRun.data.key === inputsKey(file, ignoreErrors, integrationId) ? dryRun.data.report : null;
  const check = (event: FormEvent) => {
    event.preventDefault();
    if (file) dryRun.mutate({ file, ignoreErrors, integrationId });
  };

  return (
    <Modal title="Import from cloud data" onClose={onClose} className="import-dialog">
      <form className="import-form" onSubmit={check} aria-label="Import manifest">
        <p className="hint">
          Register the files a manifest lists into “{folder.name}”. A dry run shows what would happen before anything is written.
        </p>
        <label htmlFor={`${ids}-integration`}>Integration</label>
        <select id={`${ids}-integration`} data-autofocus value={integrationId} onChange={(event) => setIntegrationId(event.target.value)}>
          <option value={NO_INTEGRATION}>None: public URLs</option>
          {(integrations.data ?? []).map((integration) => (
            <option key={integration.id} value={integration.id}>
              {integration.title} ({integration.provider}: {integration.bucket})
            </option>
          ))}
        </select>
        <ErrorMessage error={integrations.error} context="Integrations could not be listed" />
        <label htmlFor={`${ids}-file`}>Manifest (JSON or CSV)</label>
        <input id={`${ids}-file`} type="file" accept=".json,.csv,application/json,text/csv" onChange={(event) => setFile(event.target.files?.[0] ?? null)} />
        <label className="switch">
          <input type="checkbox" role="switch" checked={ignoreErrors} onChange={(event) => setIgnoreErrors(event.target.checked)} />
          Ignore individual file errors
          <span className="hint"> (register the good files even if some fail)</span>
        </label>
        <div className="panel-buttons">
          <button type="submit" disabled={!file}>
            {dryRun.isPending ? "Checking…" : "Dry run"}
          </button>
        </div>
      </form>
      <ErrorMessage error={dryRun.error} context="The manifest cannot be registered" />
      {checked ? <DryRunReport report={checked} /> : null}
      <ErrorMessage error={start.error} context="The import was not started" />
      <div className="panel-buttons modal-footer">
        <button type="button" className="primary" disabled={!checked || !file || start.isPending} onClick={() => file && start.mutate({ file, ignoreErrors, integrationId })}>
          Start import
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        {!checked ? <span className="hint">Run a dry run of this file first.</span> : null}
      </div>
    </Modal>
  );
}

/** The integrations to choose from, the dry run (with the inputs it was made for) and the start. */
function useImport(folder: Folder, onStarted: (job: Job) => void) {
  const api = useApi();
  const client = useQueryClient();
  const integrations = useQuery({ queryKey: ["integrations"], queryFn: () => unwrap(api.GET("/api/v1/integrations")) });
  const dryRun = useMutation({
    mutationFn: async (input: { file: File; ignoreErrors: boolean; integrationId: string }) => {
      const report = await unwrap(
        api.POST("/api/v1/folders/{folder_id}/import-dry-run", {
          params: {
            path: { folder_id: folder.id },
            // the job's integration: URLs outside its bucket are errors here as in the job
            query: { ignore_errors: input.ignoreErrors, source_name: input.file.name, integration_id: input.integrationId || null },
          },
          ...(await manifestBody(input.file)),
        }),
      );
      return { report, key: inputsKey(input.file, input.ignoreErrors, input.integrationId) };
    },
  });
  const start = useMutation({
    mutationFn: async (input: { file: File; ignoreErrors: boolean; integrationId: string }) =>
      unwrap(
        api.POST("/api/v1/folders/{folder_id}/import-jobs", {
          params: {
            path: { folder_id: folder.id },
            query: { ignore_errors: input.ignoreErrors, source_name: input.file.name, integration_id: input.integrationId || null },
          },
          ...(await manifestBody(input.file)),
        }),
      ),
    onSuccess: (job) => {
      client.setQueryData(jobKeys.job(job.id), job);
      void refreshQueries(client, jobKeys.recent);
      onStarted(job);
    },
  });
  return { integrations, dryRun, start };
}

function DryRunReport({ report }: { report: DryRun }) {
  const errors = unitErrors(report.unit_errors);
  return (
    <section className="dry-run" aria-label="Dry run">
      <h3>Dry run: nothing was written</h3>
      <p className="dry-run-summary" role="status">
        Would {dryRunSummary(report)}
      </p>
      {report.would_fail ? (
        <p className="warning">
          With these errors and “Ignore individual file errors” off, the job would register nothing: fix the entries, or switch it on
          to register the others.
        </p>
      ) : null}
      <UnitErrorTable errors={errors} caption="Errors, by their place in the manifest" />
    </section>
  );
}
