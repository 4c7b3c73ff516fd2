"""Mapping of HeyGen answers to typed errors, and keeping the API key out of their text."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

import core.heygen.client as client_module
from core.heygen import (
    AuthenticationError,
    ConflictError,
    HeyGenClient,
    HeyGenError,
    InsufficientCreditError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
)
from core.heygen.client import parse_retry_after

SECRET = "sk_V2_live_0123456789abcdefSECRET"
LIVE = "https://api.heygen.com"
URL = LIVE + "/v3/avatars/looks/look_1"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """The client's own waits between idempotent POST retries are skipped."""
    monkeypatch.setattr(client_module, "_sleep", lambda seconds: None)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def envelope(code: str, message: str = "Something is wrong", param: str | None = None) -> dict:
    error = {"code": code, "message": message, "doc_url": "https://developers.heygen.com/docs/error-codes"}
    if param:
        error["param"] = param
    return {"error": error}


def failing_call(rsps, status: int, method: str = "GET", **kwargs) -> HeyGenError:
    """Register one answer and return the error the matching client call raises."""
    client = HeyGenClient(SECRET, LIVE)
    if method == "GET":
        rsps.get(URL, status=status, **kwargs)
        call = lambda: client.get_avatar_look("look_1")  # noqa: E731
    else:
        rsps.post(LIVE + "/v3/videos", status=status, **kwargs)
        call = lambda: client.create_video({"type": "studio"})  # noqa: E731
    with pytest.raises(HeyGenError) as info:
        call()
    return info.value


ENVELOPE_CASES = [
    (400, "invalid_parameter", "scenes.0.input.voice_id", InvalidRequestError),
    (400, "validation_error", None, InvalidRequestError),
    (401, "unauthorized", None, AuthenticationError),
    (402, "insufficient_credit", None, InsufficientCreditError),
    (403, "forbidden", None, PermissionDeniedError),
    (403, "resource_access_denied", None, PermissionDeniedError),
    (404, "avatar_not_found", None, NotFoundError),
    (409, "conflict", None, ConflictError),
    (409, "request_in_progress", None, RequestInProgressError),
    (413, "payload_too_large", None, PayloadTooLargeError),
]


@pytest.mark.parametrize(("status", "code", "param", "cls"), ENVELOPE_CASES)
def test_envelope_errors_map_to_their_class(mocked, status, code, param, cls):
    error = failing_call(mocked, status, method="POST", json=envelope(code, "Voice is unknown", param),
                         headers={"X-Request-Id": "req-42"})
    assert type(error) is cls
    assert (error.status, error.code, error.param, error.request_id) == (status, code, param, "req-42")
    assert len(mocked.calls) == 1


def test_field_error_names_the_field_in_its_sentence(mocked):
    error = failing_call(mocked, 400, json=envelope("invalid_parameter", "Voice is unknown", "voice_id"))
    assert str(error) == "HeyGen rejected the request: Voice is unknown (field voice_id)."


def test_codes_are_compared_case_insensitively(mocked):
    error = failing_call(mocked, 409, method="POST", json=envelope("REQUEST_IN_PROGRESS"))
    assert isinstance(error, RequestInProgressError) and error.code == "request_in_progress"


@pytest.mark.parametrize(("status", "body", "cls", "code"), [
    (500, "<html><body>Internal Server Error</body></html>", ServerError, "internal_error"),
    (502, "", ServerError, "internal_error"),
    (404, "", NotFoundError, "not_found"),
    (401, "<html>denied</html>", AuthenticationError, "unauthorized"),
    (400, '{"unexpected": true}', InvalidRequestError, "validation_error"),
    (418, "teapot", InvalidRequestError, "http_418"),
])
def test_bodies_that_are_not_the_envelope_are_classified_by_status(mocked, status, body, cls, code):
    error = failing_call(mocked, status, method="POST", body=body)
    assert type(error) is cls and error.code == code and error.message == ""


@pytest.mark.parametrize("code", ["", "error", "ERROR"])
def test_empty_or_generic_codes_are_classified_by_status(mocked, code):
    error = failing_call(mocked, 404, json=envelope(code, "gone"))
    assert type(error) is NotFoundError and error.code == "not_found" and error.message == "gone"


def test_500_html_on_get_is_retried_then_raised(mocked):
    error = failing_call(mocked, 500, body="<html>oops</html>")
    assert isinstance(error, ServerError)
    assert len(mocked.calls) == 3


def test_429_exhausted_carries_retry_after_seconds(mocked):
    error = failing_call(mocked, 429, json=envelope("rate_limit_exceeded"), headers={"Retry-After": "120"})
    assert isinstance(error, RateLimitError) and error.retry_after == 120
    assert len(mocked.calls) == 3


def test_429_with_http_date_retry_after(mocked):
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    error = failing_call(mocked, 429, method="POST", json=envelope("quota_exceeded"), headers={"Retry-After": later})
    assert isinstance(error, RateLimitError) and 80 <= error.retry_after <= 90


def test_429_without_retry_after(mocked):
    error = failing_call(mocked, 429, json=envelope("rate_limit_exceeded"))
    assert isinstance(error, RateLimitError) and error.retry_after is None


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7.0), (" 30 ", 30.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_relative_to_now():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Sat, 21 Nov 2026 12:01:00 GMT", now=now) == 60


@pytest.mark.parametrize("exc", [requests.ConnectionError("refused"), requests.ConnectTimeout("slow"),
                                 requests.ReadTimeout("slow")])
def test_no_response_is_a_network_error(mocked, exc):
    mocked.get(URL, body=exc)
    with pytest.raises(NetworkError) as info:
        HeyGenClient(SECRET, LIVE).get_avatar_look("look_1")
    assert info.value.status is None and info.value.code == "network_error"
    assert "api.heygen.com" in info.value.message


@pytest.mark.parametrize("body", ["<html>hi</html>", "[1, 2]", '{"no_data": 1}', '{"data": "text"}'])
def test_2xx_that_is_not_the_envelope_is_malformed(mocked, body):
    mocked.get(URL, status=200, body=body)
    with pytest.raises(MalformedResponseError):
        HeyGenClient(SECRET, LIVE).get_avatar_look("look_1")


def test_2xx_with_wrong_item_shape_is_malformed(mocked):
    mocked.get(LIVE + "/v3/voices", json={"data": [{"name": "no id"}], "has_more": False})
    with pytest.raises(MalformedResponseError):
        HeyGenClient(SECRET, LIVE).list_voices()


ALL_ANSWERS = [(status, envelope(code, f"Key {SECRET} rejected", param=f"x.{SECRET}"))
               for status, code, _, _ in ENVELOPE_CASES]
ALL_ANSWERS += [(429, envelope("rate_limit_exceeded", SECRET)), (500, f"<html>{SECRET}</html>"),
                (503, ""), (200, f"not json {SECRET}")]


@pytest.mark.parametrize(("status", "body"), ALL_ANSWERS)
def test_the_key_is_never_in_error_text_even_when_heygen_echoes_it(mocked, status, body):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    mocked.post(LIVE + "/v3/videos", status=status, **kwargs)
    with pytest.raises(HeyGenError) as info:
        HeyGenClient(SECRET, LIVE).create_video({"type": "studio"}, idempotency_key="k")
    error = info.value
    for text in (str(error), repr(error), error.message, error.param or "", error.user_message):
        assert SECRET not in text


def test_the_key_is_never_in_network_error_text(mocked):
    mocked.get(URL, body=requests.ConnectionError(f"refused {LIVE}"))
    with pytest.raises(NetworkError) as info:
        HeyGenClient(SECRET, LIVE).get_avatar_look("look_1")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
