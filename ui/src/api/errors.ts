/** An answer of the REST API that is not a success, carrying the API's own message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: string[];

  constructor(status: number, code: string, message: string, problems: string[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.problems = problems;
  }

  /** Reads the API's error body (`{code, message, problems?}`); any other body is described. */
  static fromBody(status: number, body: unknown, statusText = ""): ApiError {
    if (body && typeof body === "object") {
      const fields = body as Record<string, unknown>;
      const message = typeof fields.message === "string" ? fields.message : undefined;
      const code = typeof fields.code === "string" ? fields.code : typeof fields.error === "string" ? fields.error : "";
      const problems = Array.isArray(fields.problems) ? fields.problems.map(String) : [];
      if (message) {
        // a validation answer's message joins its problems: show them once, as a list
        const shown = problems.length > 1 ? "the request was refused:" : message;
        return new ApiError(status, code || "error", shown, problems.length > 1 ? problems : []);
      }
    }
    if (typeof body === "string" && body.trim()) {
      return new ApiError(status, "error", `${status} ${statusText}: ${body.trim().slice(0, 300)}`.trim());
    }
    return new ApiError(status, "error", `the server answered ${status} ${statusText}`.trim());
  }
}

/** Any thrown value as one readable line (network failures included). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return `the server could not be reached (${error.message})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
