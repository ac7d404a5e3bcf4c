"""Import jobs (and, later, index builds) on a distributed task queue: Procrastinate on the
catalog's own PostgreSQL (no broker to run), shared by any number of ``bucketdex worker``
processes.  The embedded default needs none of it: ``catalog.job_runner`` runs the same chunk
functions in-process (docs/decisions.md, "Job engine")."""
