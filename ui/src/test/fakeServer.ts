/** A stand-in for the REST API in unit tests: each handler answers one "METHOD /path" and
 * every request is recorded, so a test can check what the UI sent. */
export type Handler = (request: Request, url: URL) => Response | Promise<Response>;

export const BASE_URL = "http://bucketdex.test";

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function fakeServer(handlers: Record<string, Handler>) {
  const requests: Request[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    requests.push(request.clone());
    const url = new URL(request.url);
    const handler = handlers[`${request.method} ${url.pathname}`];
    if (!handler) return json({ code: "not_found", message: `no route ${request.method} ${url.pathname}` }, 404);
    return handler(request, url);
  };
  return { fetch, requests, options: { baseUrl: BASE_URL, fetch } };
}
