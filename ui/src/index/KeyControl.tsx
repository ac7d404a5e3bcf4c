import type { components } from "../api/schema";
import { ErrorMessage } from "../components/ErrorMessage";
import { emptyControl, type Control, type FilterKey, type FilterNode } from "./filter";
import { useFacets, type Scope } from "./queries";

type Bucket = components["schemas"]["FacetBucket"];

/** One key's control: ticks with facet counts (enum, boolean), a range with the facet
 * histogram (number, datetime), equality or prefix (varchar, uuid), contains (text). `others`
 * is the filter of the other keys, under which the counts are taken. */
export function KeyControl({ filterKey, control, onChange, others, scope }: {
  filterKey: FilterKey;
  control: Control | undefined;
  onChange: (control: Control) => void;
  others: FilterNode | null;
  scope: Scope;
}) {
  const current = control ?? emptyControl(filterKey.type);
  const counted = current?.kind === "values" || current?.kind === "range";
  const facets = useFacets(filterKey.key, others, scope, counted);
  if (!current) return null;
  const name = filterKey.label ? `${filterKey.label} (${filterKey.key})` : filterKey.key;
  return (
    <fieldset className="key-control">
      <legend>
        {name} <span className="key-type">{filterKey.type}</span>
      </legend>
      {current.kind === "values" ? (
        <Ticks filterKey={filterKey} ticked={current.values} buckets={facets.data?.buckets ?? []} onChange={onChange} />
      ) : null}
      {current.kind === "range" ? (
        <Range filterKey={filterKey} control={current} buckets={facets.data?.buckets ?? []} onChange={onChange} />
      ) : null}
      <ErrorMessage error={facets.error} context="Counts" />
      {current.kind === "match" ? (
        <div className="control-row">
          <select aria-label={`${filterKey.key} comparison`} value={current.op} onChange={(event) => onChange({ ...current, op: event.target.value as "=" | "prefix" })}>
            <option value="=">equals</option>
            {filterKey.type === "uuid" ? null : <option value="prefix">starts with</option>}
          </select>
          <input aria-label={`${filterKey.key} value`} value={current.text} onChange={(event) => onChange({ ...current, text: event.target.value })} />
        </div>
      ) : null}
      {current.kind === "contains" ? (
        <input aria-label={`${filterKey.key} contains`} placeholder="contains…" value={current.text} onChange={(event) => onChange({ ...current, text: event.target.value })} />
      ) : null}
    </fieldset>
  );
}

function Ticks({ filterKey, ticked, buckets, onChange }: {
  filterKey: FilterKey;
  ticked: Array<string | boolean>;
  buckets: Bucket[];
  onChange: (control: Control) => void;
}) {
  const counts = new Map(buckets.map((bucket) => [String(bucket.value), bucket.count]));
  const options: Array<string | boolean> =
    filterKey.type === "boolean" ? [true, false] : filterKey.values ?? buckets.map((bucket) => String(bucket.value));
  const toggle = (value: string | boolean, on: boolean) =>
    onChange({ kind: "values", values: on ? [...ticked, value] : ticked.filter((other) => other !== value) });
  return (
    <ul className="ticks">
      {options.map((value) => (
        <li key={String(value)}>
          <label>
            <input type="checkbox" checked={ticked.includes(value)} onChange={(event) => toggle(value, event.target.checked)} /> {String(value)}{" "}
            <span className="facet-count">{counts.get(String(value)) ?? 0}</span>
          </label>
        </li>
      ))}
    </ul>
  );
}

function Range({ filterKey, control, buckets, onChange }: {
  filterKey: FilterKey;
  control: Extract<Control, { kind: "range" }>;
  buckets: Bucket[];
  onChange: (control: Control) => void;
}) {
  const most = Math.max(1, ...buckets.map((bucket) => bucket.count));
  const placeholder = filterKey.type === "datetime" ? "2024-05-01T00:00:00Z" : "";
  return (
    <>
      <div className="control-row">
        <label>
          from <input aria-label={`${filterKey.key} from`} placeholder={placeholder} value={control.low} onChange={(event) => onChange({ ...control, low: event.target.value })} />
        </label>
        <label>
          to <input aria-label={`${filterKey.key} to`} placeholder={placeholder} value={control.high} onChange={(event) => onChange({ ...control, high: event.target.value })} />
        </label>
      </div>
      {buckets.length > 0 ? (
        <ol className="histogram" aria-label={`${filterKey.key} histogram`}>
          {buckets.map((bucket) => (
            <li key={`${bucket.low}-${bucket.high}`} title={`${bucket.low} – ${bucket.high}: ${bucket.count}`}>
              <span className="bar" style={{ width: `${(100 * bucket.count) / most}%` }} />
              <span className="bucket-label">
                {bucket.low} – {bucket.high}: {bucket.count}
              </span>
            </li>
          ))}
        </ol>
      ) : null}
    </>
  );
}
