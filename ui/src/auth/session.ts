// The API key lives in sessionStorage: it is gone when the tab closes and never reaches a cookie,
// so the server's API only ever sees it as the Authorization header.
const KEY = "bucketdex.apiKey";

// `bucketdex ui` prints a link to the app ending in "#key=<token>": the key is taken into
// sessionStorage at once and removed from the address (a fragment never reaches the server, and
// the history entry is replaced, so no copy of it stays there).
function keyFromAddress(): string | null {
  const given = /^#key=([^&]+)$/.exec(window.location.hash)?.[1];
  if (given === undefined) {
    return null;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return decodeURIComponent(given);
}

export function storedKey(): string | null {
  try {
    const given = keyFromAddress();
    if (given) {
      storeKey(given);
      return given;
    }
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeKey(apiKey: string): void {
  window.sessionStorage.setItem(KEY, apiKey);
}

export function forgetKey(): void {
  window.sessionStorage.removeItem(KEY);
}
