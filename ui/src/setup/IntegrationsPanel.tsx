import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { unwrap } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";

interface CheckStep {
  name: string;
  outcome: string;
  detail: string;
  fix: string;
}
interface CheckReport {
  store: string;
  ok: boolean;
  steps: CheckStep[];
}

/** Integrations: the list, a new local or S3-compatible one, and each one's permission
 * self-test (POST /integrations/{id}/check) showing every check with its fix. */
export function IntegrationsPanel() {
  const api = useApi();
  const integrations = useQuery({ queryKey: ["integrations"], queryFn: () => unwrap(api.GET("/api/v1/integrations")) });
  const [checked, setChecked] = useState<{ title: string; report: CheckReport } | null>(null);
  const check = useMutation({
    mutationFn: async (input: { id: string; title: string }) => ({
      title: input.title,
      report: (await unwrap(api.POST("/api/v1/integrations/{integration_id}/check", { params: { path: { integration_id: input.id } }, body: { write: false } }))) as unknown as CheckReport,
    }),
    onSuccess: setChecked,
  });
  return (
    <section className="panel" aria-label="Integrations">
      <h3>Integrations</h3>
      <ErrorMessage error={integrations.error ?? check.error} context="Integrations" />
      <ul className="plain-list">
        {(integrations.data ?? []).map((integration) => (
          <li key={integration.id}>
            <strong>{integration.title}</strong> {integration.provider}: {integration.bucket}
            {integration.endpoint ? ` (${integration.endpoint})` : ""}{" "}
            <button type="button" disabled={check.isPending} onClick={() => check.mutate({ id: integration.id, title: integration.title })} aria-label={`Test ${integration.title}`}>
              Test
            </button>
          </li>
        ))}
      </ul>
      {checked ? <CheckTable title={checked.title} report={checked.report} /> : null}
      <NewIntegration />
    </section>
  );
}

function CheckTable({ title, report }: { title: string; report: CheckReport }) {
  return (
    <div role="region" aria-label={`Self-test of ${title}`}>
      <p className={report.ok ? "ok" : "error"}>
        {title} ({report.store}): {report.ok ? "every check passed" : "some checks failed"}
      </p>
      <table className="plain-table">
        <thead>
          <tr>
            <th>check</th>
            <th>outcome</th>
            <th>detail</th>
            <th>fix</th>
          </tr>
        </thead>
        <tbody>
          {report.steps.map((step) => (
            <tr key={step.name}>
              <td>{step.name}</td>
              <td>{step.outcome}</td>
              <td>{step.detail}</td>
              <td>{step.fix}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NewIntegration() {
  const api = useApi();
  const client = useQueryClient();
  const [fields, setFields] = useState({ title: "", provider: "local", bucket: "", endpoint: "", region: "", access: "", secret: "" });
  const create = useMutation({
    mutationFn: () => {
      const s3 = fields.provider !== "local";
      return unwrap(
        api.POST("/api/v1/integrations", {
          body: {
            title: fields.title.trim(),
            provider: fields.provider,
            bucket: fields.bucket.trim(),
            strict_client_only: false,
            endpoint: s3 && fields.endpoint.trim() ? fields.endpoint.trim() : null,
            region: s3 && fields.region.trim() ? fields.region.trim() : null,
            credentials: s3 && fields.access ? { access_key_id: fields.access, secret_access_key: fields.secret } : null,
          },
        }),
      );
    },
    onSuccess: () => {
      setFields({ title: "", provider: fields.provider, bucket: "", endpoint: "", region: "", access: "", secret: "" });
      return refreshQueries(client, ["integrations"]);
    },
  });
  const field = (name: keyof typeof fields, label: string, type = "text") => (
    <label>
      {label} <input type={type} value={fields[name]} onChange={(event) => setFields({ ...fields, [name]: event.target.value })} />
    </label>
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="New integration">
      {field("title", "Title")}
      <label>
        Provider{" "}
        <select value={fields.provider} onChange={(event) => setFields({ ...fields, provider: event.target.value })}>
          <option value="local">local directory</option>
          <option value="s3_compatible">S3-compatible</option>
          <option value="s3">Amazon S3</option>
        </select>
      </label>
      {field("bucket", fields.provider === "local" ? "Directory" : "Bucket")}
      {fields.provider !== "local" ? (
        <>
          {field("endpoint", "Endpoint")}
          {field("region", "Region")}
          {field("access", "Access key ID")}
          {field("secret", "Secret access key", "password")}
        </>
      ) : null}
      <button type="submit" disabled={!fields.title.trim() || !fields.bucket.trim() || create.isPending}>
        Add integration
      </button>
      <ErrorMessage error={create.error} context="The integration was not added" />
    </form>
  );
}
