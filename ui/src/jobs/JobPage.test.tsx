import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { BAD_ROW, FOLDER, job } from "../test/records";
import { renderWithApi } from "../test/render";
import { JobPage } from "./JobPage";
import { jobCounts, jobFraction } from "./queries";

const JOB = job({ unit_errors: [BAD_ROW], items: [{ uuid: "10000000-0000-0000-0000-000000000001", name: "crossing.png" }] });
const CSV = '"object_url","location","error","action"\n"s3://cams/bridge.png","images[1]","bad","fix"\n';

function server(extra = {}) {
  return fakeServer({
    [`GET /api/v1/import-jobs/${JOB.id}`]: () => json(JOB),
    [`GET /api/v1/folders/${FOLDER.id}`]: () => json(FOLDER),
    [`GET /api/v1/import-jobs/${JOB.id}/failed-files`]: () =>
      new Response(CSV, {
        headers: { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="failed-files-${JOB.id}.csv"` },
      }),
    ...extra,
  });
}

describe("JobPage", () => {
  it("shows the status, counts, the unit errors and the registered items", async () => {
    renderWithApi(server().fetch, <JobPage jobId={JOB.id} />);
    expect(await screen.findByRole("heading", { name: "Import of upload.json" })).toBeTruthy();
    expect(screen.getByText("DONE")).toBeTruthy();
    expect(screen.getAllByRole("term").map((d) => d.textContent)).toEqual(["Registered", "Failed", "To go", "Cancelled"]);
    expect(screen.getAllByRole("definition").map((d) => d.textContent)).toEqual(["2", "1", "0", "0"]);
    const table = screen.getByRole("table", { name: "Files not registered (1)" });
    expect(within(table).getAllByRole("cell").map((c) => c.textContent)).toEqual([BAD_ROW.location, BAD_ROW.object_urls[0], BAD_ROW.error, BAD_ROW.action]);
    expect(screen.getByRole("link", { name: "crossing.png" }).getAttribute("href")).toBe(`/files/${FOLDER.id}/items/10000000-0000-0000-0000-000000000001`);
    expect(await screen.findByRole("link", { name: "← Street cams" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveProperty("disabled", true);
  });

  it("downloads the failed-files CSV under the server's file name", async () => {
    const made: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => (made.push(blob), "blob:failed"));
    URL.revokeObjectURL = vi.fn();
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      expect(this.download).toBe(`failed-files-${JOB.id}.csv`);
      expect(this.href).toBe("blob:failed");
    });
    const api = server();
    renderWithApi(api.fetch, <JobPage jobId={JOB.id} />);
    await userEvent.click(await screen.findByRole("button", { name: "Download failed files (CSV)" }));
    expect(await screen.findByText(`Saved failed-files-${JOB.id}.csv`)).toBeTruthy();
    expect(clicked).toHaveBeenCalledTimes(1);
    expect(await made[0]!.text()).toBe(CSV);
    const asked = api.requests.find((r) => r.url.endsWith("/failed-files"));
    expect(asked!.headers.get("Authorization")).toBe("Bearer bdx_test");
  });

  it("retries the failures and goes to the new job's page", async () => {
    const retried = job({ id: "00000000-0000-0000-0000-0000000000j2", status: "PENDING", source_name: `retry-of-${JOB.id}.json` });
    const api = server({ [`POST /api/v1/import-jobs/${JOB.id}/retry`]: () => json(retried, 202) });
    renderWithApi(api.fetch, <JobPage jobId={JOB.id} />);
    await userEvent.click(await screen.findByRole("button", { name: "Retry the failures" }));
    await waitFor(() => expect(window.location.pathname).toBe(`/jobs/${retried.id}`));
  });

  it("cancels a PENDING job and shows the API's message when it cannot", async () => {
    const pending = job({ status: "PENDING", units_done: 0, units_error: 0, units_pending: 3, progress: { phase: "reading files", done: 1, total: 3 } });
    let cancelled = false;
    const api = fakeServer({
      [`GET /api/v1/import-jobs/${JOB.id}`]: () => json(cancelled ? { ...pending, status: "CANCELLED", progress: null } : pending),
      [`GET /api/v1/folders/${FOLDER.id}`]: () => json(FOLDER),
      [`POST /api/v1/import-jobs/${JOB.id}/cancel`]: () => ((cancelled = true), json({ ...pending, status: "CANCELLED", progress: null })),
    });
    renderWithApi(api.fetch, <JobPage jobId={JOB.id} />);
    const bar = await screen.findByRole("progressbar", { name: "Job progress" });
    expect(bar.getAttribute("aria-valuetext")).toBe("reading files: 1 of 3");
    expect(screen.getByRole("button", { name: "Retry the failures" })).toHaveProperty("disabled", true);
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(await screen.findByText("CANCELLED")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveProperty("disabled", true);
  });

  it("names a job that is not found in the API's words", async () => {
    const api = fakeServer({
      [`GET /api/v1/import-jobs/${JOB.id}`]: () => json({ code: "not_found", message: `import job ${JOB.id} not found` }, 404),
    });
    renderWithApi(api.fetch, <JobPage jobId={JOB.id} />);
    expect((await screen.findByRole("alert")).textContent).toContain(`import job ${JOB.id} not found`);
  });
});

describe("job progress in words", () => {
  it("counts what is done, failed, to go and cancelled", () => {
    expect(jobCounts(job({ units_done: 2, units_error: 1, units_pending: 3, units_cancelled: 1 }))).toBe("2 registered · 1 failed · 3 to go · 1 cancelled");
    expect(jobFraction(job({ status: "PENDING", units_done: 1, units_error: 1, units_pending: 2 }))).toBe(0.5);
    expect(jobFraction(job({ status: "PENDING", units_done: 0, units_error: 0, units_pending: 0 }))).toBeNull();
    expect(jobFraction(job({ status: "PENDING", progress: { phase: "listing", done: 3, total: 4 } }))).toBe(0.75);
  });
});
