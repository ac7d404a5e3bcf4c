import { useState, type FormEvent } from "react";

import { makeApi, unwrap, type ApiOptions, type Caller } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";

interface Props {
  onSignedIn: (apiKey: string, caller: Caller) => void;
  apiOptions?: ApiOptions;
  initialError?: unknown;
}

/** Sign-in with an API key (`bucketdex key create`), checked against GET /api/v1/me. */
export function SignIn({ onSignedIn, apiOptions, initialError = null }: Props) {
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<unknown>(initialError);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const key = apiKey.trim();
    if (!key) {
      setError(new Error("enter an API key (bucketdex key create prints one)"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const caller = await unwrap(makeApi(key, apiOptions).GET("/api/v1/me"));
      onSignedIn(key, caller);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>bucketdex</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          autoFocus
          placeholder="bdx_..."
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <ErrorMessage error={error} context="Sign-in failed" />
        <p className="hint">
          An administrator creates keys with <code>bucketdex key create --user NAME</code>. The key is kept in this
          tab only (session storage).
        </p>
      </form>
    </main>
  );
}
