"""How the app decides who is at the keyboard, before any page draws: binding, `[auth]`, the provider.

Three facts decide it (the pages' frame asks them on every run):

- the server's bind address (``server.address``): loopback means the person at the machine is the
  only one who can reach it (:func:`is_loopback`);
- whether sign-in is configured (an ``[auth]`` section in Streamlit's secrets), and whether that
  section is complete (:func:`auth_config_problem` names the first missing key);
- whether the OpenID provider answers (:func:`provider_problem`), so the sign-in screen can say so
  instead of sending people to an error page.

Pure functions over plain values; no Streamlit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import requests

#: Keys ``[auth]`` itself needs (Streamlit's names).
AUTH_KEYS = ("redirect_uri", "cookie_secret")
#: Keys each provider needs, in ``[auth]`` itself or in ``[auth.<name>]``.
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
#: Seconds the provider's discovery document may take before the sign-in screen calls it unreachable.
PROVIDER_TIMEOUT_S = 3.0
HOW_TO_CONFIGURE = ("configure sign-in in .streamlit/secrets.toml [auth] (see secrets.toml.example and the "
                    "README's Sign-in section)")


def is_loopback(address: str | None) -> bool:
    """True when ``address`` (``server.address``) accepts connections from this machine only.

    Empty or ``None`` means every interface, so it is not loopback.
    """
    host = (address or "").strip().strip("[]").lower()
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def providers(section: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The providers of an ``[auth]`` section: ``{"default": section}`` and/or ``{name: [auth.name]}``."""
    named = {key: value for key, value in section.items() if isinstance(value, Mapping)}
    if any(key in section for key in PROVIDER_KEYS) or not named:
        return {"default": section, **named}
    return named


def auth_config_problem(section: Mapping[str, Any] | None) -> str | None:
    """One sentence naming the first key the ``[auth]`` section lacks, or ``None`` when complete.

    ``None`` for ``section`` means sign-in is not configured at all, which is not a problem here.
    """
    if section is None:
        return None
    for key in AUTH_KEYS:
        if not str(section.get(key) or "").strip():
            return f"Sign-in is not usable: [auth] in .streamlit/secrets.toml has no {key}; add it (see secrets.toml.example)."
    redirect = str(section["redirect_uri"]).rstrip("/")
    if not redirect.endswith("/oauth2callback"):
        return ("Sign-in is not usable: [auth] redirect_uri must end with /oauth2callback, "
                f"as in http://localhost:8501/oauth2callback; it is {redirect}.")
    for name, provider in providers(section).items():
        where = "[auth]" if name == "default" else f"[auth.{name}]"
        for key in PROVIDER_KEYS:
            if not str(provider.get(key) or "").strip():
                return f"Sign-in is not usable: {where} in .streamlit/secrets.toml has no {key}; add it (see secrets.toml.example)."
    return None


def provider_problem(metadata_url: str, *, timeout_s: float = PROVIDER_TIMEOUT_S) -> str | None:
    """One sentence when the OpenID provider's discovery document cannot be read, else ``None``.

    ``GET metadata_url``, at most ``timeout_s`` seconds; the document must be JSON with an
    ``authorization_endpoint``.
    """
    host = requests.utils.urlparse(metadata_url).netloc or metadata_url
    try:
        response = requests.get(metadata_url, timeout=timeout_s, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except requests.RequestException:
        return f"The sign-in provider at {host} cannot be reached right now; try again in a minute or tell your admin."
    except ValueError:
        return f"The sign-in provider at {host} did not answer with its OpenID configuration; tell your admin."
    if not isinstance(document, dict) or not document.get("authorization_endpoint"):
        return f"The sign-in provider at {host} did not answer with its OpenID configuration; tell your admin."
    return None


def exposed_without_sign_in_message() -> str:
    """The sentence every page shows when the server is reachable from the network without sign-in."""
    return ("Reel Studio refuses to open: this server listens on the network but sign-in is not configured; "
            f"{HOW_TO_CONFIGURE}, or bind it to localhost.")
