import type { Item, ItemSummary } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { Modal } from "../components/Modal";
import { typeBadge } from "../files/itemTypes";
import { linkProps, paths } from "../router";
import { SimilarPanel } from "../similar/SimilarPanel";
import { factRows, hasChildren, metadataValue } from "./facts";
import { Preview } from "./Preview";
import { SHOWN_CHILDREN, useItem, useItemChildren, useItemSummary, useSignedUrls } from "./queries";

/** The item viewer (/files/<folder>/items/<item>): the file's preview through its signed URL,
 * media facts, client metadata, the files of a group or series, the datasets it is in. */
export function ItemViewer({ itemId, onClose }: { itemId: string; onClose: () => void }) {
  const item = useItem(itemId);
  const title = item.data ? item.data.name : "Item";
  return (
    <Modal title={title} onClose={onClose} className="item-viewer">
      <ErrorMessage error={item.error} context="This item could not be opened" />
      {item.isPending ? <p className="empty">Loading the item…</p> : null}
      {item.data ? <ItemDetails key={item.data.id} item={item.data} /> : null}
    </Modal>
  );
}

function ItemDetails({ item }: { item: Item }) {
  const signed = useSignedUrls([item.id], !hasChildren(item.item_type));
  const summary = useItemSummary(item.id);
  const url = signed.error ? null : signed.data ? signed.data[item.id] ?? null : undefined;
  const facts = factRows(item);
  const metadata = Object.entries(item.client_metadata);
  return (
    <div className="viewer-body">
      <div className="viewer-preview">
        <ErrorMessage error={signed.error} context="The file's URL could not be signed" />
        <Preview item={item} url={url} />
        {hasChildren(item.item_type) ? <Children item={item} /> : null}
      </div>
      <div className="viewer-side">
        <section aria-label="Media facts">
          <h3>Media facts</h3>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{typeBadge(item.item_type).label}</dd>
            {facts.map(([label, value]) => (
              <Fact key={label} label={label} value={value} />
            ))}
            {item.url ? <Fact label="URL" value={item.url} /> : null}
            <Fact label="Registered" value={new Date(item.created_at).toLocaleString()} />
          </dl>
          {item.description ? <p className="description">{item.description}</p> : null}
        </section>
        <section aria-label="Client metadata">
          <h3>Client metadata</h3>
          {metadata.length === 0 ? (
            <p className="empty">None.</p>
          ) : (
            <dl className="facts metadata">
              {metadata.map(([key, value]) => (
                <Fact key={key} label={key} value={metadataValue(value)} />
              ))}
            </dl>
          )}
        </section>
        <Belongs summary={summary.data} />
        <ErrorMessage error={summary.error} context="Where the item belongs could not be read" />
        <SimilarPanel item={item} />
      </div>
    </div>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

function Belongs({ summary }: { summary: ItemSummary | undefined }) {
  if (!summary) return null;
  return (
    <section aria-label="Datasets">
      {summary.parent ? (
        <p>
          A file of{" "}
          <a {...linkProps(paths.item(summary.parent.folder_id, summary.parent.id))}>{summary.parent.name}</a> (
          {typeBadge(summary.parent.item_type).label})
        </p>
      ) : null}
      <h3>Datasets</h3>
      {summary.datasets.length === 0 ? (
        <p className="empty">In no dataset.</p>
      ) : (
        <ul className="datasets">
          {summary.datasets.map((dataset) => (
            <li key={dataset.id}>
              {dataset.title}{" "}
              <span className="hint">
                ({(summary.data_row_ids[dataset.id] ?? []).length} data row{(summary.data_row_ids[dataset.id] ?? []).length === 1 ? "" : "s"})
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The files of a group, sequence or series, in order, each opening in the viewer. */
function Children({ item }: { item: Item }) {
  const children = useItemChildren(item.id, true);
  const shown = (children.data ?? []).slice(0, SHOWN_CHILDREN);
  const images = shown.filter((child) => child.item_type === "image").map((child) => child.id);
  const thumbnails = useSignedUrls(images);
  return (
    <section className="children" aria-label="Files of this item">
      <h3>Files ({children.data ? children.data.length : "…"})</h3>
      <ErrorMessage error={children.error} context="Its files could not be listed" />
      <ol className="child-grid">
        {shown.map((child) => {
          const thumb = thumbnails.data?.[child.id];
          return (
            <li key={child.id}>
              <a {...linkProps(paths.item(child.folder_id, child.id))} className="child">
                {thumb ? (
                  <img src={thumb} alt="" className="child-thumb" />
                ) : (
                  <span className={`type-badge type-${child.item_type}`}>{typeBadge(child.item_type).badge}</span>
                )}
                <span className="child-name">
                  {child.position !== null ? `${child.position}. ` : ""}
                  {child.name}
                </span>
              </a>
            </li>
          );
        })}
      </ol>
      {children.data && children.data.length > SHOWN_CHILDREN ? (
        <p className="hint">The first {SHOWN_CHILDREN} of {children.data.length} are shown.</p>
      ) : null}
    </section>
  );
}
