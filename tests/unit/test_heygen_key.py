"""A key that cannot travel in an HTTP header is named as the problem, not reported as a network failure."""

from __future__ import annotations

import pytest
import responses

from core.heygen import AuthenticationError, HeyGenClient, MalformedKeyError, NetworkError
from core.heygen.client import key_problem

BASE = "https://api.heygen.test"
KEY = "sk_V2_hgu_test_0123456789abcdef"


@responses.activate
@pytest.mark.parametrize("key", [KEY[:10] + "\n" + KEY[10:], KEY + "\r\n" + "x", "\n" + KEY])
def test_line_break_in_key_is_named(key: str) -> None:
    client = HeyGenClient(key, base_url=BASE)
    with pytest.raises(MalformedKeyError) as caught:
        client.get_current_user()
    assert not isinstance(caught.value, NetworkError)
    assert isinstance(caught.value, AuthenticationError)
    assert "line break" in str(caught.value)
    assert KEY[:10] not in str(caught.value) and KEY[10:] not in repr(caught.value)
    assert len(responses.calls) == 0


@pytest.mark.parametrize(("key", "word"), [(KEY + " x", "space"), (KEY + "\t", "space or tab"),
                                           (KEY + "—", "ASCII"), (KEY + "\x00", "ASCII")])
def test_other_unsendable_characters_are_named(key: str, word: str) -> None:
    assert word in (key_problem(key) or "")


def test_a_normal_key_has_no_problem() -> None:
    assert key_problem(KEY) is None


@responses.activate
def test_a_normal_key_is_sent() -> None:
    responses.get(f"{BASE}/v3/users/me", json={"data": {"username": "jane"}})
    HeyGenClient(KEY, base_url=BASE).get_current_user()
    assert responses.calls[0].request.headers["X-Api-Key"] == KEY
