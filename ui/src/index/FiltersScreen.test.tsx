import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { item } from "../test/records";
import { renderWithApi } from "../test/render";
import { FiltersScreen } from "./FiltersScreen";

const SCHEMA = { weather: { ty: "enum", values: ["rainy", "snow"] }, score: { ty: "variant", hint: "number" } };
const WEATHER = { key: "weather", type: "enum", total: 3, missing: 0, buckets: [{ value: "rainy", count: 2 }, { value: "snow", count: 1 }] };
const SCORE = { key: "score", type: "number", total: 3, missing: 0, buckets: [{ low: 0, high: 1, count: 3 }] };

function server(countAnswer: (body: Record<string, unknown>) => Response = () => json({ count: 2 })) {
  const presets: Array<Record<string, unknown>> = [];
  const fake = fakeServer({
    "GET /api/v1/schema": () => json(SCHEMA),
    "GET /api/v1/folders": () => json({ results: [], next_page_token: null }),
    "GET /api/v1/collections": () => json({ results: [], next_page_token: null }),
    "GET /api/v1/presets": () => json({ results: presets, next_page_token: null }),
    "POST /api/v1/presets": async (request) => {
      const body = (await request.json()) as Record<string, unknown>;
      const made = { id: "p0000000-0000-0000-0000-000000000001", description: "", format: "bucketdex", evaluable: true, ...body };
      presets.push(made);
      return json(made, 201);
    },
    "GET /api/v1/presets/p0000000-0000-0000-0000-000000000001/where": () => json(presets[0]!.filter),
    "POST /api/v1/items/count": async (request) => countAnswer((await request.json()) as Record<string, unknown>),
    "POST /api/v1/items/facets": async (request) => {
      const body = (await request.json()) as { key: string };
      return json(body.key === "weather" ? WEATHER : body.key === "score" ? SCORE : { key: body.key, type: "enum", total: 0, missing: 0, buckets: [] });
    },
    "POST /api/v1/items/search": () => json({ results: [item({ name: "crossing.png", client_metadata: { weather: "rainy" } })], next_page_token: null }),
  });
  return fake;
}

async function bodiesOf(requests: Request[], path: string) {
  const sent = requests.filter((request) => request.method === "POST" && new URL(request.url).pathname === path);
  return Promise.all(sent.map(async (request) => (await request.clone().json()) as Record<string, unknown>));
}

describe("FiltersScreen", () => {
  it("shows each key's control with facet counts and sends the tree the controls make", async () => {
    const fake = server();
    renderWithApi(fake.fetch, <FiltersScreen />);
    const weather = await screen.findByRole("group", { name: /weather/ });
    await waitFor(() => expect(within(weather).getByLabelText(/rainy/).parentElement?.textContent).toContain("2"));
    await userEvent.click(within(weather).getByLabelText(/rainy/));
    await userEvent.type(screen.getByLabelText("score from"), "0.5");
    const tree = { and: [{ key: "score", op: ">=", value: 0.5 }, { key: "weather", op: "in", value: ["rainy"] }] };
    expect(JSON.parse(screen.getByLabelText("Filter JSON").textContent!)).toEqual(tree);
    await waitFor(async () => expect((await bodiesOf(fake.requests, "/api/v1/items/count")).at(-1)?.where).toEqual(tree));
    expect(await screen.findByText("2 matching items")).toBeTruthy();
    expect(await screen.findByRole("link", { name: "crossing.png" })).toBeTruthy();
    // the weather facet is counted under the other keys' conditions only
    const facets = await bodiesOf(fake.requests, "/api/v1/items/facets");
    expect(facets.filter((body) => body.key === "weather").at(-1)?.where).toEqual({ key: "score", op: ">=", value: 0.5 });
  });

  it("sends the sort and shows a refused filter's JSON path", async () => {
    const refused = { code: "invalid_filter", message: "invalid filter: $.value: key 'score' (number): takes a number, got 'x'", problems: ["$.value: key 'score' (number): takes a number, got 'x'"] };
    const fake = server((body) => (body.where ? json(refused, 400) : json({ count: 3 })));
    renderWithApi(fake.fetch, <FiltersScreen />);
    await screen.findByRole("option", { name: "score" });
    await userEvent.selectOptions(screen.getByLabelText("Sort by"), "score");
    await userEvent.click(screen.getByLabelText("descending"));
    await waitFor(async () => expect((await bodiesOf(fake.requests, "/api/v1/items/search")).at(-1)?.sort).toBe("-score"));
    await userEvent.type(screen.getByLabelText("score from"), "x");
    expect(await screen.findByText(/\$\.value: key 'score' \(number\): takes a number, got 'x'/)).toBeTruthy();
  });

  it("saves the filter as a preset and opens it again", async () => {
    const fake = server();
    renderWithApi(fake.fetch, <FiltersScreen />);
    const weather = await screen.findByRole("group", { name: /weather/ });
    await userEvent.click(within(weather).getByLabelText(/snow/));
    await userEvent.type(screen.getByLabelText("Preset name"), "Snowy");
    await userEvent.click(screen.getByRole("button", { name: "Save filter" }));
    expect((await bodiesOf(fake.requests, "/api/v1/presets")).at(-1)).toEqual({ name: "Snowy", filter: { key: "weather", op: "in", value: ["snow"] } });
    expect(await screen.findByText('Saved "Snowy"')).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Clear filter" }));
    expect(screen.getByLabelText("Filter JSON").textContent).toBe("(no filter: every item)");
    await userEvent.click(await screen.findByRole("button", { name: "Open Snowy" }));
    expect(await screen.findByText('Opened "Snowy"')).toBeTruthy();
    expect(JSON.parse(screen.getByLabelText("Filter JSON").textContent!)).toEqual({ key: "weather", op: "in", value: ["snow"] });
  });
});
