import { useSyncExternalStore } from "react";

/** The screens the address names: a reload or a shared link opens the same one. */
export type Route =
  | { screen: "files"; folderId: string | null; itemId: string | null }
  | { screen: "job"; jobId: string }
  | { screen: "filters"; folderId: string | null }
  | { screen: "setup" }
  | { screen: "map" }
  | { screen: "duplicates" };

const ID = "([0-9a-f-]{36})";
const FILES = new RegExp(`^/files/${ID}(?:/items/${ID})?/?$`, "i");
const JOB = new RegExp(`^/jobs/${ID}/?$`, "i");
const FILTERS = new RegExp(`^/filters(?:/${ID})?/?$`, "i");

export function parseRoute(pathname: string): Route {
  const filters = FILTERS.exec(pathname);
  if (filters) return { screen: "filters", folderId: filters[1] ?? null };
  if (/^\/setup\/?$/.test(pathname)) return { screen: "setup" };
  if (/^\/map\/?$/.test(pathname)) return { screen: "map" };
  if (/^\/duplicates\/?$/.test(pathname)) return { screen: "duplicates" };
  const job = JOB.exec(pathname);
  if (job) return { screen: "job", jobId: job[1]! };
  const files = FILES.exec(pathname);
  return { screen: "files", folderId: files?.[1] ?? null, itemId: files?.[2] ?? null };
}

export function pathOf(route: Route): string {
  if (route.screen === "job") return `/jobs/${route.jobId}`;
  if (route.screen === "filters") return route.folderId ? `/filters/${route.folderId}` : "/filters";
  if (route.screen === "setup") return "/setup";
  if (route.screen === "map") return "/map";
  if (route.screen === "duplicates") return "/duplicates";
  if (!route.folderId) return "/";
  return route.itemId ? `/files/${route.folderId}/items/${route.itemId}` : `/files/${route.folderId}`;
}

export const paths = {
  folder: (folderId: string) => `/files/${folderId}`,
  item: (folderId: string, itemId: string) => `/files/${folderId}/items/${itemId}`,
  job: (jobId: string) => `/jobs/${jobId}`,
  filters: (folderId: string | null = null) => (folderId ? `/filters/${folderId}` : "/filters"),
};

const CHANGE = "bucketdex:navigate";

/** Go to `path` (a new history entry; `replace` rewrites the current one). */
export function navigate(path: string, { replace = false } = {}): void {
  if (window.location.pathname !== path) {
    if (replace) window.history.replaceState(null, "", path);
    else window.history.pushState(null, "", path);
  }
  window.dispatchEvent(new Event(CHANGE));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

/** The current address's path, following navigate() and the browser's back/forward. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** A link that navigates inside the app (a plain link for a middle click or a new tab). */
export function linkProps(path: string) {
  return {
    href: path,
    onClick: (event: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; preventDefault: () => void }) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(path);
    },
  };
}
