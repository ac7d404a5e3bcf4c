import type { Item } from "../api/client";
import { formatBytes } from "../files/itemTypes";

/** The item's media facts as labelled rows, in a fixed order, leaving out those it lacks. */
export function factRows(item: Item): [string, string][] {
  const media = item.media as Record<string, unknown>;
  const rows: [string, string][] = [];
  const add = (label: string, value: unknown, format: (v: never) => string = String) => {
    if (value !== null && value !== undefined && value !== "") rows.push([label, format(value as never)]);
  };
  add("Size", media.file_size, (bytes: number) => `${formatBytes(bytes)} (${bytes.toLocaleString("en")} bytes)`);
  add("MIME type", media.mime_type);
  if (typeof media.width === "number" && typeof media.height === "number") rows.push(["Dimensions", `${media.width} × ${media.height} px`]);
  add("Duration", media.duration, (s: number) => `${Math.round(s * 100) / 100} s`);
  add("Frame rate", media.fps, (fps: number) => `${Math.round(fps * 100) / 100} fps`);
  add("Frames", media.frame_count);
  add("Pages", media.num_pages);
  add("Sample rate", media.audio_sample_rate, (hz: number) => `${hz.toLocaleString("en")} Hz`);
  add("Bit depth", media.audio_bit_depth, (bits: number) => `${bits} bit`);
  add("Audio codec", media.audio_codec);
  add("Channels", media.audio_num_channels);
  add("DICOM study UID", media.dicom_study_uid);
  add("DICOM series UID", media.dicom_series_uid);
  add("DICOM instance UID", media.dicom_instance_uid);
  const extra = media.extra;
  if (extra && typeof extra === "object") {
    for (const [key, value] of Object.entries(extra)) add(key, value, (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v)));
  }
  return rows;
}

/** The kinds of preview the viewer has for each item type. */
export type PreviewKind = "image" | "video" | "audio" | "pdf" | "text" | "facts" | "children";

export function previewKind(itemType: string): PreviewKind {
  switch (itemType) {
    case "image":
      return "image";
    case "video":
      return "video";
    case "audio":
      return "audio";
    case "pdf":
      return "pdf";
    case "plain_text":
      return "text";
    case "image_group":
    case "image_sequence":
    case "dicom_series":
      return "children";
    default:
      return "facts"; // DICOM files and NIfTI volumes: the server draws them (Preview's ScanPreview)
  }
}

export function hasChildren(itemType: string): boolean {
  return itemType === "image_group" || itemType === "image_sequence" || itemType === "dicom_series";
}

/** A metadata value as one line: strings as they are, anything else as JSON. */
export function metadataValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
