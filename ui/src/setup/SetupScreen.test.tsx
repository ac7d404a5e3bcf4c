import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { renderWithApi } from "../test/render";
import { SetupScreen } from "./SetupScreen";

const INTEGRATION = {
  id: "a0000000-0000-0000-0000-000000000001",
  title: "cams",
  provider: "s3_compatible",
  bucket: "cams",
  region: null,
  endpoint: "http://127.0.0.1:9000",
  strict_client_only: false,
  options: {},
  created_at: "2026-01-01T00:00:00Z",
  has_credentials: true,
};
const REPORT = {
  store: "s3://cams",
  ok: false,
  steps: [
    { name: "list", outcome: "passed", detail: "listed s3://cams", fix: "" },
    { name: "read", outcome: "failed", detail: "AccessDenied on GetObject", fix: "allow s3:GetObject on arn:aws:s3:::cams/*" },
  ],
};

function server() {
  let schema: Record<string, unknown> = { weather: { ty: "enum", values: ["rainy"] } };
  return fakeServer({
    "GET /api/v1/schema": () => json(schema),
    "PUT /api/v1/schema": async (request) => {
      const body = (await request.json()) as Record<string, unknown>;
      if ("bad/key" in body) return json({ code: "metadata_schema", message: "invalid metadata key 'bad/key'" }, 400);
      schema = body;
      return json(schema);
    },
    "GET /api/v1/integrations": () => json([INTEGRATION]),
    [`POST /api/v1/integrations/${INTEGRATION.id}/check`]: () => json(REPORT),
  });
}

describe("SetupScreen", () => {
  it("adds a key and deletes one by sending the whole schema document", async () => {
    const fake = server();
    renderWithApi(fake.fetch, <SetupScreen />);
    const schema = await screen.findByRole("region", { name: "Metadata schema" });
    await userEvent.type(within(schema).getByLabelText("Key name"), "score");
    await userEvent.click(within(schema).getByRole("button", { name: "Add key" }));
    expect(await within(schema).findByRole("cell", { name: "score" })).toBeTruthy();
    await userEvent.click(within(schema).getByRole("button", { name: "Delete weather" }));
    expect(await within(schema).findByRole("button", { name: "Restore weather" })).toBeTruthy();
    const puts = fake.requests.filter((request) => request.method === "PUT");
    expect(await puts[1]!.json()).toEqual({
      weather: { ty: "tombstone", deleted_ty: { ty: "enum", values: ["rainy"] } },
      score: { ty: "variant", hint: "number" },
    });
    await userEvent.type(within(schema).getByLabelText("Key name"), "bad/key");
    await userEvent.click(within(schema).getByRole("button", { name: "Add key" }));
    expect(await within(schema).findByText("invalid metadata key 'bad/key'")).toBeTruthy();
  });

  it("shows each check of an integration's self-test with its fix", async () => {
    renderWithApi(server().fetch, <SetupScreen />);
    await userEvent.click(await screen.findByRole("button", { name: "Test cams" }));
    const report = await screen.findByRole("region", { name: "Self-test of cams" });
    expect(within(report).getByText(/some checks failed/)).toBeTruthy();
    await waitFor(() => expect(within(report).getAllByRole("row")).toHaveLength(3));
    expect(within(report).getByText("allow s3:GetObject on arn:aws:s3:::cams/*")).toBeTruthy();
  });
});
