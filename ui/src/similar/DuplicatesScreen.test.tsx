import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { item } from "../test/records";
import { renderWithApi } from "../test/render";
import { DuplicatesScreen } from "./DuplicatesScreen";

const SCHEMA = { clip: { ty: "embedding", size: 8 }, caption: { ty: "embedding", size: 384 }, weather: { ty: "enum", values: ["rainy"] } };
const A = item({ id: "0190a1b2-0000-7000-8000-0000000000a1", name: "a.png" });
const A2 = item({ id: "0190a1b2-0000-7000-8000-0000000000a2", name: "a-copy.png" });
const B = item({ id: "0190a1b2-0000-7000-8000-0000000000b1", name: "b.png" });
const B2 = item({ id: "0190a1b2-0000-7000-8000-0000000000b2", name: "b-copy.png" });

function serve() {
  return fakeServer({
    "GET /api/v1/schema": () => json(SCHEMA),
    "POST /api/v1/items/duplicates": async (request) => {
      const body = (await request.json()) as { threshold: number };
      if (body.threshold < 0) return json({ code: "invalid_argument", message: "duplicates: threshold -1 must be >= 0" }, 400);
      return json({
        groups: [
          { members: [{ item: A, frame: null, distance: 0 }, { item: A2, frame: null, distance: 0.0125 }] },
          { members: [{ item: B, frame: null, distance: 0 }, { item: B2, frame: 4, distance: 0.03 }] },
        ],
      });
    },
  });
}

describe("DuplicatesScreen", () => {
  it("sends the key, threshold and filter, and lists each group with links and distances", async () => {
    const server = serve();
    renderWithApi(server.fetch, <DuplicatesScreen />);
    const form = await screen.findByRole("form", { name: "Find duplicates" });
    await waitFor(() => expect(within(form).getByLabelText(/Embedding key/)).toHaveProperty("value", "caption")); // the first by name
    await userEvent.selectOptions(within(form).getByLabelText(/Embedding key/), "clip");
    const threshold = within(form).getByLabelText(/Largest distance/);
    await userEvent.clear(threshold);
    await userEvent.type(threshold, "0.02");
    await userEvent.type(within(form).getByLabelText(/Only items matching/), "weather = rainy");
    await userEvent.click(within(form).getByRole("button", { name: "Find duplicates" }));

    expect((await screen.findByTestId("duplicate-count")).textContent).toBe("2 groups");
    const call = server.requests.find((request) => request.url.endsWith("/items/duplicates"))!;
    expect(await call.json()).toEqual({ key: "clip", threshold: 0.02, metric: "cosine", recursive: false, limit: 1000, where: "weather = rainy" });
    const first = screen.getByRole("region", { name: "Group 1" });
    expect(within(first).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["IMG a.png 0.0000", "IMG a-copy.png 0.0125"]);
    expect(within(first).getByRole("link", { name: "a-copy.png" }).getAttribute("href")).toBe(`/files/${A2.folder_id}/items/${A2.id}`);
    expect(within(screen.getByRole("region", { name: "Group 2" })).getByText(/frame 4/)).toBeTruthy();
  });

  it("shows the API's refusal", async () => {
    renderWithApi(serve().fetch, <DuplicatesScreen />);
    const form = await screen.findByRole("form", { name: "Find duplicates" });
    await waitFor(() => expect(within(form).getByLabelText(/Embedding key/)).toHaveProperty("value", "caption"));
    const threshold = within(form).getByLabelText(/Largest distance/);
    await userEvent.clear(threshold);
    await userEvent.type(threshold, "-1");
    await userEvent.click(within(form).getByRole("button", { name: "Find duplicates" }));
    expect((await screen.findByRole("alert")).textContent).toContain("threshold -1 must be >= 0");
  });
});
