import type { Item } from "../api/client";

/** A short badge and a spoken label for each storage item type (ItemType of the API). */
const TYPES: Record<string, { badge: string; label: string }> = {
  image: { badge: "IMG", label: "image" },
  video: { badge: "VID", label: "video" },
  audio: { badge: "AUD", label: "audio" },
  pdf: { badge: "PDF", label: "PDF document" },
  plain_text: { badge: "TXT", label: "text file" },
  image_group: { badge: "GRP", label: "image group" },
  image_sequence: { badge: "SEQ", label: "image sequence" },
  dicom_series: { badge: "DCM", label: "DICOM series" },
  dicom_file: { badge: "DCM", label: "DICOM file" },
  nifti: { badge: "NII", label: "NIfTI volume" },
};

export function typeBadge(itemType: string): { badge: string; label: string } {
  return TYPES[itemType] ?? { badge: "?", label: itemType };
}

export function formatBytes(bytes: unknown): string {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "1920×1080 · 12 s · 3.2 MB": the media facts the list shows. */
export function mediaFacts(item: Item): string {
  const media = item.media as Record<string, unknown>;
  const facts: string[] = [];
  if (typeof media.width === "number" && typeof media.height === "number") facts.push(`${media.width}×${media.height}`);
  if (typeof media.duration === "number") facts.push(`${Math.round(media.duration * 10) / 10} s`);
  const size = formatBytes(media.file_size);
  if (size) facts.push(size);
  return facts.join(" · ");
}
