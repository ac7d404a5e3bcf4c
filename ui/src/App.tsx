import { QueryCache, QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { makeApi, unwrap, type ApiOptions } from "./api/client";
import { ApiProvider, useApi } from "./api/context";
import { ApiError } from "./api/errors";
import { forgetKey, storedKey, storeKey } from "./auth/session";
import { SignIn } from "./auth/SignIn";
import { FilesScreen } from "./files/FilesScreen";
import { FiltersScreen } from "./index/FiltersScreen";
import { SetupScreen } from "./setup/SetupScreen";
import { JobPage } from "./jobs/JobPage";
import { JobsBell } from "./jobs/JobsBell";
import { MapScreen } from "./map/MapScreen";
import { DuplicatesScreen } from "./similar/DuplicatesScreen";
import { linkProps, parseRoute, usePathname, type Route } from "./router";

export function App({ apiOptions }: { apiOptions?: ApiOptions }) {
  const [apiKey, setApiKey] = useState<string | null>(storedKey);
  const [refused, setRefused] = useState<unknown>(null);
  const signOut = (reason: unknown = null) => {
    forgetKey();
    setApiKey(null);
    setRefused(reason);
  };
  const queries = useMemo(
    () =>
      new QueryClient({
        // a key revoked while signed in: back to the sign-in screen, saying why
        queryCache: new QueryCache({
          onError: (error) => error instanceof ApiError && error.status === 401 && signOut(error),
        }),
        defaultOptions: {
          queries: {
            staleTime: 10_000,
            // a refused key or a missing row does not get better by asking again
            retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
          },
        },
      }),
    [apiKey],
  );
  const api = useMemo(() => (apiKey ? makeApi(apiKey, apiOptions) : null), [apiKey, apiOptions]);
  const route = parseRoute(usePathname());

  if (!api) {
    return (
      <SignIn
        apiOptions={apiOptions}
        initialError={refused}
        onSignedIn={(key) => {
          storeKey(key);
          setRefused(null);
          setApiKey(key);
        }}
      />
    );
  }
  return (
    <QueryClientProvider client={queries}>
      <ApiProvider api={api}>
        <div className="app">
          <header className="topbar">
            <span className="brand">bucketdex</span>
            <nav aria-label="Screens">
              <a {...linkProps("/")} aria-current={route.screen === "files" ? "page" : undefined}>
                Files
              </a>
              <a {...linkProps("/filters")} aria-current={route.screen === "filters" ? "page" : undefined}>
                Filters
              </a>
              <a {...linkProps("/map")} aria-current={route.screen === "map" ? "page" : undefined}>
                Map
              </a>
              <a {...linkProps("/duplicates")} aria-current={route.screen === "duplicates" ? "page" : undefined}>
                Duplicates
              </a>
              <a {...linkProps("/setup")} aria-current={route.screen === "setup" ? "page" : undefined}>
                Schema and integrations
              </a>
            </nav>
            <Who />
            <JobsBell />
            <button type="button" onClick={() => signOut()}>
              Sign out
            </button>
          </header>
          <Screen route={route} />
        </div>
      </ApiProvider>
    </QueryClientProvider>
  );
}

function Screen({ route }: { route: Route }) {
  if (route.screen === "job") return <JobPage key={route.jobId} jobId={route.jobId} />;
  if (route.screen === "filters") return <FiltersScreen key={route.folderId} folderId={route.folderId} />;
  if (route.screen === "setup") return <SetupScreen />;
  if (route.screen === "map") return <MapScreen />;
  if (route.screen === "duplicates") return <DuplicatesScreen />;
  return <FilesScreen folderId={route.folderId} itemId={route.itemId} />;
}

/** Who is signed in (GET /api/v1/me). */
function Who() {
  const api = useApi();
  const me = useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/api/v1/me")), staleTime: Infinity });
  return <span className="who">{me.data ? `${me.data.user_name} (${me.data.role})` : ""}</span>;
}
