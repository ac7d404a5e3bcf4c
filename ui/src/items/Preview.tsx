import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";

import type { Api, Item } from "../api/client";
import { useApi } from "../api/context";
import { ApiError, describeError } from "../api/errors";
import { typeBadge } from "../files/itemTypes";
import { previewKind } from "./facts";

/** How much of a text file the viewer reads (a Range request; the rest stays in the bucket). */
export const TEXT_PREVIEW_BYTES = 256 * 1024;

/** What the server draws of each type a browser cannot show (GET /items/{id}/preview.png). */
export const SCAN_PREVIEWS: Record<string, string> = {
  dicom_file: "The first frame, windowed as the file says.",
  dicom_series: "The middle file of the series, windowed as it says.",
  nifti: "The middle axial slice (anterior at the top, the patient's right on the left).",
};

/** The file through its signed URL: image, video, audio, a PDF (fetched and shown as a PDF
 * whatever the bucket says it is), the start of a text file; DICOM files and series and NIfTI
 * volumes as the PNG the server draws of them. */
export function Preview({ item, url }: { item: Item; url: string | null | undefined }) {
  const kind = previewKind(item.item_type);
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [url]);
  if (item.item_type in SCAN_PREVIEWS) return <ScanPreview item={item} url={url} />;
  if (kind === "children") return null; // a group's images are its files, below
  if (url === undefined) return <p className="empty">Signing the file's URL…</p>;
  if (url === null) return <p className="empty">This item has no file URL to preview (it is not in a bucket the catalog can sign).</p>;
  const open = (
    <a href={url} target="_blank" rel="noopener noreferrer" className="open-file">
      Open the file
    </a>
  );
  const broken = failed ? (
    <p className="error" role="alert">
      The file could not be loaded from its signed URL (it may have moved, or the bucket refuses this origin). {open}
    </p>
  ) : null;
  switch (kind) {
    case "image":
      return (
        <figure className="preview">
          <img className="preview-image" src={url} alt={`Preview of ${item.name}`} onError={() => setFailed(true)} />
          {broken}
        </figure>
      );
    case "video":
      return (
        <figure className="preview">
          <video className="preview-media" src={url} controls preload="metadata" aria-label={`Video ${item.name}`} onError={() => setFailed(true)} />
          {broken}
        </figure>
      );
    case "audio":
      return (
        <figure className="preview">
          <audio src={url} controls preload="metadata" aria-label={`Audio ${item.name}`} onError={() => setFailed(true)} />
          {broken}
        </figure>
      );
    case "pdf":
      return <PdfPreview item={item} url={url} open={open} />;
    case "text":
      return <TextPreview item={item} url={url} open={open} />;
    default:
      return (
        <p className="note">
          The web UI has no viewer for {typeBadge(item.item_type).label}s yet: its media facts are listed here. {open}
        </p>
      );
  }
}

function PdfPreview({ item, url, open }: { item: Item; url: string; open: ReactNode }) {
  const pdf = useQuery({
    queryKey: ["file-pdf", url],
    staleTime: Infinity,
    gcTime: 0, // the object URL is revoked when the viewer closes
    retry: false,
    queryFn: async () => {
      const answer = await fetch(url, { credentials: "omit", referrerPolicy: "no-referrer" });
      if (!answer.ok) throw new Error(`the file's URL answered ${answer.status} ${answer.statusText}`.trim());
      // typed as a PDF here: a file that is something else is never run as a page of this origin
      return URL.createObjectURL(new Blob([await answer.arrayBuffer()], { type: "application/pdf" }));
    },
  });
  useEffect(() => () => void (pdf.data && URL.revokeObjectURL(pdf.data)), [pdf.data]);
  if (pdf.error) return <FetchFailed error={pdf.error} open={open} />;
  if (!pdf.data) return <p className="empty">Loading the PDF…</p>;
  return <iframe className="preview-pdf" src={pdf.data} title={`PDF ${item.name}`} />;
}

function TextPreview({ item, url, open }: { item: Item; url: string; open: ReactNode }) {
  const text = useQuery({
    queryKey: ["file-text", url],
    staleTime: Infinity,
    retry: false,
    queryFn: () => readTextStart(url, TEXT_PREVIEW_BYTES),
  });
  if (text.error) return <FetchFailed error={text.error} open={open} />;
  if (!text.data) return <p className="empty">Loading the text…</p>;
  return (
    <figure className="preview">
      <pre className="preview-text" tabIndex={0} aria-label={`Text of ${item.name}`}>
        {text.data.text}
      </pre>
      {text.data.truncated ? (
        <figcaption className="hint">
          The first {TEXT_PREVIEW_BYTES / 1024} KB are shown. {open}
        </figcaption>
      ) : null}
    </figure>
  );
}

/** A DICOM file or series or a NIfTI volume: the server's PNG of it.  The route needs the API
 * key, which an <img src> cannot send, so it is fetched and shown from an object URL. */
function ScanPreview({ item, url }: { item: Item; url: string | null | undefined }) {
  const api = useApi();
  const [broken, setBroken] = useState(false);
  const png = useQuery({
    queryKey: ["item-preview", item.id],
    staleTime: Infinity,
    gcTime: 0, // the object URL is revoked when the viewer closes
    retry: false,
    queryFn: () => fetchPreview(api, item.id),
  });
  useEffect(() => () => void (png.data && URL.revokeObjectURL(png.data)), [png.data]);
  const open = url ? (
    <a href={url} target="_blank" rel="noopener noreferrer" className="open-file">
      Open the file
    </a>
  ) : null;
  if (png.error || broken) {
    const reason = broken ? "the browser could not show the server's PNG" : describeError(png.error);
    return (
      <p className="error" role="alert">
        No preview of this {typeBadge(item.item_type).label}: {reason}. Its media facts are listed here. {open}
      </p>
    );
  }
  if (!png.data) return <p className="empty">Drawing the preview…</p>;
  return (
    <figure className="preview">
      <img className="preview-image preview-scan" src={png.data} alt={`Preview of ${item.name}`} onError={() => setBroken(true)} />
      <figcaption className="hint">
        {SCAN_PREVIEWS[item.item_type]} {open}
      </figcaption>
    </figure>
  );
}

/** The server's PNG of an item (GET /items/{id}/preview.png, with the API key) as an object URL;
 * an ApiError with the API's message (why there is no picture) otherwise. */
export async function fetchPreview(api: Api, itemId: string): Promise<string> {
  const { data, error, response } = await api.GET("/api/v1/items/{item_id}/preview.png", {
    params: { path: { item_id: itemId } },
    parseAs: "arrayBuffer",
  });
  if (!response.ok || !data) throw ApiError.fromBody(response.status, error, response.statusText);
  // typed as a PNG here, whatever the answer says: only a picture is made of it
  return URL.createObjectURL(new Blob([data], { type: "image/png" }));
}

function FetchFailed({ error, open }: { error: unknown; open: ReactNode }) {
  const reason = error instanceof TypeError ? "the request was refused (a bucket must allow this origin: CORS)" : String((error as Error).message ?? error);
  return (
    <p className="error" role="alert">
      The file could not be read from its signed URL: {reason}. {open}
    </p>
  );
}

/** The first `limit` bytes of the file as UTF-8 text (a Range request; a server that ignores it
 * is read only that far). */
export async function readTextStart(url: string, limit: number): Promise<{ text: string; truncated: boolean }> {
  const answer = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` }, credentials: "omit", referrerPolicy: "no-referrer" });
  if (!answer.ok) throw new Error(`the file's URL answered ${answer.status} ${answer.statusText}`.trim());
  const whole = Number(/\/(\d+)$/.exec(answer.headers.get("Content-Range") ?? "")?.[1] ?? NaN);
  const chunks: Uint8Array[] = [];
  let read = 0;
  const reader = answer.body?.getReader();
  if (reader) {
    while (read < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.byteLength;
    }
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(read, limit));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.max(0, bytes.length - at));
    bytes.set(part, at);
    at += part.byteLength;
  }
  const truncated = read > limit || (Number.isFinite(whole) && whole > bytes.length) || (!Number.isFinite(whole) && read >= limit);
  return { text: new TextDecoder("utf-8").decode(bytes, { stream: truncated }), truncated };
}
