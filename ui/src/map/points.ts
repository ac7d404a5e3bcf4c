/** The map's points as the API serves them (GET /api/v1/embeddings/{key}/map) and the pure
 * geometry the screen needs: decoding, bounds, the view's scales, point in polygon. */

/** Little-endian records, no header: float32 x, float32 y, 16-byte item id (24 bytes). */
export const RECORD_BYTES = 24;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface MapPoints {
  count: number;
  x: Float32Array;
  y: Float32Array;
  /** 16 bytes per point: the item ids, in the records' order */
  ids: Uint8Array;
  stage: string | null;
}

/** The records read into columns; a length that is not whole records is refused, naming it. */
export function decodePoints(buffer: ArrayBuffer, stage: string | null = null, recordBytes = RECORD_BYTES): MapPoints {
  if (recordBytes < RECORD_BYTES) throw new Error(`map records of ${recordBytes} bytes: expected at least ${RECORD_BYTES}`);
  if (buffer.byteLength % recordBytes !== 0) {
    throw new Error(`a map of ${buffer.byteLength} bytes is not whole ${recordBytes}-byte records`);
  }
  const count = buffer.byteLength / recordBytes;
  const x = new Float32Array(count);
  const y = new Float32Array(count);
  const ids = new Uint8Array(count * 16);
  if (recordBytes % 4 === 0 && LITTLE_ENDIAN) {
    // whole 4-byte words: read the records through typed views (1M points in a few ms)
    const stride = recordBytes / 4;
    const floats = new Float32Array(buffer);
    const words = new Uint32Array(buffer);
    const idWords = new Uint32Array(ids.buffer);
    for (let n = 0, at = 0, to = 0; n < count; n++, at += stride, to += 4) {
      x[n] = floats[at]!;
      y[n] = floats[at + 1]!;
      idWords[to] = words[at + 2]!;
      idWords[to + 1] = words[at + 3]!;
      idWords[to + 2] = words[at + 4]!;
      idWords[to + 3] = words[at + 5]!;
    }
    return { count, x, y, ids, stage };
  }
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  for (let n = 0, at = 0; n < count; n++, at += recordBytes) {
    x[n] = view.getFloat32(at, true);
    y[n] = view.getFloat32(at + 4, true);
    ids.set(bytes.subarray(at + 8, at + 24), n * 16);
  }
  return { count, x, y, ids, stage };
}

const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, "0"));

/** The n-th point's item id as the API writes it (8-4-4-4-12 hex). */
export function idAt(points: Pick<MapPoints, "ids">, n: number): string {
  const b = points.ids.subarray(n * 16, n * 16 + 16);
  let hex = "";
  for (let i = 0; i < 16; i++) hex += HEX[b[i]!]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The smallest box holding every point (a unit box around a single point or none). */
export function boundsOf(points: Pick<MapPoints, "count" | "x" | "y">): Bounds {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity; // prettier-ignore
  for (let n = 0; n < points.count; n++) {
    const px = points.x[n]!, py = points.y[n]!; // prettier-ignore
    if (px < x0) x0 = px;
    if (px > x1) x1 = px;
    if (py < y0) y0 = py;
    if (py > y1) y1 = py;
  }
  if (!(x0 <= x1)) return { x0: -1, y0: -1, x1: 1, y1: 1 };
  const padX = (x1 - x0) * 0.03 || 0.5;
  const padY = (y1 - y0) * 0.03 || 0.5;
  return { x0: x0 - padX, y0: y0 - padY, x1: x1 + padX, y1: y1 + padY };
}

/** Map coordinates <-> canvas pixels: `scale` pixels per map unit (the same on both axes,
 * so clusters keep their shape), y up on the map and down on the screen. */
export interface View {
  cx: number; // the map point at the canvas' centre
  cy: number;
  scale: number;
  width: number;
  height: number;
}

/** The view that shows `bounds` whole in a canvas of width x height. */
export function fitView(bounds: Bounds, width: number, height: number): View {
  const scale = Math.min(width / (bounds.x1 - bounds.x0), height / (bounds.y1 - bounds.y0));
  return { cx: (bounds.x0 + bounds.x1) / 2, cy: (bounds.y0 + bounds.y1) / 2, scale, width, height };
}

export function toScreen(view: View, x: number, y: number): [number, number] {
  return [(x - view.cx) * view.scale + view.width / 2, (view.cy - y) * view.scale + view.height / 2];
}

export function toMap(view: View, sx: number, sy: number): [number, number] {
  return [(sx - view.width / 2) / view.scale + view.cx, view.cy - (sy - view.height / 2) / view.scale];
}

/** The view zoomed by `factor` about the screen point (sx, sy), which stays where it is. */
export function zoomAt(view: View, sx: number, sy: number, factor: number): View {
  const [mx, my] = toMap(view, sx, sy);
  const scale = view.scale * factor;
  return { ...view, scale, cx: mx - (sx - view.width / 2) / scale, cy: my + (sy - view.height / 2) / scale };
}

/** The view moved by a drag of (dx, dy) screen pixels. */
export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, cx: view.cx - dx / view.scale, cy: view.cy + dy / view.scale };
}

/** Even-odd rule (a ray to +x crosses the boundary an odd number of times): the server's
 * test (index/embedding_map.py), so the points drawn as selected are the ones it returns. */
export function inPolygon(px: number, py: number, polygon: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [ax, ay] = polygon[i]!;
    const [bx, by] = polygon[j]!;
    if (ay === by) continue;
    if (ay > py !== by > py && px < ax + ((py - ay) * (bx - ax)) / (by - ay)) inside = !inside;
  }
  return inside;
}

/** A selection as the select route takes it: a rectangle (two corners) or a lasso, in map
 * coordinates. */
export type Shape = { rect: [number, number, number, number] } | { polygon: Array<[number, number]> };

/** A mask (1: inside) of the points in the shape. */
export function pointsInShape(points: Pick<MapPoints, "count" | "x" | "y">, shape: Shape): Uint8Array {
  const mask = new Uint8Array(points.count);
  if ("rect" in shape) {
    const [ax, ay, bx, by] = shape.rect;
    const x0 = Math.min(ax, bx), x1 = Math.max(ax, bx), y0 = Math.min(ay, by), y1 = Math.max(ay, by); // prettier-ignore
    for (let n = 0; n < points.count; n++) {
      const px = points.x[n]!, py = points.y[n]!; // prettier-ignore
      mask[n] = px >= x0 && px <= x1 && py >= y0 && py <= y1 ? 1 : 0;
    }
    return mask;
  }
  const poly = shape.polygon;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity; // prettier-ignore
  for (const [px, py] of poly) {
    x0 = Math.min(x0, px); x1 = Math.max(x1, px); y0 = Math.min(y0, py); y1 = Math.max(y1, py); // prettier-ignore
  }
  for (let n = 0; n < points.count; n++) {
    const px = points.x[n]!, py = points.y[n]!; // prettier-ignore
    if (px >= x0 && px <= x1 && py >= y0 && py <= y1 && inPolygon(px, py, poly)) mask[n] = 1;
  }
  return mask;
}

/** The index of the point drawn nearest to the screen point (sx, sy), within `radius` pixels
 * (-1: none): the hover preview's point. */
export function nearestPoint(points: Pick<MapPoints, "count" | "x" | "y">, view: View, sx: number, sy: number, radius = 6): number {
  const [mx, my] = toMap(view, sx, sy);
  let best = -1;
  let bestSq = (radius / view.scale) ** 2;
  for (let n = 0; n < points.count; n++) {
    const dx = points.x[n]! - mx;
    const dy = points.y[n]! - my;
    const sq = dx * dx + dy * dy;
    if (sq < bestSq || (best < 0 && sq === bestSq)) {
      bestSq = sq;
      best = n;
    }
  }
  return best;
}
