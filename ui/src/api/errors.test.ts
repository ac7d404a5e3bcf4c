import { describe, expect, it } from "vitest";

import { ApiError, describeError } from "./errors";

describe("ApiError.fromBody", () => {
  it("keeps the API's message and code", () => {
    const error = ApiError.fromBody(409, { code: "already_exists", error: "already_exists", message: "a folder named 'Night' already exists" });
    expect(error.message).toBe("a folder named 'Night' already exists");
    expect(error.code).toBe("already_exists");
    expect(error.status).toBe(409);
  });

  it("lists each problem of a refused request once", () => {
    const problems = ["body.name: Field required", "body.parent_id: Input should be a valid UUID"];
    const error = ApiError.fromBody(422, { code: "invalid_request", message: problems.join("; "), problems });
    expect(error.problems).toEqual(problems);
    expect(error.message).toBe("the request was refused:");
  });

  it("describes a body that is not the API's", () => {
    expect(ApiError.fromBody(502, "<html>Bad gateway</html>", "Bad Gateway").message).toBe("502 Bad Gateway: <html>Bad gateway</html>");
    expect(ApiError.fromBody(500, undefined, "Internal Server Error").message).toBe("the server answered 500 Internal Server Error");
  });
});

describe("describeError", () => {
  it("says when the server could not be reached", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toBe("the server could not be reached (Failed to fetch)");
  });
});
