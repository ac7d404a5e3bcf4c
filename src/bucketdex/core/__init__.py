"""The shared vocabulary every layer speaks: records, types, limits, ids and what the stores can
hold (``storable``).  It imports nothing of bucketdex but ``bucketdex.errors``, so ``store``,
``storage``, ``extract``, ``manifest`` and ``catalog`` all build on it without importing each
other for a name."""
