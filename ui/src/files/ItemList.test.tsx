import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";

import { makeApi, type Folder, type Item } from "../api/client";
import { ApiProvider } from "../api/context";
import { fakeServer, json } from "../test/fakeServer";
import { ItemList } from "./ItemList";

const FOLDER: Folder = {
  id: "f0000000-0000-0000-0000-000000000001",
  parent_id: null,
  name: "Street cams",
  description: "",
  client_metadata: {},
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

function item(n: number, itemType = "image"): Item {
  return {
    id: `i0000000-0000-0000-0000-${String(n).padStart(12, "0")}`,
    folder_id: FOLDER.id,
    item_type: itemType,
    name: `frame-${n}`,
    description: "",
    url: `file:///media/frame-${n}.png`,
    integration_id: null,
    parent_item_id: null,
    position: null,
    client_metadata: {},
    media: { width: 640, height: 480, file_size: 2_500_000 },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
}

function wrap(fetch: (request: Request) => Promise<Response>, children: ReactNode) {
  const api = makeApi("bdx_test", { baseUrl: "http://bucketdex.test", fetch });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return (
    <QueryClientProvider client={queries}>
      <ApiProvider api={api}>{children}</ApiProvider>
    </QueryClientProvider>
  );
}

describe("ItemList", () => {
  it("follows the cursor pages and shows thumbnails and type badges", async () => {
    const pages: Record<string, { results: Item[]; next_page_token: string | null }> = {
      "": { results: [item(1), item(2), item(3, "plain_text")], next_page_token: "t1" },
      t1: { results: [item(4), item(5)], next_page_token: null },
    };
    const server = fakeServer({
      [`GET /api/v1/folders/${FOLDER.id}/items`]: (_request, url) => json(pages[url.searchParams.get("page_token") ?? ""]),
      "POST /api/v1/items/signed-urls": async (request) => {
        const { item_ids } = (await request.json()) as { item_ids: string[] };
        return json(Object.fromEntries(item_ids.map((id) => [id, `http://bucketdex.test/api/v1/files/${id}`])));
      },
    });
    render(wrap(server.fetch, <ItemList folder={FOLDER} />));

    expect(await screen.findByText("frame-5")).toBeTruthy();
    expect(screen.getByText("5 items")).toBeTruthy();
    const listed = server.requests.filter((r) => r.url.includes("/items?"));
    expect(listed.map((r) => new URL(r.url).searchParams.get("page_token"))).toEqual([null, "t1"]);
    expect(screen.getByRole("img", { name: "text file" }).textContent).toBe("TXT");
    await waitFor(() => expect(document.querySelectorAll("img.thumb")).toHaveLength(4));
    const asked = server.requests.filter((r) => r.url.endsWith("/signed-urls"));
    expect(asked).toHaveLength(2); // one request per page, images only
    expect(screen.getAllByText("640×480 · 2.5 MB")).toHaveLength(5);
    // each name opens the item viewer at the item's address
    expect(screen.getByRole("link", { name: "frame-2" }).getAttribute("href")).toBe(`/files/${FOLDER.id}/items/${item(2).id}`);
  });

  it("shows the API's message when the folder cannot be listed", async () => {
    const server = fakeServer({
      [`GET /api/v1/folders/${FOLDER.id}/items`]: () => json({ code: "not_found", message: `folder ${FOLDER.id} not found` }, 404),
    });
    render(wrap(server.fetch, <ItemList folder={FOLDER} />));
    expect((await screen.findByRole("alert")).textContent).toContain(`folder ${FOLDER.id} not found`);
  });
});
