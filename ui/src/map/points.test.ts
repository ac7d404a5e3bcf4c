import { describe, expect, it } from "vitest";

import { boundsOf, decodePoints, fitView, idAt, inPolygon, nearestPoint, panBy, pointsInShape, toMap, toScreen, zoomAt } from "./points";
import { COLOURS, drawPoints } from "./render";
import { whereBody } from "./queries";

const ID_A = "0190a1b2-0000-7000-8000-000000000001";
const ID_B = "ffeeddcc-bbaa-4988-8776-655443322110";

/** Records as the API writes them (map_routes.py): float32 x, float32 y, 16-byte id, LE. */
function records(points: Array<[number, number, string]>, recordBytes = 24): ArrayBuffer {
  const buffer = new ArrayBuffer(points.length * recordBytes);
  const view = new DataView(buffer);
  points.forEach(([x, y, id], n) => {
    view.setFloat32(n * recordBytes, x, true);
    view.setFloat32(n * recordBytes + 4, y, true);
    const hex = id.replace(/-/g, "");
    for (let i = 0; i < 16; i++) view.setUint8(n * recordBytes + 8 + i, parseInt(hex.slice(2 * i, 2 * i + 2), 16));
    if (recordBytes === 28) view.setInt32(n * recordBytes + 24, -1, true);
  });
  return buffer;
}

describe("the map's binary array", () => {
  it("decodes each record's coordinates and item id", () => {
    const points = decodePoints(records([[1.5, -2.25, ID_A], [-3, 4e6, ID_B]]), "pca");
    expect(points.count).toBe(2);
    expect([...points.x]).toEqual([1.5, -3]);
    expect([...points.y]).toEqual([-2.25, 4e6]);
    expect([idAt(points, 0), idAt(points, 1)]).toEqual([ID_A, ID_B]);
    expect(points.stage).toBe("pca");
  });

  it("reads 28-byte records (with frames) and an empty map", () => {
    const points = decodePoints(records([[0.5, 0.25, ID_B]], 28), null, 28);
    expect([points.x[0], points.y[0], idAt(points, 0)]).toEqual([0.5, 0.25, ID_B]);
    expect(decodePoints(new ArrayBuffer(0)).count).toBe(0);
  });

  it("refuses a length that is not whole records", () => {
    expect(() => decodePoints(new ArrayBuffer(25))).toThrow("a map of 25 bytes is not whole 24-byte records");
  });
});

describe("the view's scales", () => {
  const bounds = { x0: -10, y0: 0, x1: 10, y1: 5 };

  it("fits the bounds whole, one scale for both axes, y up", () => {
    const view = fitView(bounds, 400, 400);
    expect(view.scale).toBe(20);
    expect(toScreen(view, -10, 2.5)).toEqual([0, 200]);
    expect(toScreen(view, 10, 5)).toEqual([400, 150]);
    expect(toMap(view, 200, 200)).toEqual([0, 2.5]);
  });

  it("keeps the point under the cursor when zooming, and pans by the drag", () => {
    const view = fitView(bounds, 400, 400);
    const zoomed = zoomAt(view, 100, 120, 3);
    expect(zoomed.scale).toBe(60);
    const [x, y] = toMap(view, 100, 120);
    const [sx, sy] = toScreen(zoomed, x, y);
    expect(sx).toBeCloseTo(100, 9);
    expect(sy).toBeCloseTo(120, 9);
    const panned = panBy(view, 40, -20);
    expect(toScreen(panned, 0, 2.5)).toEqual([240, 180]);
  });

  it("pads the points' bounds, and gives a box around a single point or none", () => {
    const b = boundsOf({ count: 2, x: new Float32Array([0, 100]), y: new Float32Array([0, 50]) });
    expect(b).toEqual({ x0: -3, y0: -1.5, x1: 103, y1: 51.5 });
    expect(boundsOf({ count: 0, x: new Float32Array(), y: new Float32Array() })).toEqual({ x0: -1, y0: -1, x1: 1, y1: 1 });
    const one = boundsOf({ count: 1, x: new Float32Array([2]), y: new Float32Array([3]) });
    expect(one).toEqual({ x0: 1.5, y0: 2.5, x1: 2.5, y1: 3.5 });
  });
});

describe("selections", () => {
  // a concave "C": its mouth (x 1..3, y 1..2) is outside
  const C: Array<[number, number]> = [[0, 0], [3, 0], [3, 1], [1, 1], [1, 2], [3, 2], [3, 3], [0, 3]];

  it("tells points in a concave lasso by the even-odd rule", () => {
    expect(inPolygon(0.5, 1.5, C)).toBe(true);
    expect(inPolygon(2, 1.5, C)).toBe(false); // in the mouth
    expect(inPolygon(2, 0.5, C)).toBe(true);
    expect(inPolygon(-1, 1.5, C)).toBe(false);
    expect(inPolygon(2, 2.5, C)).toBe(true);
  });

  it("masks the points in a rectangle (corners in any order) or a lasso", () => {
    const points = { count: 4, x: new Float32Array([0.5, 2, 2, 5]), y: new Float32Array([1.5, 1.5, 0.5, 5]) };
    expect([...pointsInShape(points, { rect: [2.5, 2, 0, 0] })]).toEqual([1, 1, 1, 0]);
    expect([...pointsInShape(points, { polygon: C })]).toEqual([1, 0, 1, 0]);
  });
});

describe("the hover preview's point", () => {
  it("is the nearest point within the radius in screen pixels, or none", () => {
    const points = { count: 3, x: new Float32Array([0, 1, 1.1]), y: new Float32Array([0, 1, 1]) };
    const view = fitView({ x0: -1, y0: -1, x1: 3, y1: 3 }, 400, 400); // 100 px a unit
    const [sx, sy] = toScreen(view, 1.08, 1);
    expect(nearestPoint(points, view, sx, sy)).toBe(2);
    const [ox, oy] = toScreen(view, 0.5, 0.5);
    expect(nearestPoint(points, view, ox, oy)).toBe(-1); // 50 px from any point
    expect(nearestPoint(points, view, ox, oy, 80)).toBe(0); // ties: the first found
  });
});

describe("drawing", () => {
  /** A 2-D context's two calls the renderer makes, over a real ImageData-like buffer. */
  function context(width: number, height: number) {
    let put: Uint8ClampedArray | null = null;
    return {
      createImageData: (w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4), width: w, height: h }),
      putImageData: (image: { data: Uint8ClampedArray }) => void (put = image.data),
      pixel: (x: number, y: number) => new Uint32Array(put!.buffer)[y * width + x],
      size: [width, height],
    };
  }

  it("writes each point's pixel, selected ones in their colour, and counts those in view", () => {
    const ctx = context(100, 100);
    const points = { count: 3, x: new Float32Array([0, 1, 50]), y: new Float32Array([0, 1, 50]) };
    const view = fitView({ x0: -1, y0: -1, x1: 2, y1: 2 }, 100, 100);
    const drawn = drawPoints(ctx as unknown as CanvasRenderingContext2D, points, view, new Uint8Array([0, 1, 0]));
    expect(drawn).toBe(2); // the third is far outside
    const [ax, ay] = toScreen(view, 0, 0).map(Math.floor) as [number, number];
    const [bx, by] = toScreen(view, 1, 1).map(Math.floor) as [number, number];
    expect(ctx.pixel(ax, ay)).toBe(COLOURS.dimmed);
    expect(ctx.pixel(bx, by)).toBe(COLOURS.selected);
    expect(ctx.pixel(bx + 2, by)).toBe(COLOURS.selected); // a small square: few points
    expect(ctx.pixel(5, 95)).toBe(0);
  });
});

describe("a filter typed in a box", () => {
  it("is sent as its JSON tree when it is one, else as the --where text", () => {
    expect(whereBody(' {"key": "g", "op": "=", "value": 1} ')).toEqual({ key: "g", op: "=", value: 1 });
    expect(whereBody("g = 1")).toBe("g = 1");
    expect(whereBody("{broken")).toBe("{broken");
    expect(whereBody("  ")).toBeUndefined();
  });
});

describe("colour by", () => {
  it("narrows a JSON filter (or none) to one value; a --where text cannot be joined", async () => {
    const { narrowed } = await import("./queries");
    expect(narrowed({ where: "", folderId: null }, "colour", "red")).toEqual({ where: '{"key":"colour","op":"=","value":"red"}', folderId: null });
    const tree = '{"key": "score", "op": ">", "value": 1}';
    expect(JSON.parse(narrowed({ where: tree, folderId: "f" }, "ok", true)!.where)).toEqual({
      and: [{ key: "score", op: ">", value: 1 }, { key: "ok", op: "=", value: true }],
    });
    expect(narrowed({ where: "score > 1", folderId: null }, "colour", "red")).toBeNull();
  });
});
