import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { JobSummary } from "../api/client";
import { fakeServer, json } from "../test/fakeServer";
import { renderWithApi } from "../test/render";
import { JobsBell } from "./JobsBell";
import { POLL_MS } from "./queries";

function summary(status: JobSummary["status"], done: number, pending: number): JobSummary {
  return {
    id: "00000000-0000-0000-0000-0000000000j1",
    folder_id: "f0000000-0000-0000-0000-000000000001",
    status,
    source_name: "upload.json",
    units_done: done,
    units_error: status === "DONE" ? 1 : 0,
    units_pending: pending,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
}

describe("JobsBell", () => {
  it("shows the jobs' live progress, polling while one is PENDING and stopping once all are final", async () => {
    const answers = [summary("PENDING", 0, 3), summary("PENDING", 1, 2), summary("DONE", 2, 0)];
    let asked = 0;
    const server = fakeServer({
      "GET /api/v1/import-jobs": () => json({ results: [answers[Math.min(asked++, answers.length - 1)]] }),
    });
    renderWithApi(server.fetch, <JobsBell />);
    const bell = await screen.findByRole("button", { name: "Import jobs, 1 running" });
    await userEvent.click(bell);
    const panel = screen.getByRole("region", { name: "Recent import jobs" });
    expect(within(panel).getByRole("link", { name: "upload.json" }).getAttribute("href")).toBe(
      "/jobs/00000000-0000-0000-0000-0000000000j1",
    );
    await waitFor(() => expect(within(panel).getByText("DONE")).toBeTruthy(), { timeout: 5 * POLL_MS });
    expect(within(panel).getByText(/2 registered · 1 failed/)).toBeTruthy();
    expect(within(panel).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(screen.getByRole("button", { name: "Import jobs" })).toBeTruthy();
    const settled = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2.5 * POLL_MS));
    expect(server.requests.length).toBe(settled); // no polling once every job is final
  });

  it("closes on Escape with focus back on the bell", async () => {
    const server = fakeServer({ "GET /api/v1/import-jobs": () => json({ results: [] }) });
    renderWithApi(server.fetch, <JobsBell />);
    await userEvent.click(screen.getByRole("button", { name: "Import jobs" }));
    expect(await screen.findByText("No import jobs yet.")).toBeTruthy();
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("region", { name: "Recent import jobs" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Import jobs" }));
  });
});
