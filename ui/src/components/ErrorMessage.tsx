import { ApiError, describeError } from "../api/errors";

/** An error as the API phrased it (its message, and each problem of a refused request). */
export function ErrorMessage({ error, context }: { error: unknown; context?: string }) {
  if (!error) return null;
  const problems = error instanceof ApiError ? error.problems : [];
  return (
    <div className="error" role="alert">
      {context ? <strong>{context}: </strong> : null}
      <span className="error-message">{describeError(error)}</span>
      {problems.length > 0 ? (
        <ul>
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
