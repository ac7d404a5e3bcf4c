import { screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Item } from "../api/client";
import { BASE_URL, fakeServer, json } from "../test/fakeServer";
import { item } from "../test/records";
import { renderWithApi } from "../test/render";
import { Preview } from "./Preview";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

function previewRoute(shown: Item, answer: () => Response) {
  return fakeServer({ [`GET /api/v1/items/${shown.id}/preview.png`]: answer });
}

describe("Preview of DICOM and NIfTI items", () => {
  const made: Blob[] = [];
  const realCreate = URL.createObjectURL;
  const realRevoke = URL.revokeObjectURL;
  beforeEach(() => {
    made.length = 0;
    URL.createObjectURL = vi.fn((blob: Blob) => (made.push(blob), `blob:preview-${made.length}`));
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => {
    URL.createObjectURL = realCreate;
    URL.revokeObjectURL = realRevoke;
  });

  it("shows the server's PNG of a DICOM file, fetched with the API key, from an object URL", async () => {
    const slice = item({ item_type: "dicom_file", name: "slice-0.dcm", url: "s3://scans/slice-0.dcm" });
    const api = previewRoute(slice, () => new Response(PNG, { status: 200, headers: { "Content-Type": "image/png" } }));
    const view = renderWithApi(api.fetch, <Preview item={slice} url={`${BASE_URL}/signed/${slice.id}`} />);
    const image = await screen.findByRole("img", { name: "Preview of slice-0.dcm" });
    expect(image.getAttribute("src")).toBe("blob:preview-1");
    expect(made[0]!.type).toBe("image/png");
    expect(new Uint8Array(await made[0]!.arrayBuffer())).toEqual(PNG);
    const asked = api.requests.find((r) => r.url.endsWith(`/items/${slice.id}/preview.png`));
    expect(asked!.headers.get("Authorization")).toBe("Bearer bdx_test");
    const caption = screen.getByText(/The first frame, windowed as the file says/);
    expect(within(caption).getByRole("link", { name: "Open the file" }).getAttribute("href")).toBe(`${BASE_URL}/signed/${slice.id}`);
    view.unmount();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:preview-1"); // closed: the blob is let go
  });

  it("draws a series and a NIfTI volume without waiting for a signed URL", async () => {
    const series = item({ item_type: "dicom_series", name: "Head CT", url: null });
    const api = previewRoute(series, () => new Response(PNG, { status: 200 }));
    renderWithApi(api.fetch, <Preview item={series} url={undefined} />);
    expect(await screen.findByRole("img", { name: "Preview of Head CT" })).toBeTruthy();
    expect(screen.getByText("The middle file of the series, windowed as it says.")).toBeTruthy();
    expect(screen.queryByRole("link")).toBeNull(); // a series has no file of its own to open

    const volume = item({ id: "10000000-0000-0000-0000-0000000000aa", item_type: "nifti", name: "brain.nii.gz" });
    renderWithApi(previewRoute(volume, () => new Response(PNG, { status: 200 })).fetch, <Preview item={volume} url={null} />);
    expect(await screen.findByRole("img", { name: "Preview of brain.nii.gz" })).toBeTruthy();
    expect(screen.getByText(/The middle axial slice/)).toBeTruthy();
  });

  it("says in the API's words why there is no picture", async () => {
    const plan = item({ item_type: "dicom_file", name: "plan.dcm" });
    const message = "no preview of s3://scans/plan.dcm (item 1): the DICOM file has no pixel data (modality RTPLAN): it is not an image";
    const api = previewRoute(plan, () => json({ code: "preview_unavailable", message, file: "s3://scans/plan.dcm", reason: "..." }, 400));
    renderWithApi(api.fetch, <Preview item={plan} url={`${BASE_URL}/signed/${plan.id}`} />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain(`No preview of this DICOM file: ${message}. Its media facts are listed here.`);
    expect(within(alert).getByRole("link", { name: "Open the file" })).toBeTruthy();
    expect(screen.queryByRole("img")).toBeNull();
    expect(made).toEqual([]);
  });

  it("says so when the server cannot be reached", async () => {
    const volume = item({ item_type: "nifti", name: "brain.nii.gz" });
    const api = fakeServer({});
    const unreachable = async () => {
      throw new TypeError("Failed to fetch");
    };
    renderWithApi(unreachable, <Preview item={volume} url={null} />);
    expect((await screen.findByRole("alert")).textContent).toContain("the server could not be reached (Failed to fetch)");
    expect(api.requests).toEqual([]);
  });
});
