"""Typed HeyGen errors.

Every failure of a HeyGen call becomes one :class:`HeyGenError` subclass carrying
HeyGen's HTTP ``status``, error ``code``, ``message`` and ``param``. ``str(error)`` is
one sentence a user understands; it never contains the API key.

| class                     | HTTP      | typical codes                                   |
|---------------------------|-----------|-------------------------------------------------|
| InvalidRequestError       | 400       | invalid_parameter, validation_error             |
| PayloadTooLargeError      | 413       | payload_too_large (an upload over 32 MB)        |
| AuthenticationError       | 401       | unauthorized                                    |
| PermissionDeniedError     | 403       | forbidden, resource_access_denied               |
| InsufficientCreditError   | 402       | insufficient_credit                             |
| NotFoundError             | 404       | not_found, video_not_found, avatar_not_found …  |
| ConflictError             | 409       | conflict                                        |
| RequestInProgressError    | 409       | request_in_progress (same Idempotency-Key)      |
| RateLimitError            | 429       | rate_limit_exceeded, quota_exceeded             |
| ServerError               | 5xx       | internal_error                                  |
| NetworkError              | —         | connection refused/reset, timeout               |
| MalformedResponseError    | 2xx       | a success body that is not HeyGen's envelope    |
"""

from __future__ import annotations


class HeyGenError(Exception):
    """A HeyGen call failed.

    Attributes:
        status: HTTP status code, or ``None`` when no response arrived.
        code: HeyGen's error code in lower case (``invalid_parameter`` …), or a code
            derived from the status when the body was not HeyGen's envelope.
        message: HeyGen's own message (already free of secrets).
        param: the offending field for field errors (``scenes.0.input.voice_id``), else ``None``.
        request_id: HeyGen's ``X-Request-Id`` when present.
    """

    default_sentence = "HeyGen could not complete the request."
    #: True: :attr:`user_message` is ``default_sentence`` alone (HeyGen's detail adds nothing for the user).
    sentence_only = False

    def __init__(
        self,
        status: int | None = None,
        code: str = "error",
        message: str = "",
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = (code or "error").lower()
        self.message = message or ""
        self.param = param
        self.request_id = request_id
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """One sentence for the user: what went wrong and, where useful, what to do.

        Adds HeyGen's message and the offending ``param`` unless the class is ``sentence_only``.
        """
        sentence = self.default_sentence
        if self.sentence_only:
            return sentence
        if self.message:
            detail = self.message.strip().rstrip(".")
            sentence = f"{sentence.rstrip('.')}: {detail}."
        if self.param and self.param not in sentence:
            sentence = f"{sentence[:-1]} (field {self.param})."
        return sentence

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
                f"message={self.message!r}, param={self.param!r})")


class InvalidRequestError(HeyGenError):
    """400/413: HeyGen rejected the request body or parameters; ``param`` names the field."""

    default_sentence = "HeyGen rejected the request."


class PayloadTooLargeError(InvalidRequestError):
    """413: the body or uploaded file is over HeyGen's limit (``POST /v3/assets``: 32 MB)."""

    default_sentence = "The file is larger than HeyGen accepts (at most 32 MB per upload)."

    sentence_only = True


class AuthenticationError(HeyGenError):
    """401: the API key is missing, invalid or expired."""

    default_sentence = "HeyGen did not accept the API key; check HEYGEN_API_KEY in Settings."

    sentence_only = True


class PermissionDeniedError(HeyGenError):
    """403: the key is valid but not allowed to do this (plan, organisation or resource)."""

    default_sentence = "This HeyGen key is not allowed to do that; check the account's plan and access."


class MalformedKeyError(AuthenticationError):
    """The API key cannot be sent at all (a line break or another character an HTTP header cannot carry).

    Raised before any request; ``status`` is ``None``, ``code`` is ``"malformed_api_key"`` and ``message`` is
    the sentence naming the problem (it never contains the key).
    """

    default_sentence = "The HeyGen API key contains a line break; set HEYGEN_API_KEY again as a single line."

    @property
    def user_message(self) -> str:
        """The sentence naming what is wrong with the key."""
        return self.message or self.default_sentence


class InsufficientCreditError(HeyGenError):
    """402: the HeyGen balance is too low for the request."""

    default_sentence = "The HeyGen balance is too low; top up the API wallet and try again."

    sentence_only = True


class NotFoundError(HeyGenError):
    """404: the id is unknown to HeyGen or not owned by this account."""

    default_sentence = "HeyGen does not know that item."


class ConflictError(HeyGenError):
    """409: a state conflict or duplicate."""

    default_sentence = "HeyGen reported a conflict with the current state."


class RequestInProgressError(ConflictError):
    """409 ``request_in_progress``: the same Idempotency-Key is still being processed."""

    default_sentence = "HeyGen is still processing the first request with this key; try again shortly."

    sentence_only = True


class RateLimitError(HeyGenError):
    """429: too many requests or too many jobs in flight.

    Attributes:
        retry_after: seconds HeyGen asked us to wait (``Retry-After``), or ``None``.
    """

    default_sentence = "HeyGen is busy (too many requests or jobs in flight); it will be retried shortly."

    def __init__(self, *args, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)

    sentence_only = True


class ServerError(HeyGenError):
    """5xx: HeyGen failed on its side."""

    default_sentence = "HeyGen had a server error; try again in a minute."

    sentence_only = True


class NetworkError(HeyGenError):
    """No usable response: connection refused or reset, DNS failure, or timeout."""

    default_sentence = "HeyGen could not be reached; check the network and try again."

    sentence_only = True


class MalformedResponseError(HeyGenError):
    """A success status whose body is not HeyGen's JSON envelope."""

    default_sentence = "HeyGen sent a response that could not be read; try again."

    sentence_only = True


STATUS_CLASSES: dict[int, type[HeyGenError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def error_class_for(status: int | None, code: str | None = None) -> type[HeyGenError]:
    """The :class:`HeyGenError` subclass for an HTTP status and HeyGen code."""
    if code and code.lower() == "request_in_progress":
        return RequestInProgressError
    if status is None:
        return NetworkError
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return InvalidRequestError
    return HeyGenError
