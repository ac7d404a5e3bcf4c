import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";

import { makeApi } from "../api/client";
import { ApiProvider } from "../api/context";
import { BASE_URL } from "./fakeServer";

/** Render `children` signed in to a stand-in API (fakeServer's fetch), with a fresh query cache. */
export function renderWithApi(fetch: (request: Request) => Promise<Response>, children: ReactNode) {
  const api = makeApi("bdx_test", { baseUrl: BASE_URL, fetch });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={queries}>
      <ApiProvider api={api}>{children}</ApiProvider>
    </QueryClientProvider>,
  );
}
