"""Authentication domain: organisations, users, API keys, Ed25519 public keys, signed requests.

Knows nothing of HTTP: the server hands it tokens, key ids and the parts of a request a
signature covers (``signatures.SignedRequest``).
"""

from bucketdex.auth.records import ApiKey, Caller, NewApiKey, Organisation, PublicKey, Role, User
from bucketdex.auth.service import AuthService

__all__ = ["ApiKey", "AuthService", "Caller", "NewApiKey", "Organisation", "PublicKey", "Role", "User"]
