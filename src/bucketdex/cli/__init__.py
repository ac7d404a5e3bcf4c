"""The ``bucketdex`` command line: Typer + Rich over the SDK."""
