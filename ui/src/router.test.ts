import { describe, expect, it } from "vitest";

import { navigate, parseRoute, pathOf } from "./router";

const F = "0190a1b2-0000-7000-8000-000000000001";
const I = "0190a1b2-0000-7000-8000-000000000002";

describe("routes", () => {
  it("reads the screen, folder, item and job from the address", () => {
    expect(parseRoute("/")).toEqual({ screen: "files", folderId: null, itemId: null });
    expect(parseRoute(`/files/${F}`)).toEqual({ screen: "files", folderId: F, itemId: null });
    expect(parseRoute(`/files/${F}/items/${I}/`)).toEqual({ screen: "files", folderId: F, itemId: I });
    expect(parseRoute(`/jobs/${I}`)).toEqual({ screen: "job", jobId: I });
    expect(parseRoute("/files/not-an-id")).toEqual({ screen: "files", folderId: null, itemId: null });
  });

  it("writes each route back to the address it came from", () => {
    for (const path of ["/", `/files/${F}`, `/files/${F}/items/${I}`, `/jobs/${I}`]) {
      expect(pathOf(parseRoute(path))).toBe(path);
    }
  });

  it("navigates with a history entry, or replacing the current one", () => {
    const before = window.history.length;
    navigate(`/jobs/${I}`);
    expect(window.location.pathname).toBe(`/jobs/${I}`);
    expect(window.history.length).toBe(before + 1);
    navigate(`/files/${F}`, { replace: true });
    expect(window.location.pathname).toBe(`/files/${F}`);
    expect(window.history.length).toBe(before + 1);
  });
});

describe("the Filters screen's address", () => {
  it("is /filters both ways", () => {
    expect(parseRoute("/filters")).toEqual({ screen: "filters", folderId: null });
    expect(pathOf({ screen: "filters", folderId: null })).toBe("/filters");
    expect(parseRoute(`/filters/${F}`)).toEqual({ screen: "filters", folderId: F });
    expect(pathOf({ screen: "filters", folderId: F })).toBe(`/filters/${F}`);
    expect(parseRoute("/setup")).toEqual({ screen: "setup" });
    expect(pathOf({ screen: "setup" })).toBe("/setup");
  });
});

describe("the map's address", () => {
  it("is /map both ways", () => {
    expect(parseRoute("/map")).toEqual({ screen: "map" });
    expect(parseRoute("/map/")).toEqual({ screen: "map" });
    expect(pathOf({ screen: "map" })).toBe("/map");
    expect(parseRoute("/mapping")).toEqual({ screen: "files", folderId: null, itemId: null });
    expect(parseRoute("/duplicates")).toEqual({ screen: "duplicates" });
    expect(pathOf({ screen: "duplicates" })).toBe("/duplicates");
  });
});
