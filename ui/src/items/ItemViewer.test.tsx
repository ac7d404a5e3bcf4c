import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { Item } from "../api/client";
import { BASE_URL, fakeServer, json } from "../test/fakeServer";
import { item } from "../test/records";
import { renderWithApi } from "../test/render";
import { factRows, previewKind } from "./facts";
import { ItemViewer } from "./ItemViewer";
import { readTextStart, TEXT_PREVIEW_BYTES } from "./Preview";

const DATASET = {
  id: "d0000000-0000-0000-0000-000000000001",
  title: "Houses",
  description: "",
  storage_location: 0,
  backing_folder_id: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

function serve(shown: Item, extra = {}) {
  return fakeServer({
    [`GET /api/v1/items/${shown.id}`]: () => json(shown),
    [`GET /api/v1/items/${shown.id}/summary`]: () => json({ parent: null, datasets: [DATASET], data_row_ids: { [DATASET.id]: ["r1"] } }),
    "POST /api/v1/items/signed-urls": async (request) => {
      const { item_ids } = (await request.json()) as { item_ids: string[] };
      return json(Object.fromEntries(item_ids.map((id) => [id, `${BASE_URL}/signed/${id}`])));
    },
    ...extra,
  });
}

describe("ItemViewer", () => {
  it("shows an image through its signed URL with its facts, client metadata and datasets", async () => {
    const image = item({ client_metadata: { camera: "north-3", tags: ["night"] } });
    const onClose = vi.fn();
    renderWithApi(serve(image).fetch, <ItemViewer itemId={image.id} onClose={onClose} />);
    const preview = await screen.findByRole("img", { name: "Preview of crossing.png" });
    expect(preview.getAttribute("src")).toBe(`${BASE_URL}/signed/${image.id}`);
    const facts = within(screen.getByRole("region", { name: "Media facts" }));
    expect(facts.getByText("640 × 480 px")).toBeTruthy();
    expect(facts.getByText("2.5 MB (2,500,000 bytes)")).toBeTruthy();
    expect(facts.getByText("s3://cams/crossing.png")).toBeTruthy();
    const metadata = within(screen.getByRole("region", { name: "Client metadata" }));
    expect(metadata.getAllByRole("definition").map((d) => d.textContent)).toEqual(["north-3", '["night"]']);
    const datasets = within(await screen.findByRole("region", { name: "Datasets" }));
    expect(datasets.getByRole("listitem").textContent).toBe("Houses (1 data row)");
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });

  it("reads the start of a text file with a Range request", async () => {
    const text = item({ item_type: "plain_text", name: "notes.txt", media: { file_size: 30 } });
    const fetched = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("cameras moved on Monday\n", { status: 206 }));
    renderWithApi(serve(text).fetch, <ItemViewer itemId={text.id} onClose={vi.fn()} />);
    expect((await screen.findByLabelText("Text of notes.txt")).textContent).toBe("cameras moved on Monday\n");
    const [url, init] = fetched.mock.calls[0]!;
    expect(url).toBe(`${BASE_URL}/signed/${text.id}`);
    expect(new Headers(init!.headers).get("Range")).toBe(`bytes=0-${TEXT_PREVIEW_BYTES - 1}`);
    expect(init!.credentials).toBe("omit");
  });

  it("says a file that cannot be read why, with a link to open it", async () => {
    const pdf = item({ item_type: "pdf", name: "report.pdf" });
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Failed to fetch"));
    renderWithApi(serve(pdf).fetch, <ItemViewer itemId={pdf.id} onClose={vi.fn()} />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("a bucket must allow this origin: CORS");
    expect(within(alert).getByRole("link", { name: "Open the file" }).getAttribute("href")).toBe(`${BASE_URL}/signed/${pdf.id}`);
  });

  it("lists the files of a group, each opening in the viewer, and asks the server for a series' picture", async () => {
    const group = item({ item_type: "dicom_series", name: "Head CT", url: null, media: { dicom_series_uid: "1.2.3" } });
    const slices = [0, 1].map((n) =>
      item({ id: `20000000-0000-0000-0000-00000000000${n}`, item_type: "dicom_file", name: `slice-${n}.dcm`, position: n, parent_item_id: group.id }),
    );
    const api = serve(group, { [`GET /api/v1/items/${group.id}/children`]: () => json(slices) });
    renderWithApi(api.fetch, <ItemViewer itemId={group.id} onClose={vi.fn()} />);
    const files = within(await screen.findByRole("region", { name: "Files of this item" }));
    await waitFor(() => expect(files.getAllByRole("link").map((a) => a.textContent)).toEqual(["DCM0. slice-0.dcm", "DCM1. slice-1.dcm"]));
    expect(files.getAllByRole("link")[1]!.getAttribute("href")).toBe(`/files/${group.folder_id}/items/${slices[1]!.id}`);
    expect(screen.getByText("1.2.3")).toBeTruthy();
    // the series' picture is the server's PNG of its middle file (Preview.test.tsx)
    await waitFor(() => expect(api.requests.some((r) => r.url.endsWith(`/items/${group.id}/preview.png`))).toBe(true));
    expect(api.requests.some((r) => r.url.endsWith("/signed-urls"))).toBe(false); // a series has no file of its own
  });

  it("shows a NIfTI volume's facts with a link to its file", async () => {
    const volume = item({ item_type: "nifti", name: "brain.nii.gz", media: { file_size: 9_000_000, extra: { shape: [256, 256, 180] } } });
    renderWithApi(serve(volume).fetch, <ItemViewer itemId={volume.id} onClose={vi.fn()} />);
    const note = await screen.findByRole("alert"); // this stand-in API draws no picture (Preview.test.tsx: one that does)
    expect(note.textContent).toContain("No preview of this NIfTI volume");
    expect(await within(note).findByRole("link", { name: "Open the file" })).toBeTruthy();
    expect(screen.getByText("[256,256,180]")).toBeTruthy();
  });

  it("shows the API's message for an item that is not found", async () => {
    const missing = "30000000-0000-0000-0000-000000000000";
    const api = fakeServer({ [`GET /api/v1/items/${missing}`]: () => json({ code: "not_found", message: `storage item ${missing} not found` }, 404) });
    renderWithApi(api.fetch, <ItemViewer itemId={missing} onClose={vi.fn()} />);
    expect((await screen.findByRole("alert")).textContent).toContain(`storage item ${missing} not found`);
  });
});

describe("item facts", () => {
  it("lists the media facts the item has, in order", () => {
    const video = item({ item_type: "video", media: { file_size: 1500, width: 1920, height: 1080, duration: 12.345, fps: 29.97, mime_type: "video/mp4", extra: { codec: "h264" } } });
    expect(factRows(video)).toEqual([
      ["Size", "1.5 KB (1,500 bytes)"],
      ["MIME type", "video/mp4"],
      ["Dimensions", "1920 × 1080 px"],
      ["Duration", "12.35 s"],
      ["Frame rate", "29.97 fps"],
      ["codec", "h264"],
    ]);
  });

  it("previews each type as it can", () => {
    expect(["image", "video", "audio", "pdf", "plain_text", "nifti", "dicom_file", "image_group"].map(previewKind)).toEqual([
      "image", "video", "audio", "pdf", "text", "facts", "facts", "children",
    ]);
  });

  it("reads only the start of a long text, cutting at the limit", async () => {
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("abcdefghij", { status: 200 }));
    expect(await readTextStart("http://files.test/a.txt", 4)).toEqual({ text: "abcd", truncated: true });
  });
});
