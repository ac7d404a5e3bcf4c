// The API key lives in sessionStorage: it is gone when the tab closes and never reaches a cookie,
// so the server's API only ever sees it as the Authorization header.
const KEY = "bucketdex.apiKey";

export function storedKey(): string | null {
  try {
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
