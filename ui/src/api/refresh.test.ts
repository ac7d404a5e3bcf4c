import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { refreshQueries } from "./refresh";

/** A server whose answer to a read is the count when the read arrived, sent 20 ms later: a
 * read that arrived before a write answers what preceded it. */
function slowServer() {
  let stored = 0;
  return {
    write: (count: number) => {
      stored = count;
    },
    read: () => {
      const seen = stored;
      return new Promise<number>((resolve) => setTimeout(() => resolve(seen), 20));
    },
  };
}

async function watched(client: QueryClient, read: () => Promise<number>) {
  const observer = new QueryObserver(client, { queryKey: ["items"], queryFn: read });
  const stop = observer.subscribe(() => undefined);
  await Promise.resolve();
  return { observer, stop };
}

describe("refreshQueries", () => {
  it("refetches a query whose first read, still in flight, predates the write", async () => {
    const server = slowServer();
    const client = new QueryClient();
    const { observer, stop } = await watched(client, server.read); // first read: before the write
    server.write(120);
    await refreshQueries(client, ["items"]); // the first read (answering 0) is cancelled
    expect(observer.getCurrentResult().data).toBe(120);
    stop();
  });

  it("is needed: invalidating alone keeps the stale first read", async () => {
    const server = slowServer();
    const client = new QueryClient();
    const { observer, stop } = await watched(client, server.read);
    server.write(120);
    await client.invalidateQueries({ queryKey: ["items"] });
    expect(observer.getCurrentResult().data).toBe(0);
    stop();
  });
});
