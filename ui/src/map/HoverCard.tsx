import { typeBadge } from "../files/itemTypes";
import { useItem, useSignedUrls } from "../items/queries";

/** The item under the cursor on the map: its name, type and (an image's) thumbnail. */
export function HoverCard({ itemId, x, y }: { itemId: string; x: number; y: number }) {
  const item = useItem(itemId);
  const image = item.data?.item_type === "image";
  const signed = useSignedUrls([itemId], image);
  const url = signed.data?.[itemId];
  return (
    <div className="map-hover" style={{ left: x + 14, top: y + 14 }} role="status" aria-label="Point under the cursor">
      {url ? <img src={url} alt="" className="child-thumb" /> : null}
      {item.data ? (
        <>
          <span className={`type-badge type-${item.data.item_type}`}>{typeBadge(item.data.item_type).badge}</span>{" "}
          <span className="item-name">{item.data.name}</span>
        </>
      ) : (
        <span className="hint">{item.error ? "not readable" : "…"}</span>
      )}
    </div>
  );
}
