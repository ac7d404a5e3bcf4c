import { describe, expect, it } from "vitest";

import { formatBytes, typeBadge } from "./itemTypes";

describe("item types and facts", () => {
  it("has a badge for every type and names unknown ones", () => {
    expect(typeBadge("dicom_series")).toEqual({ badge: "DCM", label: "DICOM series" });
    expect(typeBadge("hologram")).toEqual({ badge: "?", label: "hologram" });
  });

  it("formats sizes in decimal units", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1_500)).toBe("1.5 KB");
    expect(formatBytes(42_000_000)).toBe("42 MB");
    expect(formatBytes(undefined)).toBe("");
  });
});
