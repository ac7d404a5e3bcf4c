import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { item } from "../test/records";
import { renderWithApi } from "../test/render";
import { SimilarPanel } from "./SimilarPanel";

const SCHEMA = { clip: { ty: "embedding", size: 8 }, caption: { ty: "embedding", size: 384 }, weather: { ty: "enum", values: ["rainy"] } };
const OPEN = item({ name: "open.png" });
const NEAR = item({ id: "0190a1b2-0000-7000-8000-0000000000a2", name: "near.png" });
const FAR = item({ id: "0190a1b2-0000-7000-8000-0000000000a3", name: "far.png" });

function serve(schema: Record<string, unknown> = SCHEMA) {
  return fakeServer({
    "GET /api/v1/schema": () => json(schema),
    "POST /api/v1/items/similar": async (request) => {
      const body = (await request.json()) as { text?: string };
      if (body.text) {
        return json({ code: "text_encoder_not_configured", message: "no text encoder is configured for key 'caption'; set one" }, 400);
      }
      return json({ results: [{ item: OPEN, frame: null, distance: 0 }, { item: NEAR, frame: null, distance: 0.125 }, { item: FAR, frame: 3, distance: 0.5 }] });
    },
  });
}

async function sent(server: ReturnType<typeof serve>, index: number) {
  const calls = server.requests.filter((request) => request.url.endsWith("/items/similar"));
  return (await calls[index]!.json()) as Record<string, unknown>;
}

describe("SimilarPanel", () => {
  it("lists the API's nearest items in order with their distances, each linking to its item", async () => {
    const server = serve();
    renderWithApi(server.fetch, <SimilarPanel item={OPEN} />);
    const list = await screen.findByRole("list", { name: "Nearest items" });
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(3));
    expect(within(list).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "IMG open.png0.0000",
      "IMG near.png0.1250",
      "IMG far.png frame 30.5000",
    ]);
    expect(within(list).getByRole("link", { name: "near.png" }).getAttribute("href")).toBe(`/files/${NEAR.folder_id}/items/${NEAR.id}`);
    // the first embedding key in name order, the item, k 10, no scope
    expect(await sent(server, 0)).toEqual({ key: "caption", k: 10, metric: "cosine", recursive: false, item_id: OPEN.id });
  });

  it("sends the key, k, the folder and a filter chosen, then a text; shows a refusal as the API put it", async () => {
    const server = serve();
    renderWithApi(server.fetch, <SimilarPanel item={OPEN} />);
    await screen.findByRole("list", { name: "Nearest items" });
    await userEvent.selectOptions(screen.getByLabelText("Similarity key"), "clip");
    await userEvent.selectOptions(screen.getByLabelText("How many"), "5");
    await userEvent.click(screen.getByLabelText("within this folder"));
    await userEvent.type(screen.getByLabelText("Only items matching (filter)"), "weather = rainy");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(async () =>
      expect(await sent(server, server.requests.filter((r) => r.url.endsWith("/items/similar")).length - 1)).toEqual({
        key: "clip", k: 5, metric: "cosine", recursive: false, item_id: OPEN.id, folder_id: OPEN.folder_id, where: "weather = rainy",
      }),
    );
    await userEvent.type(screen.getByLabelText("Find by text"), "rainy street scenes");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    expect((await screen.findByRole("alert")).textContent).toContain("no text encoder is configured for key 'caption'");
  });

  it("is not shown when the schema has no embedding key", async () => {
    const server = serve({ weather: { ty: "enum", values: ["rainy"] } });
    renderWithApi(server.fetch, <SimilarPanel item={OPEN} />);
    await waitFor(() => expect(server.requests.length).toBe(1));
    expect(screen.queryByRole("region", { name: "Similar items" })).toBeNull();
  });
});
