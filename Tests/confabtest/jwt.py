"""Signed tokens (JWT) made the way an identity provider makes them, independently of the
server's code: HS256 with the standard library's `hmac`, RS256 and ES256 with the `openssl`
command-line tool (keys generated into a folder of the test's; ECDSA's DER signature turned
into JWS's raw r || s here)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path
from typing import Any

OPENSSL_TIMEOUT = 30.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(sub: str = "acct-1", name: str | None = "Alice", ttl: int = 3600, **extra: Any) -> dict:
    """Claims for `sub` that expire `ttl` seconds from now (negative: already expired)."""
    out: dict[str, Any] = {"sub": sub}
    if name is not None:
        out["name"] = name
    out["exp"] = int(time.time()) + ttl
    out.update(extra)
    return out


def signing_input(alg: str, payload: dict, header: dict | None = None) -> str:
    head = {"alg": alg, "typ": "JWT", **(header or {})}
    return b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(payload).encode())


def hs256(payload: dict, secret: str | bytes, header: dict | None = None) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    data = signing_input("HS256", payload, header)
    return data + "." + b64url(hmac.new(key, data.encode(), hashlib.sha256).digest())


def unsigned(payload: dict) -> str:
    """`alg: none`, the attack every verifier must refuse."""
    return signing_input("none", payload) + "."


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    result = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=OPENSSL_TIMEOUT)
    assert result.returncode == 0, f"openssl {' '.join(args)} failed: {result.stderr.decode(errors='replace')}"
    return result.stdout


class KeyPair:
    """An RSA-2048 (RS256) or EC P-256 (ES256) key pair on disk; `public_pem` is what the
    server is given, `sign` makes tokens with the private half."""

    def __init__(self, folder: Path, kind: str):
        assert kind in ("rsa", "ec")
        self.kind = kind
        self.alg = "RS256" if kind == "rsa" else "ES256"
        folder.mkdir(parents=True, exist_ok=True)
        self.private_pem = folder / f"{kind}-private.pem"
        self.public_pem = folder / f"{kind}-public.pem"
        options = ["rsa_keygen_bits:2048"] if kind == "rsa" else ["ec_paramgen_curve:P-256"]
        _openssl("genpkey", "-algorithm", "RSA" if kind == "rsa" else "EC",
                 *[arg for option in options for arg in ("-pkeyopt", option)], "-out", str(self.private_pem))
        _openssl("pkey", "-in", str(self.private_pem), "-pubout", "-out", str(self.public_pem))

    def sign(self, payload: dict, alg: str | None = None) -> str:
        data = signing_input(alg or self.alg, payload)
        signature = _openssl("dgst", "-sha256", "-sign", str(self.private_pem), data=data.encode())
        if self.kind == "ec":
            signature = ecdsa_der_to_raw(signature)
        return data + "." + b64url(signature)


def ecdsa_der_to_raw(der: bytes, size: int = 32) -> bytes:
    """SEQUENCE { INTEGER r, INTEGER s } → r || s, each `size` bytes (RFC 7518 §3.4)."""
    assert der[0] == 0x30, "not a DER sequence"
    index = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    parts = []
    for _ in range(2):
        assert der[index] == 0x02, "not a DER integer"
        length = der[index + 1]
        value = der[index + 2:index + 2 + length].lstrip(b"\x00")
        parts.append(value.rjust(size, b"\x00"))
        index += 2 + length
    return b"".join(parts)
