import { describe, expect, it } from "vitest";

import { addEmbedding, addEnum, addEnumValues, addScalar, deleteKey, restoreKey, retypeScalar } from "./schemaEdits";

describe("schema edits", () => {
  const document = { weather: { ty: "enum", values: ["rainy"] } };

  it("adds a scalar, an enum and an embedding key", () => {
    expect(addScalar(document, "score", "number").score).toEqual({ ty: "variant", hint: "number" });
    expect(addEnum(document, "light", " day, night ,, ").light).toEqual({ ty: "enum", values: ["day", "night"] });
    expect(addEmbedding(document, "clip", " 512 ").clip).toEqual({ ty: "embedding", size: 512 });
    expect(document).toEqual({ weather: { ty: "enum", values: ["rainy"] } }); // not changed in place
  });

  it("adds values to an enum and retypes a scalar", () => {
    expect(addEnumValues(document, "weather", "snow, rainy, , fog").weather).toEqual({ ty: "enum", values: ["rainy", "snow", "fog"] });
    expect(retypeScalar({ score: { ty: "variant", hint: "number" } }, "score", "varchar").score).toEqual({ ty: "variant", hint: "varchar" });
    expect(document.weather).toEqual({ ty: "enum", values: ["rainy"] }); // not changed in place
  });

  it("soft-deletes a key and restores it", () => {
    const deleted = deleteKey(document, "weather");
    expect(deleted.weather).toEqual({ ty: "tombstone", deleted_ty: { ty: "enum", values: ["rainy"] } });
    expect(restoreKey(deleted, "weather")).toEqual(document);
    expect(() => restoreKey({ gone: { ty: "tombstone", deleted_ty: null } }, "gone")).toThrow("hard deleted");
  });
});
