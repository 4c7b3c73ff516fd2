"""The chat model that writes script drafts: any OpenAI-compatible chat-completions endpoint.

OpenAI, Azure OpenAI's ``…/openai/v1``, Ollama, vLLM and LM Studio all work, called with the official
``openai`` SDK (``POST {base_url}/chat/completions``). With no model configured the built-in sandbox
answers with deterministic drafts (:mod:`core.sandbox.routes_chat`), so the code path is the same offline.

The request is a JSON brief (the user message, :meth:`ScriptDrafter._brief_doc`) plus a ``json_schema``
response format; the reply is validated by :func:`parse_reply` into :class:`core.reels.script_drafts.Variation`
objects: exactly the requested number of variations and scenes.

Failures become :class:`core.reels.script_drafts.DraftError`, one sentence for the user, never containing the
API key (nor chained to an SDK exception that might quote it):

- 429: waits the ``Retry-After`` (at most :data:`MAX_WAIT_S` seconds; 2 s when absent) and asks once more.
- 5xx: asks once more after 1 s. Timeouts and unreachable servers are reported at once.
- A reply that is not JSON, or does not validate, is asked for once more (the system message then
  names the problem); a second bad reply is reported.

Bounds: prompts at most :data:`PROMPT_MAX_CHARS`, replies :data:`REPLY_MAX_CHARS`, ``max_tokens`` from
the budgets (at most 16,000).
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import openai
from pydantic import ValidationError

if TYPE_CHECKING:  # the openai SDK's HTTP library (its own dependency)
    import httpx2

from core.reels.script_drafts import (
    INSTRUCTION_MAX_CHARS,
    VARIATIONS,
    DraftBrief,
    DraftError,
    DraftInputError,
    DraftReply,
    Variation,
    brief_problems,
    budget_unit,
    check_brief,
    length_problem,
    scene_budgets,
)

PROMPT_MAX_CHARS = 60_000
REPLY_MAX_CHARS = 200_000
MAX_TOKENS_CAP = 16_000
MAX_WAIT_S = 10.0
SANDBOX_MODEL = "sandbox-drafts"

#: The wire schema (OpenAI structured outputs, strict subset: no length keywords; pydantic checks them).
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["variations"],
    "properties": {"variations": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["title", "scenes"],
        "properties": {"title": {"type": "string"}, "scenes": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["script"],
            "properties": {"script": {"type": "string"}}}}}}}},
}


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """Where the chat model is: ``base_url`` (ending in ``/v1``), ``model``, ``api_key`` (hidden from
    ``repr``), ``timeout_s`` per request, and ``sandbox`` when it is the built-in stand-in."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout_s: float = 60.0
    sandbox: bool = False

    @property
    def host(self) -> str:
        """The endpoint's host name as it may be shown (no credentials, no path)."""
        return urlsplit(self.base_url).hostname or "the configured address"


def model_config(settings: Any, sandbox_url: str | None, sandbox_key: str) -> ModelConfig | None:
    """The configured model (``LLM_MODEL`` set), else the sandbox's at ``sandbox_url``, else ``None``."""
    if settings.llm_model:
        return ModelConfig(settings.llm_base_url.rstrip("/"), settings.llm_model, settings.llm_api_key or "",
                           settings.llm_timeout_s)
    if sandbox_url:
        return ModelConfig(f"{sandbox_url.rstrip('/')}/v1", SANDBOX_MODEL, sandbox_key, settings.llm_timeout_s, True)
    return None


class _BadReply(Exception):
    """A reply that is not a usable draft; ``str`` says why (for the retry and the user)."""


_SYSTEM = (
    "You write scripts for short avatar videos. Each scene's script is read aloud by an AI avatar, so "
    "write plain spoken sentences only: no stage directions, no scene labels, no markdown, no emoji. "
    "The user message is a JSON brief. Write every script in the brief's language, for its audience and "
    "in its tone. scene_budgets gives the length of each scene in budget_unit (words or characters); keep "
    "each scene within 10% of its budget. Answer with JSON only, shaped "
    '{"variations": [{"title": "...", "scenes": [{"script": "..."}]}]}, with exactly the number of '
    "variations asked for, each with exactly len(scene_budgets) scenes. Variations should differ in "
    "approach, not just wording. For task \"revise\", rewrite the given variation following the instruction "
    "and answer with one variation."
)


def _retry_after(response: httpx2.Response | None) -> float:
    """Seconds from ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``; 2.0 when absent."""
    headers = response.headers if response is not None else {}
    if headers.get("retry-after-ms"):
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    return 2.0


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    if error["type"] in ("json_invalid", "json_type"):
        return "it was not JSON"
    where = ".".join(str(p) for p in error["loc"]) or "the reply"
    return f"{where}: {error['msg'][:120]}"


def parse_reply(content: str | None, variations: int, scenes: int) -> list[Variation]:
    """Validate a reply's content: ``variations`` variations of ``scenes`` scenes each.

    Raises:
        _BadReply: empty, over :data:`REPLY_MAX_CHARS`, not JSON, wrong shape or wrong counts.
    """
    if not content or not content.strip():
        raise _BadReply("it was empty")
    if len(content) > REPLY_MAX_CHARS:
        raise _BadReply(f"it was longer than {REPLY_MAX_CHARS:,} characters")
    text = content.strip()
    if text.startswith("```"):  # some local models fence JSON despite the response format
        text = text.strip("`").removeprefix("json").strip()
    try:
        reply = DraftReply.model_validate_json(text)
    except ValidationError as exc:
        raise _BadReply(_first_problem(exc)) from None
    if len(reply.variations) != variations:
        raise _BadReply(f"it had {len(reply.variations)} variations instead of {variations}")
    for n, variation in enumerate(reply.variations, start=1):
        if len(variation.scenes) != scenes:
            raise _BadReply(f"variation {n} had {len(variation.scenes)} scenes instead of {scenes}")
    return reply.variations


class ScriptDrafter:
    """Asks the model of ``config`` for drafts (``POST {base_url}/chat/completions``).

    ``http_client`` (an ``httpx2.Client``, the SDK's HTTP library) replaces the SDK's own, e.g. with a mock transport in tests;
    ``sleep`` is called with the seconds to wait before a retry.
    """

    def __init__(self, config: ModelConfig, *, http_client: httpx2.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.sleep = sleep
        self.calls = 0
        self._client = openai.OpenAI(api_key=config.api_key or "unused", base_url=config.base_url,
                                     timeout=config.timeout_s, max_retries=0, http_client=http_client)

    def close(self) -> None:
        """Close the HTTP connections of this drafter."""
        self._client.close()

    def draft(self, brief: DraftBrief) -> list[Variation]:
        """Three variations for ``brief``, each with ``brief.scenes`` scene scripts.

        Raises:
            DraftInputError: the brief is unusable (nothing is sent).
            DraftError: the model failed or answered unusably twice.
        """
        check_brief(brief)
        doc = self._brief_doc(brief, "draft", VARIATIONS)
        return self._ask(doc, VARIATIONS, brief.scenes)

    def revise(self, brief: DraftBrief, variation: Variation, instruction: str) -> Variation:
        """``variation`` rewritten following ``instruction`` ("shorter", "more formal"), same scene count.

        Raises:
            DraftInputError: empty or over-long instruction, or an unusable brief.
            DraftError: as :meth:`draft`.
        """
        problems = brief_problems(brief)
        if not instruction.strip():
            problems.append("Say how to revise the variation, for example \u201cshorter\u201d.")
        problems += length_problem("instruction", instruction, INSTRUCTION_MAX_CHARS)
        if problems:
            raise DraftInputError(problems)
        scenes = len(variation.scenes)
        doc = self._brief_doc(brief, "revise", 1, scenes)
        doc["variation"] = variation.model_dump()
        doc["instruction"] = instruction.strip()
        return self._ask(doc, 1, scenes)[0]

    @staticmethod
    def _brief_doc(brief: DraftBrief, task: str, variations: int, scenes: int | None = None) -> dict[str, Any]:
        budgets = scene_budgets(brief)
        if scenes is not None and scenes != len(budgets):
            budgets = [round(sum(budgets) / scenes) or 1] * scenes
        return {"task": task, "topic": brief.topic.strip(), "audience": brief.audience.strip(),
                "tone": brief.tone.strip(), "language": brief.language.strip(), "variations": variations,
                "target_seconds": float(brief.target_seconds), "scene_budgets": budgets,
                "budget_unit": budget_unit(brief.language)}

    def _ask(self, doc: dict[str, Any], variations: int, scenes: int) -> list[Variation]:
        user = json.dumps(doc, ensure_ascii=False)
        if len(_SYSTEM) + len(user) > PROMPT_MAX_CHARS:
            raise DraftInputError([f"This request is too long for the model ({len(user):,} characters); "
                                   "shorten the variation or ask for fewer scenes."])
        per_unit = 1.5 if doc["budget_unit"] == "characters" else 2.0
        max_tokens = min(MAX_TOKENS_CAP, int(sum(doc["scene_budgets"]) * variations * per_unit
                                             + 60 * scenes * variations + 400))
        system = _SYSTEM
        reason = ""
        for _attempt in (1, 2):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            try:
                return parse_reply(self._complete(messages, max_tokens), variations, scenes)
            except _BadReply as exc:
                reason = str(exc)
            system = f"{_SYSTEM} Your previous reply was unusable because {reason}; follow the shape exactly."
        raise DraftError(f"The language model's reply was not a usable draft twice in a row ({reason}); try "
                         "again or change the request.")

    def _complete(self, messages: list[dict[str, str]], max_tokens: int) -> str:
        """One reply's text (one retry after a 429 or 5xx). Raises :class:`DraftError` or :class:`_BadReply`.

        Errors are raised outside the ``except`` blocks, so the SDK's exception (whose text may quote the
        server, and so the key) is not even the ``__context__`` of ours.
        """
        for attempt in (1, 2):
            error: Exception | None = None
            wait = 0.0
            try:
                self.calls += 1
                response = self._client.chat.completions.create(
                    model=self.config.model, messages=messages, max_tokens=max_tokens,
                    response_format={"type": "json_schema",
                                     "json_schema": {"name": "script_drafts", "strict": True, "schema": REPLY_SCHEMA}})
            except openai.RateLimitError as exc:
                wait = _retry_after(exc.response)
                if attempt == 2 or wait > MAX_WAIT_S:
                    error = DraftError(f"The language model is rate-limited; try again in {math.ceil(wait)} seconds.")
            except openai.InternalServerError as exc:
                wait = 1.0
                if attempt == 2:
                    error = DraftError(f"The language model failed twice (HTTP {exc.status_code}); try again in "
                                       "a minute.")
            except openai.APIError as exc:
                error = self._error(exc)
            except ValueError:  # a 200 whose body is not JSON
                error = _BadReply("it was not JSON")
            else:
                return self._content(response)
            if error is not None:
                raise error
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _error(self, exc: openai.APIError) -> Exception:
        """Our error for an SDK error that is not worth a retry."""
        if isinstance(exc, openai.APITimeoutError):
            return DraftError(f"The language model did not answer within {self.config.timeout_s:g} seconds; "
                              "try again, or ask for fewer scenes.")
        if isinstance(exc, openai.APIConnectionError):
            return DraftError(f"The language model at {self.config.host} could not be reached; check LLM_BASE_URL.")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return DraftError("The language model did not accept the API key; check LLM_API_KEY.")
        if isinstance(exc, openai.NotFoundError):
            return DraftError(f"The model {self.config.model!r} was not found at {self.config.host}; check "
                              "LLM_MODEL and LLM_BASE_URL.")
        if isinstance(exc, openai.APIStatusError):
            return DraftError(f"The language model refused the request (HTTP {exc.status_code}).")
        return _BadReply("it was not JSON")  # APIResponseValidationError and other unreadable replies

    @staticmethod
    def _content(response: Any) -> str:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise _BadReply("it had no choices")
        choice = choices[0]
        if choice.finish_reason == "length":
            raise _BadReply("it was cut off at the length limit")
        return choice.message.content or ""

