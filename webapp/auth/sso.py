"""Single sign-on with OpenID Connect through Authlib's Flask client: Google, Microsoft, any provider.

Authorization-code flow with PKCE (S256); Authlib checks `state` and `nonce` and the ID token's
signature against the provider's published keys; the issuer and audience checks are ours to
give it, because its own defaults leave the audience unchecked and cannot express Microsoft's
multi-tenant issuer (`https://login.microsoftonline.com/{tenantid}/v2.0`, to be filled in with
the token's own `tid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.base_client import MismatchingStateError
from flask import Flask, current_app, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from .identities import SsoClaims

SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60
TENANT_PLACEHOLDER = "{tenantid}"
_FLOW_KEY = "sso_flow"


@dataclass(frozen=True, slots=True)
class SsoProvider:
    name: str  # in URLs and in the identities table
    label: str
    metadata_url: str
    client_id: str
    client_secret: str
    # The issuer the discovery document must name (None: not known in advance, as for a Microsoft tenant).
    issuer: str | None = None
    # Other spellings of the issuer that ID tokens may carry.
    issuer_aliases: tuple[str, ...] = ()
    # Claims that, when true, say the email is verified.
    verified_email_claims: tuple[str, ...] = ("email_verified",)


class SsoFailure(Exception):
    """The sign-in did not complete; `message` is for the user, `reason` for the security log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def providers_from(config: Mapping[str, Any]) -> dict[str, SsoProvider]:
    """The configured providers, in the order the log-in page shows them."""
    providers: list[SsoProvider] = []
    if config.get("GOOGLE_CLIENT_ID") and config.get("GOOGLE_CLIENT_SECRET"):
        issuer = config["GOOGLE_ISSUER"].rstrip("/")
        providers.append(SsoProvider(
            "google", "Google", f"{issuer}/.well-known/openid-configuration", config["GOOGLE_CLIENT_ID"],
            config["GOOGLE_CLIENT_SECRET"], issuer=issuer, issuer_aliases=(issuer.removeprefix("https://"),)))
    if config.get("MICROSOFT_CLIENT_ID") and config.get("MICROSOFT_CLIENT_SECRET"):
        authority = f"{config['MICROSOFT_AUTHORITY'].rstrip('/')}/{config['MICROSOFT_TENANT']}/v2.0"
        providers.append(SsoProvider(
            "microsoft", "Microsoft", f"{authority}/.well-known/openid-configuration", config["MICROSOFT_CLIENT_ID"],
            config["MICROSOFT_CLIENT_SECRET"], verified_email_claims=("email_verified", "xms_edov")))
    if config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"):
        issuer = config["OIDC_ISSUER"].rstrip("/")
        providers.append(SsoProvider(
            "oidc", config["OIDC_NAME"], f"{issuer}/.well-known/openid-configuration", config["OIDC_CLIENT_ID"],
            config.get("OIDC_CLIENT_SECRET") or "", issuer=issuer))
    return {provider.name: provider for provider in providers}


def init_sso(app: Flask) -> None:
    providers = providers_from(app.config)
    oauth = OAuth(app)
    for provider in providers.values():
        oauth.register(
            provider.name, client_id=provider.client_id, client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS},
        )
    app.extensions["sso.providers"] = providers


def configured() -> dict[str, SsoProvider]:
    return current_app.extensions["sso.providers"]


def _client(provider: SsoProvider) -> Any:
    return current_app.extensions["authlib.integrations.flask_client"].create_client(provider.name)


def start(provider: SsoProvider, *, next_url: str, link_user_id: str | None = None) -> Response:
    """Send the browser to the provider to sign in; it comes back to `callback`."""
    client = _client(provider)
    try:
        _check_issuer(provider, client.load_server_metadata())
        session[_FLOW_KEY] = {"provider": provider.name, "next": next_url, "link": link_user_id}
        return client.authorize_redirect(url_for("auth.sso_callback", provider_name=provider.name, _external=True))
    except SsoFailure:
        raise
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        raise _unreachable(provider, error) from error


def _check_issuer(provider: SsoProvider, metadata: dict[str, Any]) -> None:
    named = str(metadata.get("issuer", "")).rstrip("/")
    if provider.issuer is not None and named != provider.issuer:
        raise SsoFailure(f"discovery document names issuer {named!r}",
                         f"{provider.label} is not set up correctly on this server. Tell your administrator.")


def take_flow(provider: SsoProvider) -> dict[str, Any]:
    """What the browser was doing when it left for the provider (sign in or link, and where to go next)."""
    flow = session.pop(_FLOW_KEY, None)
    if not isinstance(flow, dict) or flow.get("provider") != provider.name:
        raise SsoFailure("no sign-in started in this browser", _STATE_MESSAGE)
    return flow


_STATE_MESSAGE = ("This sign-in does not match one started in this browser (it may have been used already "
                  "or have expired). Start again.")


def finish(provider: SsoProvider) -> SsoClaims:
    """Complete the flow on the provider's redirect back: the code for tokens, the ID token verified."""
    client = _client(provider)
    try:
        token = client.authorize_access_token(claims_options=_claims_options(provider, client.load_server_metadata()),
                                              leeway=LEEWAY_SECONDS)
    except MismatchingStateError as error:
        raise SsoFailure("state does not match", _STATE_MESSAGE) from error
    except OAuthError as error:
        raise _refused(provider, error) from error
    except JoseError as error:
        raise SsoFailure(f"ID token refused: {type(error).__name__}: {error}",
                         f"{provider.label}'s answer could not be verified, so you were not signed in.") from error
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        raise _unreachable(provider, error) from error
    userinfo = token.get("userinfo")
    if not userinfo:
        raise SsoFailure("no ID token", f"{provider.label}'s answer could not be verified, so you were not signed in.")
    return _claims(provider, userinfo)


def _refused(provider: SsoProvider, error: OAuthError) -> SsoFailure:
    if error.error == "access_denied":
        return SsoFailure("consent cancelled", f"Signing in with {provider.label} was cancelled.")
    return SsoFailure(f"provider error: {str(error.error)[:60]}",
                      f"{provider.label} did not sign you in. Start again, or ask your administrator.")


def _unreachable(provider: SsoProvider, error: Exception) -> SsoFailure:
    return SsoFailure(f"provider unreachable: {type(error).__name__}: {str(error)[:200]}",
                      f"{provider.label} could not be reached. Try again in a moment.")


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
    return SsoClaims(provider=provider.name, label=provider.label, subject=str(userinfo["sub"])[:255],
                     email=email[:254] if email else None, email_verified=verified, name=name[:80])
