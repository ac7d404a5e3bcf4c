"""The signature verifiers on their own: the encord SDK's v2 and v1 schemes, edge cases."""

from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from encord.configs import SshConfig
from encord.http.v2 import request_signer

from bucketdex.auth.public_keys import parse_public_key
from bucketdex.auth.signatures import SignedRequest, verify_message_signature, verify_v1_signature
from bucketdex.errors import InvalidArgument, Unauthenticated

KEY = Ed25519PrivateKey.generate()
KEY_HEX = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def lookup(key_id: str) -> Ed25519PublicKey:
    if key_id != KEY_HEX:
        raise Unauthenticated("not registered")
    return KEY.public_key()


def sdk_signed(method: str, url: str, body: str | None) -> SignedRequest:
    prepared = requests.Request(method, url, data=body).prepare()
    request_signer.sign_request(prepared, KEY_HEX, KEY)
    content = prepared.body.encode() if isinstance(prepared.body, str) else (prepared.body or b"")
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    return SignedRequest(method, prepared.path_url, content, headers)


def test_v2_signature_of_the_sdk_verifies_and_names_the_key() -> None:
    request = sdk_signed("POST", "http://h/v2/public/storage/folders?x=1", '{"name": "a"}')
    assert verify_message_signature(request, lookup, now=time.time()) == KEY_HEX


def test_v2_signature_outside_the_window_is_refused_on_both_sides() -> None:
    request = sdk_signed("GET", "http://h/v2/public/cloud-integrations", None)
    with pytest.raises(Unauthenticated, match="outside the replay window of 300 s"):
        verify_message_signature(request, lookup, now=time.time() + 301)
    with pytest.raises(Unauthenticated, match="outside the replay window"):
        verify_message_signature(request, lookup, now=time.time() - 301)
    assert verify_message_signature(request, lookup, now=time.time() + 299) == KEY_HEX


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("signature-input", 'other=("@method");created=1;keyid="x"', "label 'encord-sig'"),
        ("signature-input", 'encord-sig=("@method");created=1;keyid="x"', "must cover @request-target"),
        ("signature", "encord-sig=:not base64!:", "byte sequence"),
        ("content-digest", "md5=:AAAA:", "sha-256"),
    ],
)
def test_malformed_signature_headers_say_what_is_wrong(header: str, value: str, reason: str) -> None:
    request = sdk_signed("GET", "http://h/x", None)
    broken = SignedRequest(request.method, request.target, request.body, {**request.headers, header: value})
    with pytest.raises(Unauthenticated, match=reason):
        verify_message_signature(broken, lookup, now=time.time())


def test_v2_signature_params_are_covered_by_the_signature() -> None:
    request = sdk_signed("GET", "http://h/x", None)
    params = request.headers["signature-input"].replace('alg="ed25519"', 'alg="ed25519";extra=1')
    forged = SignedRequest(
        request.method, request.target, request.body, {**request.headers, "signature-input": params}
    )
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        verify_message_signature(forged, lookup, now=time.time())


def test_v1_signature_of_the_sdk_verifies_and_tampering_fails() -> None:
    body = '{"query_type": "dataset", "query_method": "GET", "values": {"uid": "x", "payload": null}}'
    config = SshConfig(KEY, domain="http://127.0.0.1:1")
    authorization = config.define_headers("x", "dataset", body)["Authorization"]
    assert verify_v1_signature(authorization, body.encode(), lookup) == KEY_HEX
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        verify_v1_signature(authorization, body.replace("GET", "PUT").encode(), lookup)
    with pytest.raises(Unauthenticated, match="not hex"):
        verify_v1_signature(KEY_HEX + ":zz", body.encode(), lookup)


def test_public_keys_are_read_from_openssh_pem_and_hex() -> None:
    public = KEY.public_key()
    openssh = public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " me@host"
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    for text in (openssh, pem, KEY_HEX):
        assert parse_public_key(text).public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == KEY_HEX
    with pytest.raises(InvalidArgument, match="private key"):
        parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----\n...")
    with pytest.raises(InvalidArgument, match="not a public key"):
        parse_public_key("ssh-ed25519 garbage")
