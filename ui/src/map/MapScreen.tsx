import { useMemo, useState } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import type { SchemaKey } from "../index/filter";
import { useSchemaKeys } from "../index/queries";
import { pointsInShape, type Shape } from "./points";
import { MapCanvas, type Tool } from "./MapCanvas";
import { narrowed, storedLayout, useColourLayers, useMapJob, useMapPoints, useStartMap, type MapFilter } from "./queries";
import { cssColour, PALETTE, type Layer } from "./render";
import { SelectionPanel } from "./SelectionPanel";

/** The embedding map (/map): an embedding key's 2-D layout (the PCA preview, then the refined
 * one), the points of the items a filter selects, pan and zoom, a rectangle or lasso that the
 * API turns into items. */
export function MapScreen() {
  const schema = useSchemaKeys();
  const keys = useMemo(() => (schema.data ?? []).filter((k) => !k.deleted && k.type === "embedding").map((k) => k.key), [schema.data]);
  const [chosen, setChosen] = useState("");
  const key = chosen || keys[0] || "";
  const [whereText, setWhereText] = useState("");
  const [filter, setFilter] = useState<MapFilter>({ where: "", folderId: null });
  const [tool, setTool] = useState<Tool>("lasso");
  const [shape, setShape] = useState<Shape | null>(null);
  const [colourBy, setColourBy] = useState("");
  const colourKeys = useMemo(() => (schema.data ?? []).filter((k) => !k.deleted && (k.type === "enum" || k.type === "boolean")), [schema.data]);
  const colourKey = colourKeys.find((k) => k.key === colourBy) ?? null;

  return (
    <div className="filters map-screen">
      <aside className="sidebar" aria-label="Map controls">
        <ErrorMessage error={schema.error} context="The metadata schema could not be read" />
        <label className="key-control">
          Embedding key{" "}
          <select aria-label="Embedding key" value={key} onChange={(event) => (setChosen(event.target.value), setShape(null))}>
            {keys.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {schema.data && keys.length === 0 ? <p className="empty">The metadata schema has no embedding key.</p> : null}
        <form
          className="key-control"
          onSubmit={(event) => {
            event.preventDefault();
            setFilter({ ...filter, where: whereText });
            setShape(null);
          }}
        >
          <label htmlFor="map-where">Filter (a JSON tree or --where text; empty: every item)</label>
          <textarea id="map-where" rows={4} value={whereText} onChange={(event) => setWhereText(event.target.value)} placeholder='{"key": "weather", "op": "=", "value": "rainy"}' />
          <button type="submit">Apply filter</button>
        </form>
        <label className="key-control">
          Colour by{" "}
          <select aria-label="Colour by" value={colourBy} onChange={(event) => setColourBy(event.target.value)}>
            <option value="">(one colour)</option>
            {colourKeys.map((k) => (
              <option key={k.key} value={k.key}>
                {k.key}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="key-control">
          <legend>Selection tool</legend>
          {(["lasso", "rect", "pan"] as const).map((name) => (
            <label key={name}>
              <input type="radio" name="map-tool" checked={tool === name} onChange={() => setTool(name)} />{" "}
              {name === "lasso" ? "Lasso" : name === "rect" ? "Rectangle" : "Pan"}
            </label>
          ))}
          <p className="hint">Drag to draw (or to pan); the wheel zooms.</p>
        </fieldset>
      </aside>
      <main className="content filters-main">
        {key ? <KeyMap key={key} mapKey={key} filter={filter} colourKey={colourKey} tool={tool} shape={shape} onShape={setShape} /> : null}
      </main>
    </div>
  );
}

function KeyMap({ mapKey, filter, colourKey, tool, shape, onShape }: {
  mapKey: string;
  filter: MapFilter;
  colourKey: SchemaKey | null;
  tool: Tool;
  shape: Shape | null;
  onShape: (shape: Shape | null) => void;
}) {
  const job = useMapJob(mapKey);
  const start = useStartMap(mapKey);
  const layout = storedLayout(job.data);
  const points = useMapPoints(mapKey, filter, layout);
  const mask = useMemo(() => (points.data && shape ? pointsInShape(points.data, shape) : null), [points.data, shape]);
  const running = job.data?.status === "PENDING";
  const values: unknown[] = colourKey ? (colourKey.type === "boolean" ? [true, false] : colourKey.values ?? []) : [];
  const coloured = useColourLayers(mapKey, filter, colourKey?.key ?? "", values, layout);
  const loaded = coloured.map((query) => query.dataUpdatedAt).join(); // a new array each render: redraw on new data only
  const layers = useMemo<Layer[]>(
    () => coloured.flatMap((query, n) => (query.data ? [{ points: query.data, colour: PALETTE[n % PALETTE.length]! }] : [])),
    [loaded, colourKey],
  );
  return (
    <>
      <header className="items-header">
        <h2>Map of {mapKey}</h2>
        <span className="count" aria-live="polite" data-testid="map-status">
          {jobLine(job.data, job.isPending)}
          {points.data ? ` · ${points.data.count} points (${points.data.stage ?? "no layout"})` : ""}
        </span>
        <button type="button" onClick={() => start.mutate()} disabled={running || start.isPending}>
          {job.data ? "Compute again" : "Compute map"}
        </button>
      </header>
      <ErrorMessage error={job.error ?? start.error} context="The map job" />
      {job.data?.error ? <p className="error" role="alert">The map job failed: {job.data.error}</p> : null}
      <ErrorMessage error={points.error} context="The map's points could not be read" />
      {colourKey ? <Legend colourKey={colourKey} values={values} counts={coloured.map((query) => query.data?.count)} textFilter={narrowed(filter, colourKey.key, null) === null} /> : null}
      <div className="map-body">
        {points.data ? (
          <MapCanvas points={points.data} mask={mask} layers={layers} tool={tool} onShape={onShape} />
        ) : layout ? (
          <p className="empty">Loading the points…</p>
        ) : null}
        {shape ? (
          <SelectionPanel key={JSON.stringify(shape)} mapKey={mapKey} filter={filter} shape={shape} drawn={mask} onClear={() => onShape(null)} />
        ) : (
          <section className="map-selection" aria-label="Selection">
            <p className="hint">Draw a lasso or a rectangle on the map: the items inside are listed here.</p>
          </section>
        )}
      </div>
    </>
  );
}

function Legend({ colourKey, values, counts, textFilter }: { colourKey: SchemaKey; values: unknown[]; counts: Array<number | undefined>; textFilter: boolean }) {
  if (textFilter) return <p className="hint">Colour by needs the filter as a JSON tree (or none).</p>;
  return (
    <ul className="map-legend" aria-label={`Colours of ${colourKey.key}`}>
      {values.slice(0, PALETTE.length).map((value, n) => (
        <li key={String(value)}>
          <span className="swatch" style={{ background: cssColour(PALETTE[n]!) }} /> {String(value)} <span className="hint">{counts[n] ?? "…"}</span>
        </li>
      ))}
      <li>
        <span className="swatch" style={{ background: "rgb(148, 163, 184)" }} /> other or none
      </li>
    </ul>
  );
}

function jobLine(job: ReturnType<typeof useMapJob>["data"], loading: boolean): string {
  if (loading) return "Reading the map job…";
  if (!job) return "No map yet: compute it.";
  if (job.status === "PENDING") {
    return job.stage === "pca" || job.stage === "refining" ? "Preview (PCA) shown; refining…" : `Computing (${job.stage})…`;
  }
  if (job.status === "DONE") return `Map computed ${new Date(job.updated_at).toLocaleString()}`;
  return `Map job ${job.status.toLowerCase()}`;
}
