/** Drawing the map's points into a 2-D canvas through one ImageData: a pixel write per point
 * (a small square when there are few), so a million points draw in tens of milliseconds. */

import type { MapPoints, View } from "./points";

/** RGBA colours as the canvas' bytes read on a little-endian machine (0xAABBGGRR). */
function rgba(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export const COLOURS = {
  point: rgba(37, 99, 235),
  selected: rgba(234, 88, 12),
  dimmed: rgba(148, 163, 184),
};

/** The half-width of a point's square: bigger when there are few points to see. */
export function pointRadius(count: number): number {
  return count <= 5_000 ? 2 : count <= 100_000 ? 1 : 0;
}

/** Draws the points of `points` in `view` (selected ones, mask 1, on top in their colour);
 * returns how many landed inside the canvas. */
export function drawPoints(
  context: CanvasRenderingContext2D,
  points: Pick<MapPoints, "count" | "x" | "y">,
  view: View,
  mask: Uint8Array | null = null,
): number {
  const width = view.width | 0;
  const height = view.height | 0;
  const image = context.createImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  const r = pointRadius(points.count);
  const halfW = view.width / 2, halfH = view.height / 2, scale = view.scale; // prettier-ignore
  const base = mask ? COLOURS.dimmed : COLOURS.point;
  let drawn = 0;
  for (let pass = 0; pass < (mask ? 2 : 1); pass++) {
    const colour = pass === 0 ? base : COLOURS.selected;
    for (let n = 0; n < points.count; n++) {
      if (mask && mask[n] !== pass) continue;
      const sx = ((points.x[n]! - view.cx) * scale + halfW) | 0;
      const sy = ((view.cy - points.y[n]!) * scale + halfH) | 0;
      if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
      drawn++;
      if (r === 0) {
        pixels[sy * width + sx] = colour;
        continue;
      }
      for (let yy = Math.max(0, sy - r); yy <= Math.min(height - 1, sy + r); yy++) {
        const row = yy * width;
        for (let xx = Math.max(0, sx - r); xx <= Math.min(width - 1, sx + r); xx++) pixels[row + xx] = colour;
      }
    }
  }
  context.putImageData(image, 0, 0);
  return drawn;
}
