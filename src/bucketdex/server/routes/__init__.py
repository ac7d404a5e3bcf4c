"""The native REST API, one router per resource; each is mounted under /api/v1 with auth."""
