/** Drawing the map's points into a 2-D canvas through one ImageData: a pixel write per point
 * (a small square when there are few), so a million points draw in tens of milliseconds. */

import type { MapPoints, View } from "./points";

/** RGBA colours as the canvas' bytes read on a little-endian machine (0xAABBGGRR). */
export function rgba(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export const COLOURS = {
  point: rgba(37, 99, 235),
  selected: rgba(234, 88, 12),
  dimmed: rgba(148, 163, 184),
};

/** Colours of a key's values (colour by), distinct from the selection's orange. */
export const PALETTE = [
  [22, 163, 74], [147, 51, 234], [220, 38, 38], [8, 145, 178], [202, 138, 4],
  [219, 39, 119], [71, 85, 105], [101, 163, 13], [79, 70, 229], [13, 148, 136],
].map(([r, g, b]) => rgba(r!, g!, b!)); // prettier-ignore

/** The CSS colour of a value's swatch in the legend. */
export function cssColour(colour: number): string {
  return `rgb(${colour & 255}, ${(colour >>> 8) & 255}, ${(colour >>> 16) & 255})`;
}

/** Points drawn in one colour over what is drawn before them. */
export interface Layer {
  points: Pick<MapPoints, "count" | "x" | "y">;
  colour: number;
}

/** The half-width of a point's square: bigger when there are few points to see. */
export function pointRadius(count: number): number {
  return count <= 5_000 ? 2 : count <= 100_000 ? 1 : 0;
}

/** Draws `points` in `view`, then each layer in its colour (colour by), then the selected ones
 * (mask 1) on top; returns how many of `points` landed inside the canvas. */
export function drawPoints(
  context: CanvasRenderingContext2D,
  points: Pick<MapPoints, "count" | "x" | "y">,
  view: View,
  mask: Uint8Array | null = null,
  layers: Layer[] = [],
): number {
  const image = context.createImageData(view.width | 0, view.height | 0);
  const pixels = new Uint32Array(image.data.buffer);
  const r = pointRadius(points.count);
  const drawn = plot(pixels, view, points, mask || layers.length ? COLOURS.dimmed : COLOURS.point, r);
  for (const layer of layers) plot(pixels, view, layer.points, layer.colour, r);
  if (mask) plot(pixels, view, points, COLOURS.selected, r, mask);
  context.putImageData(image, 0, 0);
  return drawn;
}

function plot(
  pixels: Uint32Array,
  view: View,
  points: Pick<MapPoints, "count" | "x" | "y">,
  colour: number,
  r: number,
  only: Uint8Array | null = null,
): number {
  const width = view.width | 0;
  const height = view.height | 0;
  const halfW = view.width / 2, halfH = view.height / 2, scale = view.scale; // prettier-ignore
  let drawn = 0;
  for (let n = 0; n < points.count; n++) {
    if (only && only[n] !== 1) continue;
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
  return drawn;
}
