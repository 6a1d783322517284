"""The OpenID Connect protocol through Authlib's Flask client: authorization-code flow with PKCE.

Authlib checks `state` and `nonce` and the ID token's signature against the provider's published
keys; the issuer and audience checks are ours to give it, because its own defaults leave the
audience unchecked and cannot express Microsoft's multi-tenant issuer
(`https://login.microsoftonline.com/{tenantid}/v2.0`, to be filled in with the token's own `tid`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, current_app
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from .identities import SsoClaims
from .sso import STATE_MESSAGE, SsoFailure, SsoProvider

SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60
TENANT_PLACEHOLDER = "{tenantid}"
# What a provider that cannot be reached, or answers nonsense, raises on the way.
_TRANSPORT_ERRORS = (requests.RequestException, ValueError, KeyError, RuntimeError)


def register_clients(app: Flask, providers: Iterable[SsoProvider]) -> None:
    oauth = OAuth(app)
    for provider in providers:
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS},
        )


def _client(provider: SsoProvider) -> Any:
    return current_app.extensions["authlib.integrations.flask_client"].create_client(provider.name)


def authorize_redirect(provider: SsoProvider, redirect_uri: str) -> Response:
    """The redirect to the provider's sign-in page (its discovery document read first)."""
    client = _client(provider)
    try:
        _check_issuer(provider, client.load_server_metadata())
        return client.authorize_redirect(redirect_uri)
    except _TRANSPORT_ERRORS as error:
        raise _unreachable(provider, error) from error


def _check_issuer(provider: SsoProvider, metadata: dict[str, Any]) -> None:
    named = str(metadata.get("issuer", "")).rstrip("/")
    if provider.issuer is not None and named != provider.issuer:
        raise SsoFailure(
            f"discovery document names issuer {named!r}",
            f"{provider.label} is not set up correctly on this server. Tell your administrator.",
        )


def verified_claims(provider: SsoProvider) -> SsoClaims:
    """Trade the code for tokens and verify the ID token; what it says about its user."""
    client = _client(provider)
    try:
        token = client.authorize_access_token(
            claims_options=_claims_options(provider, client.load_server_metadata()), leeway=LEEWAY_SECONDS
        )
    except MismatchingStateError as error:
        raise SsoFailure("state does not match", STATE_MESSAGE) from error
    except OAuthError as error:
        raise _refused(provider, error) from error
    except JoseError as error:
        raise SsoFailure(
            f"ID token refused: {type(error).__name__}: {error}",
            f"{provider.label}'s answer could not be verified, so you were not signed in.",
        ) from error
    except _TRANSPORT_ERRORS as error:
        raise _unreachable(provider, error) from error
    userinfo = token.get("userinfo")
    if not userinfo:
        raise SsoFailure("no ID token", f"{provider.label}'s answer could not be verified, so you were not signed in.")
    return _claims(provider, userinfo)


def _refused(provider: SsoProvider, error: OAuthError) -> SsoFailure:
    if error.error == "access_denied":
        return SsoFailure("consent cancelled", f"Signing in with {provider.label} was cancelled.")
    return SsoFailure(
        f"provider error: {str(error.error)[:60]}",
        f"{provider.label} did not sign you in. Start again, or ask your administrator.",
    )


def _unreachable(provider: SsoProvider, error: Exception) -> SsoFailure:
    return SsoFailure(
        f"provider unreachable: {type(error).__name__}: {str(error)[:200]}",
        f"{provider.label} could not be reached. Try again in a moment.",
    )


def _claims_options(provider: SsoProvider, metadata: dict[str, Any]) -> dict[str, Any]:
    issuer = str(metadata.get("issuer", ""))
    options: dict[str, Any] = {"aud": {"essential": True, "value": provider.client_id}, "sub": {"essential": True}}
    if TENANT_PLACEHOLDER in issuer:
        options["iss"] = {"essential": True, "validate": lambda claims, value: _tenant_issuer(issuer, claims) == value}
    else:
        options["iss"] = {"essential": True, "values": [issuer, *provider.issuer_aliases]}
    return options


def _tenant_issuer(template: str, claims: Mapping[str, Any]) -> str | None:
    """Microsoft's multi-tenant issuer, filled in with the token's own tenant."""
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not tenant or "/" in tenant:
        return None
    return template.replace(TENANT_PLACEHOLDER, tenant)


def _claims(provider: SsoProvider, userinfo: Mapping[str, Any]) -> SsoClaims:
    email = userinfo.get("email")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else None
    verified = any(userinfo.get(claim) in (True, "true", 1) for claim in provider.verified_email_claims)
    name = userinfo.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else (email or "").partition("@")[0]
    return SsoClaims(
        provider=provider.name,
        label=provider.label,
        subject=str(userinfo["sub"])[:255],
        email=email[:254] if email else None,
        email_verified=verified,
        name=name[:80],
    )
