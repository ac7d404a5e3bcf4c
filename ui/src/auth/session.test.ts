import { afterEach, describe, expect, it } from "vitest";

import { forgetKey, storedKey } from "./session";

describe("storedKey", () => {
  afterEach(() => {
    forgetKey();
    window.history.replaceState(null, "", "/");
  });

  it("takes a key given in the address's #key= fragment and removes it from the address", () => {
    window.history.replaceState(null, "", "/files?x=1#key=bdx_abc%2Bdef");
    expect(storedKey()).toBe("bdx_abc+def");
    expect(window.location.hash).toBe("");
    expect(window.location.pathname + window.location.search).toBe("/files?x=1");
    expect(storedKey()).toBe("bdx_abc+def"); // kept for the tab
  });

  it("ignores other fragments and keeps no key", () => {
    window.history.replaceState(null, "", "/#section");
    expect(storedKey()).toBeNull();
    expect(window.location.hash).toBe("#section");
  });
});
