import { useEffect, useLayoutEffect, useRef, useState, type PointerEvent, type WheelEvent } from "react";

import { HoverCard } from "./HoverCard";
import { boundsOf, fitView, idAt, nearestPoint, panBy, toMap, zoomAt, type MapPoints, type Shape, type View } from "./points";
import { drawPoints, type Layer } from "./render";

export type Tool = "pan" | "rect" | "lasso";
const HEIGHT = 560;
const LASSO_STEP = 3; // screen pixels between a lasso's vertices

/** The points on a <canvas> (one ImageData a frame), pan by dragging and zoom with the wheel;
 * with the rectangle or lasso tool a drag draws a shape, given back in map coordinates. */
export function MapCanvas({ points, mask, layers, tool, onShape }: {
  points: MapPoints;
  mask: Uint8Array | null;
  layers: Layer[];
  tool: Tool;
  onShape: (shape: Shape) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(800);
  const [view, setView] = useState<View | null>(null);
  const [trail, setTrail] = useState<Array<[number, number]>>([]);
  const drag = useRef<{ x: number; y: number } | null>(null);
  const [stats, setStats] = useState({ drawn: 0, ms: 0, at: 0 });
  const [hover, setHover] = useState<{ id: string; x: number; y: number } | null>(null);
  const hoverFrame = useRef(0);

  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(320, Math.floor(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  // a new set of points (another filter, the refined layout) is shown whole
  useEffect(() => setView(fitView(boundsOf(points), width, HEIGHT)), [points, width]);

  useEffect(() => {
    const context = canvas.current?.getContext("2d");
    if (!context || !view) return;
    const started = performance.now();
    const drawn = drawPoints(context, points, view, mask, layers);
    const at = performance.now();
    setStats({ drawn, ms: at - started, at });
  }, [points, view, mask, layers]);

  const at = (event: PointerEvent | WheelEvent): [number, number] => {
    const rect = canvas.current!.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const down = (event: PointerEvent<HTMLCanvasElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    const [x, y] = at(event);
    drag.current = { x, y };
    if (tool !== "pan") setTrail([[x, y]]);
  };
  const move = (event: PointerEvent<HTMLCanvasElement>) => {
    const start = drag.current;
    if (!view) return;
    const [x, y] = at(event);
    if (!start) return lookUp(view, x, y);
    setHover(null);
    if (tool === "pan") {
      setView(panBy(view, x - start.x, y - start.y));
      drag.current = { x, y };
    } else if (tool === "rect") {
      setTrail([[start.x, start.y], [x, y]]);
    } else {
      setTrail((current) => {
        const last = current[current.length - 1];
        return last && Math.hypot(last[0] - x, last[1] - y) < LASSO_STEP ? current : [...current, [x, y]];
      });
    }
  };
  const up = () => {
    const start = drag.current;
    drag.current = null;
    if (!start || !view || tool === "pan") return;
    const shape = shapeOf(view, tool, trail);
    setTrail([]);
    if (shape) onShape(shape);
  };
  // the point under a resting cursor, looked up once per animation frame
  const lookUp = (current: View, x: number, y: number) => {
    cancelAnimationFrame(hoverFrame.current);
    hoverFrame.current = requestAnimationFrame(() => {
      const found = nearestPoint(points, current, x, y);
      setHover(found < 0 ? null : { id: idAt(points, found), x, y });
    });
  };
  useEffect(() => () => cancelAnimationFrame(hoverFrame.current), []);
  const wheel = (event: WheelEvent<HTMLCanvasElement>) => {
    if (!view) return;
    const [x, y] = at(event);
    setView(zoomAt(view, x, y, Math.exp(-event.deltaY * 0.002)));
  };

  return (
    <div className="map-canvas" ref={box}>
      <canvas
        ref={canvas}
        width={width}
        height={HEIGHT}
        className={`tool-${tool}`}
        aria-label={`Map of ${points.count} points`}
        data-testid="map-canvas"
        data-drawn-points={stats.drawn}
        data-draw-ms={stats.ms.toFixed(1)}
        data-drawn-at={stats.at.toFixed(1)}
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={() => ((drag.current = null), setTrail([]))}
        onPointerLeave={() => (cancelAnimationFrame(hoverFrame.current), setHover(null))}
        onWheel={wheel}
      />
      <svg className="map-overlay" width={width} height={HEIGHT} aria-hidden="true">
        {trail.length > 1 ? <path d={outline(tool, trail)} /> : null}
      </svg>
      {hover ? <HoverCard key={hover.id} itemId={hover.id} x={hover.x} y={hover.y} /> : null}
      <div className="map-tools">
        <button type="button" onClick={() => setView(fitView(boundsOf(points), width, HEIGHT))}>
          Fit
        </button>
        <button type="button" aria-label="Zoom in" onClick={() => view && setView(zoomAt(view, width / 2, HEIGHT / 2, 1.5))}>
          +
        </button>
        <button type="button" aria-label="Zoom out" onClick={() => view && setView(zoomAt(view, width / 2, HEIGHT / 2, 1 / 1.5))}>
          −
        </button>
        <span className="hint">
          {stats.drawn} of {points.count} points in view · drawn in {stats.ms.toFixed(0)} ms
        </span>
      </div>
    </div>
  );
}

/** The drag as the select route's shape (null: too small to mean anything). */
function shapeOf(view: View, tool: Tool, trail: Array<[number, number]>): Shape | null {
  if (tool === "rect") {
    const [a, b] = [trail[0], trail[trail.length - 1]];
    if (!a || !b || Math.abs(a[0] - b[0]) < 2 || Math.abs(a[1] - b[1]) < 2) return null;
    const [x0, y0] = toMap(view, a[0], a[1]);
    const [x1, y1] = toMap(view, b[0], b[1]);
    return { rect: [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)] };
  }
  if (trail.length < 3) return null;
  return { polygon: trail.map(([x, y]) => toMap(view, x, y)) };
}

function outline(tool: Tool, trail: Array<[number, number]>): string {
  if (tool === "rect") {
    const [[x0, y0], [x1, y1]] = [trail[0]!, trail[trail.length - 1]!];
    return `M${x0},${y0} L${x1},${y0} L${x1},${y1} L${x0},${y1} Z`;
  }
  return `M${trail.map(([x, y]) => `${x},${y}`).join(" L")} Z`;
}
