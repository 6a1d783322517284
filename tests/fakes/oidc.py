"""A loopback OpenID Connect provider: discovery, JWKS, authorize and token endpoints, RS256 ID tokens.

    with FakeOidcProvider(style="google") as google:
        google.person = Person(sub="g-1", email="ana@example.com")
        app = make_app(url, GOOGLE_CLIENT_ID=google.client_id, GOOGLE_CLIENT_SECRET=google.client_secret,
                       GOOGLE_ISSUER=google.issuer)

It speaks the protocol as the real providers do: the authorize endpoint signs `person` in at
once (or answers `error=access_denied` when `deny` is set) and redirects back with a one-time
code; the token endpoint checks the client's credentials, the code, the redirect URI and the
PKCE verifier before it issues an ID token signed with a key it generated. Styles:

- "google": the issuer is the server's own URL;
- "microsoft": discovery under `/<tenant>/v2.0`; for `common` the discovery document names the
  templated issuer `<url>/{tenantid}/v2.0` and each token carries its user's `tid`;
- "generic": a Keycloak-like realm, `<url>/realms/team`.

`id_token_claims` overrides claims of the next ID tokens (a wrong nonce, audience, issuer,
expiry); `foreign_key` signs them with another key under the same key id; `token_error`
makes the token endpoint answer with that HTTP status.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.loopback import Loopback

MULTI_TENANT = ("common", "organizations", "consumers")
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass
class Person:
    """Who signs in at the provider."""

    sub: str = "subject-1"
    email: str | None = "ana@example.com"
    email_verified: bool | None = True
    name: str = "Ana Lima"
    tid: str = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str | None
    challenge_method: str | None
    nonce: str | None
    person: Person


class FakeOidcProvider:
    def __init__(
        self,
        *,
        style: str = "generic",
        tenant: str = "common",
        client_id: str = "ba-assistant",
        client_secret: str = "s3cret",
    ) -> None:
        self.style = style
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.person = Person()
        self.deny = False
        self.token_error: int | None = None
        self.foreign_key = False
        self.id_token_claims: dict[str, Any] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.kid = secrets.token_hex(4)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._loopback: Loopback | None = None

    # -- addresses ----------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._loopback is not None, "use the fake as a context manager"
        return f"http://127.0.0.1:{self._loopback.port}"

    @property
    def issuer(self) -> str:
        """The issuer to configure (Google, generic), or the authority (Microsoft)."""
        if self.style == "generic":
            return f"{self.url}/realms/team"
        return self.url

    def token_issuer(self, person: Person) -> str:
        if self.style == "microsoft":
            tenant = person.tid if self.tenant in MULTI_TENANT else self.tenant
            return f"{self.url}/{tenant}/v2.0"
        return self.issuer

    def _discovery_path(self) -> str:
        if self.style == "microsoft":
            return f"/{self.tenant}/v2.0/.well-known/openid-configuration"
        return urlsplit(self.issuer).path + "/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        if self.style == "microsoft":
            tenant = "{tenantid}" if self.tenant in MULTI_TENANT else self.tenant
            issuer = f"{self.url}/{tenant}/v2.0"
        else:
            issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/keys",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _int_b64(numbers.n),
                    "e": _int_b64(numbers.e),
                }
            ]
        }

    # -- tokens -------------------------------------------------------------

    def id_token(self, grant: _Grant, access_token: str) -> str:
        person = grant.person
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.token_issuer(person),
            "sub": person.sub,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 3600,
            "name": person.name,
            "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16]),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if person.email is not None:
            claims["email"] = person.email
        if person.email_verified is not None and self.style != "microsoft":
            claims["email_verified"] = person.email_verified
        if self.style == "microsoft":
            claims.update({"tid": person.tid, "oid": person.sub, "preferred_username": person.email or ""})
        claims.update(person.extra)
        claims.update(self.id_token_claims)
        return self.sign(claims)

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        key = self._other_key if self.foreign_key else self._key
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    # -- serving ------------------------------------------------------------

    def __enter__(self) -> FakeOidcProvider:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._loopback = Loopback(server)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loopback is not None:
            self._loopback.close()

    def reset(self) -> None:
        """Back to a consenting provider that signs in the default person."""
        self.person, self.deny, self.token_error, self.foreign_key = Person(), False, None, False
        self.id_token_claims = {}
        self.authorize_requests.clear()
        self.token_requests.clear()

    def authorize(self, query: dict[str, str]) -> str:
        """Where the authorize endpoint sends the browser back to."""
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        state = {"state": query["state"]} if "state" in query else {}
        if self.deny:
            return f"{redirect_uri}?{urlencode({'error': 'access_denied', **state})}"
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = _Grant(
                query.get("client_id", ""),
                redirect_uri,
                query.get("code_challenge"),
                query.get("code_challenge_method"),
                query.get("nonce"),
                self.person,
            )
        return f"{redirect_uri}?{urlencode({'code': code, **state})}"

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if self.token_error:
            return self.token_error, {"error": "server_error"}
        client_id, secret = _client_credentials(form, authorization)
        if (client_id, secret) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        if not _pkce_ok(grant, form.get("code_verifier")):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(24)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": self.id_token(grant, access_token),
        }


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str | None, str | None]:
    if authorization and authorization.startswith("Basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def _pkce_ok(grant: _Grant, verifier: str | None) -> bool:
    if grant.challenge is None:
        return False  # this provider requires PKCE
    if grant.challenge_method != "S256" or not verifier:
        return False
    return _b64(hashlib.sha256(verifier.encode()).digest()) == grant.challenge


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    @property
    def fake(self) -> FakeOidcProvider:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == self.fake._discovery_path():
            self._json(200, self.fake.discovery())
        elif parts.path == "/keys":
            self._json(200, self.fake.jwks())
        elif parts.path == "/authorize":
            self.send_response(302)
            self.send_header("Location", self.fake.authorize(query))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        form = {key: values[0] for key, values in parse_qs(body).items()}
        status, answer = self.fake.token(form, self.headers.get("Authorization"))
        self._json(status, answer)

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
