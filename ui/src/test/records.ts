import type { Folder, Item, Job } from "../api/client";

export const FOLDER: Folder = {
  id: "f0000000-0000-0000-0000-000000000001",
  parent_id: null,
  name: "Street cams",
  description: "",
  client_metadata: {},
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

export function job(fields: Partial<Job> = {}): Job {
  return {
    id: "00000000-0000-0000-0000-0000000000j1",
    folder_id: FOLDER.id,
    integration_id: null,
    dataset_id: null,
    status: "DONE",
    ignore_errors: true,
    source_name: "upload.json",
    units_pending: 0,
    units_done: 2,
    units_error: 1,
    units_cancelled: 0,
    items: [],
    unit_errors: [],
    errors: [],
    stats: {},
    progress: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...fields,
  };
}

export function item(fields: Partial<Item> = {}): Item {
  return {
    id: "10000000-0000-0000-0000-000000000001",
    folder_id: FOLDER.id,
    item_type: "image",
    name: "crossing.png",
    description: "",
    url: "s3://cams/crossing.png",
    integration_id: null,
    parent_item_id: null,
    position: null,
    client_metadata: {},
    media: { file_size: 2_500_000, mime_type: "image/png", width: 640, height: 480 },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...fields,
  };
}

export const BAD_ROW = {
  location: "images[1]",
  object_urls: ["s3://cams/bridge.png"],
  error: "item 'images[1]': key 'score' expected a number, got 'high'",
  action: "Fix the entry and register the manifest again (re-runs skip what is already in).",
};
