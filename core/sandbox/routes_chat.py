"""An OpenAI-compatible ``POST /v1/chat/completions`` that writes deterministic script drafts offline.

It stands in for a language model when none is configured, so drafting from a topic works with no
network and the real ``openai`` client code path is what tests exercise. Same key check as the
HeyGen routes (``Authorization: Bearer <key>``), same fault injection (``POST /v1/chat/completions:429=1x``),
plus two kinds only this route understands: ``badcontent`` (the message content is prose, not JSON) and
``badshape`` (valid JSON in the wrong shape).

Request: an OpenAI chat-completions body (``model``, ``messages``; ``response_format`` and
``max_tokens`` accepted and ignored). The last user message is read as the JSON brief of
:mod:`core.script_drafts`::

    {"task": "draft" | "revise", "topic", "audience", "tone", "language", "variations": 3,
     "scene_budgets": [words or characters per scene, ...], "budget_unit": "words" | "characters",
     "variation"?: {"title", "scenes": [{"script"}]}, "instruction"?: "shorter"}

Reply content: ``{"variations": [{"title", "scenes": [{"script"}]}]}`` with exactly the requested number
of variations and scenes, each script filled to its budget. A user message that is not such a brief gets
a one-sentence prose reply. Bodies over 1 MB answer 413.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.sandbox.http import ApiError, parse_json, sandbox_of

MAX_BODY_BYTES = 1_000_000
MAX_VARIATIONS = 5
MAX_SCENES = 50
MAX_BUDGET = 2_000  # words or characters per scene

#: Sentence patterns per language (``{t}`` topic, ``{a}`` audience); the fallback is English.
_PHRASES: dict[str, list[str]] = {
    "en": ["Let's talk about {t}.", "This is for {a}.", "Here is what matters most about {t}.",
           "Start with one simple step.", "Keep what works and drop the rest.", "You can try it today.",
           "The details are easier than they look.", "Ask yourself what you need from {t}.",
           "Small changes add up quickly.", "That is the whole idea in one minute."],
    "es": ["Hablemos de {t}.", "Esto es para {a}.", "Esto es lo más importante de {t}.",
           "Empieza con un paso sencillo.", "Quédate con lo que funciona.", "Puedes probarlo hoy.",
           "Los detalles son más fáciles de lo que parecen.", "Los pequeños cambios suman."],
    "fr": ["Parlons de {t}.", "Ceci s'adresse à {a}.", "Voici l'essentiel sur {t}.",
           "Commencez par une étape simple.", "Gardez ce qui fonctionne.", "Vous pouvez essayer dès aujourd'hui.",
           "Les détails sont plus simples qu'il n'y paraît.", "Les petits changements comptent."],
    "de": ["Sprechen wir über {t}.", "Das ist für {a}.", "Das Wichtigste über {t}.",
           "Beginnen Sie mit einem einfachen Schritt.", "Behalten Sie, was funktioniert.",
           "Sie können es heute ausprobieren.", "Die Details sind einfacher, als sie aussehen.",
           "Kleine Änderungen summieren sich."],
    "ja": ["{t}についてお話しします。", "これは{a}のための内容です。", "まずは簡単な一歩から始めましょう。",
           "うまくいくことを続けましょう。", "今日から試せます。", "細かい点は見た目より簡単です。"],
    "zh": ["我们来谈谈{t}。", "这是为{a}准备的。", "从简单的一步开始。", "保留有效的做法。", "今天就可以试试。",
           "细节比看起来简单。"],
}
_LANGUAGE_CODES = {"english": "en", "spanish": "es", "español": "es", "french": "fr", "français": "fr",
                   "german": "de", "deutsch": "de", "japanese": "ja", "chinese": "zh", "mandarin": "zh",
                   "cantonese": "zh"}
_STYLES = ("Straight to the point", "A short story", "Question first")
_WORD = re.compile(r"\S+")


def _language(name: str) -> str:
    """Phrase-bank code for a catalog language name (``"Chinese (Mandarin)"`` → ``zh``); English otherwise."""
    key = (name or "").strip().lower()
    for word, code in _LANGUAGE_CODES.items():
        if key == word or key.startswith(word):
            return code
    return key[:2] if key[:2] in _PHRASES else "en"


def _short(text: str, words: int = 8) -> str:
    """The first ``words`` words of ``text``, at most 80 characters."""
    return " ".join(_WORD.findall(text or "")[:words])[:80].rstrip(".!?,;:") or "this"


def _fill(budget: int, unit: str, sentences: list[str], joiner: str = " ") -> str:
    """Whole sentences (cycling) until ``budget`` words or characters, the last one cut to fit. Chinese and
    Japanese sentences are joined with ``joiner=""``."""
    stop = "." if joiner else "。"
    out: list[str] = []
    used = 0
    i = 0
    while used < budget:
        sentence = sentences[i % len(sentences)]
        i += 1
        size = len(sentence) + len(joiner) if unit == "characters" else len(_WORD.findall(sentence))
        if used + size > budget:
            if unit == "characters":
                rest = sentence[: max(1, budget - used - len(joiner) - 1)].rstrip()
            else:
                rest = " ".join(_WORD.findall(sentence)[: budget - used])
            out.append(rest.rstrip(".!?,;:。") + stop)
            break
        out.append(sentence)
        used += size
    return joiner.join(out)


def _variation(brief: dict[str, Any], number: int, scale: float = 1.0, title: str | None = None) -> dict[str, Any]:
    lang = _language(str(brief.get("language", "")))
    topic, audience = _short(str(brief.get("topic", ""))), _short(str(brief.get("audience", "")) or "everyone", 6)
    phrases = [p.format(t=topic, a=audience) for p in _PHRASES[lang]]
    seed = int(hashlib.sha256(json.dumps(brief, sort_keys=True).encode()).hexdigest(), 16)
    unit = "characters" if brief.get("budget_unit") == "characters" else "words"
    scenes = []
    for n, budget in enumerate(brief["scene_budgets"]):
        shift = (seed + number * 7 + n * 3) % len(phrases)
        order = phrases[shift:] + phrases[:shift]
        scenes.append({"script": _fill(max(1, round(int(budget) * scale)), unit, order,
                                       "" if lang in ("ja", "zh") else " ")})
    return {"title": (title or f"{_STYLES[number % len(_STYLES)]}: {topic}")[:200], "scenes": scenes}


def _brief(messages: Any) -> dict[str, Any] | None:
    """The JSON brief in the last user message, or ``None`` when it is not one."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"] if isinstance(messages, list) else []
    if not users or not isinstance(users[-1].get("content"), str):
        return None
    try:
        brief = json.loads(users[-1]["content"])
    except ValueError:
        return None
    budgets = brief.get("scene_budgets") if isinstance(brief, dict) else None
    if not (isinstance(budgets, list) and 1 <= len(budgets) <= MAX_SCENES
            and all(isinstance(b, int) and 1 <= b <= MAX_BUDGET for b in budgets)):
        return None
    return brief


def draft_content(brief: dict[str, Any]) -> dict[str, Any]:
    """The reply document for a brief: ``{"variations": [...]}`` (deterministic for equal briefs)."""
    if brief.get("task") == "revise":
        original = brief.get("variation") if isinstance(brief.get("variation"), dict) else {}
        instruction = str(brief.get("instruction", ""))[:80]
        scale = 0.7 if "short" in instruction.lower() else 1.3 if "long" in instruction.lower() else 1.0
        title = f"{str(original.get('title', '')).strip() or 'Variation'} (revised: {instruction.strip()})"
        return {"variations": [_variation(brief, 0, scale, title[:200])]}
    count = brief.get("variations", 3)
    count = count if isinstance(count, int) and 1 <= count <= MAX_VARIATIONS else 3
    return {"variations": [_variation(brief, n) for n in range(count)]}


def _completion(request: Request, model: str, content: str, prompt_chars: int) -> JSONResponse:
    digest = hashlib.sha256(f"{model}\n{content}".encode()).hexdigest()[:24]
    return JSONResponse({
        "id": f"chatcmpl-sandbox-{digest}", "object": "chat.completion", "created": int(sandbox_of(request).now()),
        "model": model, "system_fingerprint": "sandbox",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4,
                  "total_tokens": prompt_chars // 4 + len(content) // 4},
    })


async def chat_completions(request: Request) -> Response:
    """``POST /v1/chat/completions``: a deterministic draft for a brief; a body without ``model`` or a
    ``messages`` list raises :class:`ApiError` 400 naming it, over 1 MB 413."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "request_too_large", "Request body is larger than 1 MB.")
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client gave up (e.g. a timeout after the "slow" fault)
        return Response(status_code=499)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "request_too_large", "Request body is larger than 1 MB.")
    body = parse_json(raw)
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError(400, "invalid_request_error", "model is required.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_request_error", "messages must be a non-empty list.", "messages")
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    fault = request.scope.get("state", {}).get("fault")
    brief = _brief(messages)
    if fault == "badcontent":
        content = "Sure! Here are three great scripts for you."
    elif brief is None:
        content = "The sandbox model writes script drafts; send a JSON brief as the user message."
    elif fault == "badshape":
        content = json.dumps({"drafts": [{"text": "A script in the wrong place."}]})
    else:
        content = json.dumps(draft_content(brief), ensure_ascii=False)
    return _completion(request, body["model"], content, prompt_chars)


ROUTES = [Route("/v1/chat/completions", chat_completions, methods=["POST"])]
