"""Deciding who is at the keyboard: bind address, `[auth]` completeness, provider reachability."""

from __future__ import annotations

import pytest
import requests
import responses

from core.access.signin import auth_config_problem, is_loopback, provider_problem

COMPLETE = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "s3cret-s3cret",
    "client_id": "reel-studio",
    "client_secret": "abc",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}


@pytest.mark.parametrize(("address", "expected"), [
    ("localhost", True), ("127.0.0.1", True), ("127.0.0.53", True), ("::1", True), ("[::1]", True),
    ("", False), (None, False), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
    ("reels.example.com", False), ("10.0.0.1", False),
])
def test_loopback_addresses(address, expected):
    assert is_loopback(address) is expected


def test_no_auth_section_is_not_a_problem_and_a_complete_one_neither():
    assert auth_config_problem(None) is None
    assert auth_config_problem(COMPLETE) is None


@pytest.mark.parametrize("missing", list(COMPLETE))
def test_each_missing_key_is_named_in_one_sentence(missing):
    section = {k: v for k, v in COMPLETE.items() if k != missing}
    message = auth_config_problem(section)
    assert message is not None
    assert f"has no {missing};" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_an_empty_value_counts_as_missing():
    assert "has no client_secret" in auth_config_problem({**COMPLETE, "client_secret": "  "})


def test_named_provider_sections_are_checked_by_name():
    section = {"redirect_uri": COMPLETE["redirect_uri"], "cookie_secret": "x" * 20,
               "google": {"client_id": "a", "client_secret": "b",
                          "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"},
               "okta": {"client_id": "a", "client_secret": "b"}}
    assert auth_config_problem(section) == (
        "Sign-in is not usable: [auth.okta] in .streamlit/secrets.toml has no server_metadata_url; "
        "add it (see secrets.toml.example).")


def test_redirect_uri_must_be_the_callback():
    message = auth_config_problem({**COMPLETE, "redirect_uri": "http://localhost:8501/"})
    assert "must end with /oauth2callback" in message


@responses.activate
def test_provider_reachable():
    responses.get(COMPLETE["server_metadata_url"], json={"issuer": "x", "authorization_endpoint": "https://idp/a"})
    assert provider_problem(COMPLETE["server_metadata_url"]) is None


@responses.activate
def test_provider_unreachable_says_so_naming_the_host():
    responses.get(COMPLETE["server_metadata_url"], body=requests.ConnectionError("refused"))
    assert provider_problem(COMPLETE["server_metadata_url"]) == (
        "The sign-in provider at idp.example.com cannot be reached right now; try again in a minute or tell your admin.")


@responses.activate
@pytest.mark.parametrize("reply", [{"status": 503}, {"body": "<html>"}, {"json": {"issuer": "x"}}])
def test_provider_answering_nonsense_is_a_problem(reply):
    responses.get(COMPLETE["server_metadata_url"], **reply)
    assert provider_problem(COMPLETE["server_metadata_url"]) is not None
