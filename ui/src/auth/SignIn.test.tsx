import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeServer, json } from "../test/fakeServer";
import { SignIn } from "./SignIn";

const ME = { user_id: "u1", user_name: "alice", org_id: "o1", role: "admin", method: "api_key" };

describe("SignIn", () => {
  it("sends the key as a bearer token and hands over the caller", async () => {
    const server = fakeServer({ "GET /api/v1/me": () => json(ME) });
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} apiOptions={server.options} />);
    await userEvent.type(screen.getByLabelText("API key"), "bdx_good");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(onSignedIn).toHaveBeenCalledWith("bdx_good", ME);
    expect(server.requests[0]!.headers.get("Authorization")).toBe("Bearer bdx_good");
  });

  it("shows the API's message for a wrong key", async () => {
    const server = fakeServer({
      "GET /api/v1/me": () => json({ code: "unauthenticated", message: "unknown API key; create one with: bucketdex key create" }, 401),
    });
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} apiOptions={server.options} />);
    await userEvent.type(screen.getByLabelText("API key"), "bdx_wrong{Enter}");
    expect((await screen.findByRole("alert")).textContent).toContain("unknown API key; create one with: bucketdex key create");
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("asks for a key before calling the API", async () => {
    const server = fakeServer({});
    render(<SignIn onSignedIn={vi.fn()} apiOptions={server.options} />);
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByRole("alert").textContent).toContain("enter an API key");
    expect(server.requests).toHaveLength(0);
  });
});
