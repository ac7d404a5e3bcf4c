import { describe, expect, it } from "vitest";

import { conditionOf, controlsOf, filterTree, schemaKeys, type FilterKey } from "./filter";

const KEYS: FilterKey[] = [
  { key: "weather", type: "enum", values: ["rainy", "snow", "sunny"] },
  { key: "score", type: "number" },
  { key: "night", type: "boolean" },
  { key: "camera", type: "varchar" },
  { key: "notes", type: "text" },
  { key: "captured_at", type: "datetime" },
];

describe("schemaKeys", () => {
  it("reads the schema document's types, aliases and tombstones", () => {
    const keys = schemaKeys({
      weather: { ty: "enum", values: ["rainy", "snow"] },
      score: { ty: "variant", hint: "number" },
      camera: { ty: "variant", hint: "string" },
      old: { ty: "tombstone", deleted_ty: { ty: "variant", hint: "string" } },
      gone: { ty: "tombstone" },
    });
    expect(keys).toEqual([
      { key: "camera", type: "varchar", deleted: false, restorable: false },
      { key: "gone", type: "", deleted: true, restorable: false },
      { key: "old", type: "varchar", deleted: true, restorable: true },
      { key: "score", type: "number", deleted: false, restorable: false },
      { key: "weather", type: "enum", deleted: false, restorable: false, values: ["rainy", "snow"] },
    ]);
  });
});

describe("filterTree", () => {
  it("joins each control's condition with and", () => {
    const tree = filterTree(KEYS, {
      weather: { kind: "values", values: ["rainy", "snow"] },
      score: { kind: "range", low: "0.5", high: "" },
      camera: { kind: "match", op: "prefix", text: " north " },
    });
    expect(tree).toEqual({
      and: [
        { key: "weather", op: "in", value: ["rainy", "snow"] },
        { key: "score", op: ">=", value: 0.5 },
        { key: "camera", op: "prefix", value: "north" },
      ],
    });
  });

  it("is one condition alone, null without any, and leaves out the excepted key", () => {
    expect(filterTree(KEYS, {})).toBeNull();
    expect(filterTree(KEYS, { notes: { kind: "contains", text: "bridge" } })).toEqual({ key: "notes", op: "contains", value: "bridge" });
    const controls = { weather: { kind: "values" as const, values: ["rainy"] }, notes: { kind: "contains" as const, text: "x" } };
    expect(filterTree(KEYS, controls, "weather")).toEqual({ key: "notes", op: "contains", value: "x" });
  });

  it("makes between from both bounds, <= from the upper one, and keeps a bound that is not a number as typed", () => {
    expect(conditionOf(KEYS[1]!, { kind: "range", low: "1", high: "2.5" })).toEqual({ key: "score", op: "between", value: [1, 2.5] });
    expect(conditionOf(KEYS[1]!, { kind: "range", low: "", high: "3" })).toEqual({ key: "score", op: "<=", value: 3 });
    expect(conditionOf(KEYS[1]!, { kind: "range", low: "high", high: "" })).toEqual({ key: "score", op: ">=", value: "high" });
    expect(conditionOf(KEYS[5]!, { kind: "range", low: "2024-05-01", high: "" })).toEqual({ key: "captured_at", op: ">=", value: "2024-05-01" });
  });

  it("makes = for one boolean and or for both", () => {
    expect(conditionOf(KEYS[2]!, { kind: "values", values: [true] })).toEqual({ key: "night", op: "=", value: true });
    expect(conditionOf(KEYS[2]!, { kind: "values", values: [true, false] })).toEqual({
      or: [{ key: "night", op: "=", value: true }, { key: "night", op: "=", value: false }],
    });
  });
});

describe("controlsOf", () => {
  it("gives back the controls that made a tree", () => {
    const controls = {
      weather: { kind: "values" as const, values: ["snow"] },
      score: { kind: "range" as const, low: "1", high: "2" },
      night: { kind: "values" as const, values: [true, false] },
      camera: { kind: "match" as const, op: "=" as const, text: "north-3" },
    };
    const tree = filterTree(KEYS, controls);
    expect(controlsOf(KEYS, tree)).toEqual(controls);
    expect(filterTree(KEYS, controlsOf(KEYS, tree)!)).toEqual(tree);
  });

  it("refuses a tree the controls cannot show", () => {
    expect(controlsOf(KEYS, { not: { key: "camera", op: "exists" } })).toBeNull();
    expect(controlsOf(KEYS, { key: "unknown", op: "=", value: 1 })).toBeNull();
    expect(controlsOf(KEYS, { and: [{ key: "score", op: ">=", value: 1 }, { key: "score", op: "<=", value: 2 }] })).toBeNull();
  });
});
