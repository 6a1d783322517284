"""Single sign-on with OpenID Connect: the configured providers and the flow's bookkeeping.

The protocol itself (Authlib's Flask client) is in `oidc_client`, loaded only where a provider is
configured: with its HTTP and crypto libraries it costs each web process about 17 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, session, url_for
from werkzeug.wrappers import Response

from .identities import SsoClaims

_FLOW_KEY = "sso_flow"
STATE_MESSAGE = (
    "This sign-in does not match one started in this browser (it may have been used already "
    "or have expired). Start again."
)


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
        providers.append(
            SsoProvider(
                "google",
                "Google",
                f"{issuer}/.well-known/openid-configuration",
                config["GOOGLE_CLIENT_ID"],
                config["GOOGLE_CLIENT_SECRET"],
                issuer=issuer,
                issuer_aliases=(issuer.removeprefix("https://"),),
            )
        )
    if config.get("MICROSOFT_CLIENT_ID") and config.get("MICROSOFT_CLIENT_SECRET"):
        authority = f"{config['MICROSOFT_AUTHORITY'].rstrip('/')}/{config['MICROSOFT_TENANT']}/v2.0"
        providers.append(
            SsoProvider(
                "microsoft",
                "Microsoft",
                f"{authority}/.well-known/openid-configuration",
                config["MICROSOFT_CLIENT_ID"],
                config["MICROSOFT_CLIENT_SECRET"],
                verified_email_claims=("email_verified", "xms_edov"),
            )
        )
    if config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"):
        issuer = config["OIDC_ISSUER"].rstrip("/")
        providers.append(
            SsoProvider(
                "oidc",
                config["OIDC_NAME"],
                f"{issuer}/.well-known/openid-configuration",
                config["OIDC_CLIENT_ID"],
                config.get("OIDC_CLIENT_SECRET") or "",
                issuer=issuer,
            )
        )
    return {provider.name: provider for provider in providers}


def form_targets(providers: Iterable[SsoProvider]) -> list[str]:
    """The origins that a sign-in or link form is sent on to (the providers' own sign-in pages)."""
    return [f"{url.scheme}://{url.netloc}" for url in (urlsplit(p.metadata_url) for p in providers)]


def configured() -> dict[str, SsoProvider]:
    return current_app.extensions["sso.providers"]


def take_flow(provider: SsoProvider) -> dict[str, Any]:
    """What the browser was doing when it left for the provider (sign in or link, and where to go next)."""
    flow = session.pop(_FLOW_KEY, None)
    if not isinstance(flow, dict) or flow.get("provider") != provider.name:
        raise SsoFailure("no sign-in started in this browser", STATE_MESSAGE)
    return flow


def init_sso(app: Flask) -> None:
    providers = providers_from(app.config)
    if providers:
        from .oidc_client import register_clients

        register_clients(app, providers.values())
    app.extensions["sso.providers"] = providers


def start(provider: SsoProvider, *, next_url: str, link_user_id: str | None = None) -> Response:
    """Send the browser to the provider to sign in; it comes back to the callback."""
    from . import oidc_client

    redirect = oidc_client.authorize_redirect(
        provider, url_for("auth.sso_callback", provider_name=provider.name, _external=True)
    )
    session[_FLOW_KEY] = {"provider": provider.name, "next": next_url, "link": link_user_id}
    return redirect


def finish(provider: SsoProvider) -> SsoClaims:
    """Complete the flow on the provider's redirect back: the code for tokens, the ID token verified."""
    from . import oidc_client

    return oidc_client.verified_claims(provider)
