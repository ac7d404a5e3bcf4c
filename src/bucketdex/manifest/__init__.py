"""Registration manifests: the JSON and CSV formats of the seeds, parsed into catalog records."""

from bucketdex.manifest.errors import ManifestError
from bucketdex.manifest.model import Manifest, ManifestEntry

__all__ = ["Manifest", "ManifestEntry", "ManifestError"]
