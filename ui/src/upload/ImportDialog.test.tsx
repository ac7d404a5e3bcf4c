import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { BAD_ROW, FOLDER, job } from "../test/records";
import { renderWithApi } from "../test/render";
import { ImportDialog } from "./ImportDialog";
import { dryRunSummary, manifestContentType } from "./manifest";

const INTEGRATION = {
  id: "a0000000-0000-0000-0000-000000000001",
  title: "cams",
  provider: "s3",
  bucket: "cams",
  region: "eu-west-2",
  endpoint: null,
  strict_client_only: false,
  options: {},
  created_at: "2026-01-01T00:00:00Z",
  has_credentials: true,
};
const DRY_RUN = { would_add: 2, would_skip: 1, would_update: 0, would_fail: true, ignore_errors: false, unit_errors: [BAD_ROW] };
const MANIFEST = '{"images": []}';

function server() {
  return fakeServer({
    "GET /api/v1/integrations": () => json([INTEGRATION]),
    [`POST /api/v1/folders/${FOLDER.id}/import-dry-run`]: (_request, url) =>
      json({ ...DRY_RUN, ignore_errors: url.searchParams.get("ignore_errors") === "true", would_fail: url.searchParams.get("ignore_errors") !== "true" }),
    [`POST /api/v1/folders/${FOLDER.id}/import-jobs`]: () => json(job({ status: "PENDING" }), 202),
  });
}

async function choose(file: File) {
  await userEvent.upload(screen.getByLabelText("Manifest (JSON or CSV)"), file);
}

describe("ImportDialog", () => {
  it("dry-runs the manifest, shows counts and each error's location, then starts the job", async () => {
    const api = server();
    const onStarted = vi.fn();
    renderWithApi(api.fetch, <ImportDialog folder={FOLDER} onClose={vi.fn()} onStarted={onStarted} />);
    await userEvent.selectOptions(await screen.findByLabelText("Integration"), await screen.findByRole("option", { name: /cams \(s3: cams\)/ }));
    await choose(new File([MANIFEST], "upload.json", { type: "application/json" }));
    const start = screen.getByRole("button", { name: "Start import" });
    expect(start).toHaveProperty("disabled", true);
    await userEvent.click(screen.getByRole("button", { name: "Dry run" }));

    const report = await screen.findByRole("region", { name: "Dry run" });
    expect(within(report).getByRole("status").textContent).toBe("Would add 2 · skip 1 · update 0 · 1 error");
    const cells = within(report).getAllByRole("cell").map((cell) => cell.textContent);
    expect(cells).toEqual([BAD_ROW.location, BAD_ROW.object_urls[0], BAD_ROW.error, BAD_ROW.action]);
    expect(within(report).getByText(/the job would register nothing/)).toBeTruthy();
    const [dry] = api.requests.filter((r) => r.url.includes("/import-dry-run"));
    const sent = new URL(dry!.url);
    expect(sent.searchParams.get("source_name")).toBe("upload.json");
    expect(sent.searchParams.get("ignore_errors")).toBe("false");
    expect(sent.searchParams.get("integration_id")).toBe(INTEGRATION.id); // checked against its bucket
    expect(dry!.headers.get("Content-Type")).toBe("application/json");
    expect(await dry!.text()).toBe(MANIFEST);

    // the switch changes what a job would do: a new dry run is needed
    await userEvent.click(screen.getByRole("switch", { name: /Ignore individual file errors/ }));
    expect(start).toHaveProperty("disabled", true);
    await userEvent.click(screen.getByRole("button", { name: "Dry run" }));
    await waitFor(() => expect(start).toHaveProperty("disabled", false));
    expect(screen.queryByText(/the job would register nothing/)).toBeNull();

    // another integration: URLs are checked against another bucket, so a new dry run is needed
    await userEvent.selectOptions(screen.getByLabelText("Integration"), screen.getByRole("option", { name: /None: public URLs/ }));
    expect(start).toHaveProperty("disabled", true);
    await userEvent.selectOptions(screen.getByLabelText("Integration"), screen.getByRole("option", { name: /cams \(s3: cams\)/ }));
    await waitFor(() => expect(start).toHaveProperty("disabled", false)); // the same inputs as the last dry run
    await userEvent.click(start);

    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(job({ status: "PENDING" })));
    const started = new URL(api.requests.at(-1)!.url);
    expect(started.pathname).toBe(`/api/v1/folders/${FOLDER.id}/import-jobs`);
    expect(Object.fromEntries(started.searchParams)).toEqual({ ignore_errors: "true", source_name: "upload.json", integration_id: INTEGRATION.id });
  });

  it("sends a CSV as CSV and lists each problem of a manifest the API cannot read", async () => {
    const problems = ["line 3, column 1 (ObjectUrl): expected the object's URL as a non-empty string, got ''", "line 4, column 2 (title): too long"];
    const api = fakeServer({
      "GET /api/v1/integrations": () => json([]),
      [`POST /api/v1/folders/${FOLDER.id}/import-dry-run`]: () =>
        json({ code: "invalid_manifest", message: `2 problems in upload.csv:\n${problems.join("\n")}`, problems }, 400),
    });
    renderWithApi(api.fetch, <ImportDialog folder={FOLDER} onClose={vi.fn()} onStarted={vi.fn()} />);
    await choose(new File(["ObjectUrl,Image title\n,a\n"], "upload.csv"));
    await userEvent.click(screen.getByRole("button", { name: "Dry run" }));
    const alert = await screen.findByRole("alert");
    expect(within(alert).getAllByRole("listitem").map((li) => li.textContent)).toEqual(problems);
    const dry = api.requests.find((r) => r.url.includes("/import-dry-run"));
    expect(dry!.headers.get("Content-Type")).toBe("text/csv");
    expect(screen.getByRole("button", { name: "Start import" })).toHaveProperty("disabled", true);
  });

  it("closes on Escape", async () => {
    const onClose = vi.fn();
    renderWithApi(server().fetch, <ImportDialog folder={FOLDER} onClose={onClose} onStarted={vi.fn()} />);
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });
});

describe("manifest helpers", () => {
  it("picks the media type from the file name", () => {
    expect(manifestContentType({ name: "a.CSV" })).toBe("text/csv");
    expect(manifestContentType({ name: "a.json" })).toBe("application/json");
    expect(manifestContentType({ name: "upload", type: "text/csv" })).toBe("text/csv");
  });

  it("says a dry run in words", () => {
    expect(dryRunSummary({ ...DRY_RUN, unit_errors: [] })).toBe("add 2 · skip 1 · update 0 · 0 errors");
  });
});
