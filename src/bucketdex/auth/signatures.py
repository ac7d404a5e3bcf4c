"""Verifying requests signed the way the encord SDK signs them (no HTTP framework in here).

v2 (``encord/http/v2/request_signer.py``), after the HTTP Message Signatures draft::

    Content-Digest:  sha-256=:<base64 SHA-256 of the body>:
    Signature-Input: encord-sig=("@method" "@request-target" "content-digest");created=<unix s>;
                     keyid="<public key hex>";alg="ed25519"
    Signature:       encord-sig=:<base64 Ed25519 signature of the signature base>:

The signature base is one ``"<component>": <value>`` line per covered component, then
``"@signature-params": <the Signature-Input value after the label>``, joined by ``\\n``.
Requests whose ``created`` lies outside the replay window are refused, and so is a signature
seen before within it (``auth/replay.py``).

v1 (``encord/configs.py``, ``SshConfig``): ``Authorization: <public key hex>:<hex Ed25519
signature of SHA-256(body)>``.  That scheme carries no timestamp, so it has no replay window
of its own; the server accepts it only where the SDK uses it (the v1 RPC endpoint).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bucketdex.auth.replay import SeenSignatures
from bucketdex.errors import Unauthenticated

SIGNATURE_LABEL = "encord-sig"
REQUIRED_COMPONENTS = ("@method", "@request-target", "content-digest")
DEFAULT_REPLAY_WINDOW_SECONDS = 300

KeyLookup = Callable[[str], Ed25519PublicKey]

_BYTE_SEQUENCE = re.compile(r"^:([A-Za-z0-9+/=]*):$")
_INNER_LIST = re.compile(r'^\(((?:"[^"]+"\s*)*)\)((?:;[a-zA-Z0-9_-]+=(?:"[^"]*"|-?\d+))*)$')
_PARAM = re.compile(r';([a-zA-Z0-9_-]+)=("[^"]*"|-?\d+)')


@dataclass(frozen=True)
class SignedRequest:
    """What a verifier needs of a request.  ``target`` is the path and query as sent
    (``/api/v1/folders?search=x``); ``headers`` must be looked up case-insensitively."""

    method: str
    target: str
    body: bytes
    headers: Mapping[str, str]


def is_message_signed(headers: Mapping[str, str]) -> bool:
    return "signature-input" in headers or "signature" in headers


def verify_message_signature(
    request: SignedRequest,
    lookup_key: KeyLookup,
    *,
    now: float,
    window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
    seen: SeenSignatures | None = None,
) -> str:
    """The key id of a correctly signed v2 request; Unauthenticated saying why otherwise."""
    return verify_signed_request(
        request, lookup_key, now=now, window_seconds=window_seconds, seen=seen
    ).key_id


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    signature: bytes
    created: int


def verify_signed_request(
    request: SignedRequest,
    lookup_key: KeyLookup,
    *,
    now: float,
    window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
    seen: SeenSignatures | None = None,
) -> VerifiedSignature:
    """A correctly signed v2 request's signature; Unauthenticated saying why otherwise.  With
    ``seen``, a signature is accepted once: a repeat within the window is refused."""
    digest_header = _header(request.headers, "content-digest")
    _check_content_digest(digest_header, request.body)
    params_text = _labelled(_header(request.headers, "signature-input"), "Signature-Input")
    components, params = _parse_signature_input(params_text)
    created = _check_params(params, now=now, window_seconds=window_seconds)
    signature = _byte_sequence(_labelled(_header(request.headers, "signature"), "Signature"), "Signature")
    values = {"@method": request.method.upper(), "@request-target": request.target}
    lines = []
    for name in components:
        value = values.get(name, digest_header if name == "content-digest" else None)
        if value is None:
            raise Unauthenticated(f"Signature-Input covers {name!r}, which this server does not sign over")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {params_text}')
    key_id = params["keyid"].strip('"')
    _verify(lookup_key(key_id), signature, "\n".join(lines).encode(), what=f"created={created}")
    if seen is not None:  # only a verified signature is remembered: junk cannot fill the store
        seen.claim(signature, expires_at=created + window_seconds + 1, now=now)
    return VerifiedSignature(key_id, signature, created)


def verify_v1_signature(authorization: str, body: bytes, lookup_key: KeyLookup) -> str:
    """The key id of a v1 RPC request (``Authorization: <key hex>:<signature hex>``)."""
    key_id, sep, signature_hex = authorization.strip().partition(":")
    if not sep or not key_id or not signature_hex:
        raise Unauthenticated(
            "Authorization must be 'Bearer <api key>' or '<public key hex>:<signature hex>'"
        )
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Unauthenticated("the signature in Authorization is not hex") from None
    _verify(lookup_key(key_id), signature, hashlib.sha256(body).digest(), what="v1 request")
    return key_id


def _verify(key: Ed25519PublicKey, signature: bytes, message: bytes, *, what: str) -> None:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise Unauthenticated(
            f"signature does not verify ({what}): the request was changed after signing or signed "
            "with another key"
        ) from None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise Unauthenticated(f"signed request without a {name} header")
    return value


def _labelled(value: str, header: str) -> str:
    label, sep, rest = value.partition("=")
    if not sep or label.strip() != SIGNATURE_LABEL:
        raise Unauthenticated(f"{header} must carry the label {SIGNATURE_LABEL!r}")
    return rest.strip()


def _byte_sequence(value: str, header: str) -> bytes:
    match = _BYTE_SEQUENCE.match(value.strip())
    if match is None:
        raise Unauthenticated(f"{header} must be a byte sequence ':<base64>:'")
    try:
        return base64.b64decode(match.group(1), validate=True)
    except binascii.Error:
        raise Unauthenticated(f"{header} is not valid base64") from None


def _check_content_digest(header: str, body: bytes) -> None:
    algorithm, sep, value = header.strip().partition("=")
    if not sep or algorithm.strip().lower() != "sha-256":
        raise Unauthenticated("Content-Digest must be 'sha-256=:<base64>:'")
    claimed = _byte_sequence(value, "Content-Digest")
    if not hmac.compare_digest(claimed, hashlib.sha256(body).digest()):
        raise Unauthenticated("Content-Digest does not match the request body")


def _parse_signature_input(text: str) -> tuple[list[str], dict[str, str]]:
    match = _INNER_LIST.match(text)
    if match is None:
        raise Unauthenticated('Signature-Input must be ("<component>" ...);created=<unix time>;keyid="<hex>"')
    components = re.findall(r'"([^"]+)"', match.group(1))
    missing = [c for c in REQUIRED_COMPONENTS if c not in components]
    if missing:
        raise Unauthenticated(f"Signature-Input must cover {', '.join(missing)}")
    return components, dict(_PARAM.findall(match.group(2)))


def _check_params(params: dict[str, str], *, now: float, window_seconds: int) -> int:
    if "keyid" not in params:
        raise Unauthenticated("Signature-Input has no keyid")
    if params.get("alg", '"ed25519"') != '"ed25519"':
        raise Unauthenticated(f"signature algorithm {params['alg']} is not supported; use ed25519")
    created_text = params.get("created")
    if created_text is None or not created_text.lstrip("-").isdigit():
        raise Unauthenticated("Signature-Input has no created time")
    created = int(created_text)
    if abs(now - created) > window_seconds:
        raise Unauthenticated(
            f"signature created at {created} is outside the replay window of {window_seconds} s around "
            f"the server's time {int(now)}; sign each request anew and check the client's clock"
        )
    return created
