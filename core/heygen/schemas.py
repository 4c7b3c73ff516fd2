"""HeyGen v3 request/response JSON Schemas, converted for strict validation.

Source: ``core/data/heygen_v3_schemas.json.gz`` (85 v3 endpoints from HeyGen's official CLI; top level
``{"endpoints": [{"method", "endpoint", "request_schema", "response_schema", "params", "path_params",
"paginated", ...}]}``). The raw schemas are OpenAPI-3.0 flavoured and need conversions before a JSON-Schema
validator can enforce what the live API enforces:

* ``nullable: true`` becomes ``type: [t, "null"]`` (and ``null`` joins an ``enum``);
* every ``oneOf`` + ``discriminator`` becomes a dispatch on the discriminator value: the union requires the
  discriminator property, restricts it to the known values (so an unknown value is reported on the
  discriminator param itself) and applies exactly one variant through ``if``/``then`` (so errors come from
  the chosen variant only). The variant for a value is the one whose discriminator property description says
  "Must be 'x'" / "Always 'x'" (or whose default is ``x``); asset inputs are picked by their required key
  (``url`` → ``url``, ``asset_id`` → ``asset_id``, ``data`` → ``base64``);
* request schemas only: ``additionalProperties: false`` on every object schema with ``properties``
  (HeyGen rejects unknown fields with 400);
* request schemas only: the limits HeyGen states in prose (docs §1.5, §4.1, §4.5, §6.1) become keywords:
  studio scenes 1–50, ``script`` ≤ 5,000 characters, ``voice_settings`` speed 0.5–1.5 / pitch −50..50 /
  volume 0–1, studio ``background.color`` ``#RRGGBB``, image scene ``duration`` > 0 and ≤ 300 s, batch
  videos 1–100, TTS ``text`` 1–5,000 characters and ``speed`` 0.5–2.0.

Cross-field rules that JSON Schema expresses badly (exactly one audio source per speaking scene, ``voice_id``
with ``script``, image scene ``duration`` xor audio) are checked in Python by :func:`validate_request`.

Returned schema dicts are cached and shared: treat them as read-only.
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "data" / "heygen_v3_schemas.json.gz"

SCRIPT_MAX_CHARS = 5000
STUDIO_MAX_SCENES = 50
IMAGE_SCENE_MAX_DURATION_S = 300
HEX_COLOR_PATTERN = "^#[0-9A-Fa-f]{6}$"
AUDIO_SOURCES = ("script", "audio_url", "audio_asset_id")

_VARIANT_VALUE_RE = re.compile(r"(?:Must be|Always) '([^']+)'")
_ASSET_KEYS = {"url": "url", "asset_id": "asset_id", "data": "base64"}
_DISCRIMINATOR_MARK = "x-discriminator"
_MESSAGES = "x-messages"

# Prose-only limits: (parent property or "*", property) -> extra JSON-Schema keywords.
_VIDEO_RULES: dict[tuple[str, str], dict[str, Any]] = {
    ("*", "script"): {"maxLength": SCRIPT_MAX_CHARS},
    ("voice_settings", "speed"): {"minimum": 0.5, "maximum": 1.5},
    ("voice_settings", "pitch"): {"minimum": -50, "maximum": 50},
    ("voice_settings", "volume"): {"minimum": 0, "maximum": 1},
    ("background", "color"): {
        "pattern": HEX_COLOR_PATTERN,
        _MESSAGES: {"pattern": "must be a 6-digit hex colour like #1A2B3C."},
    },
    ("*", "scenes"): {
        "minItems": 1,
        "maxItems": STUDIO_MAX_SCENES,
        _MESSAGES: {
            "minItems": f"must contain 1 to {STUDIO_MAX_SCENES} scenes.",
            "maxItems": f"must contain 1 to {STUDIO_MAX_SCENES} scenes.",
        },
    },
    ("scenes", "duration"): {"exclusiveMinimum": 0, "maximum": IMAGE_SCENE_MAX_DURATION_S},
    ("watermark", "opacity"): {"minimum": 0, "maximum": 1},
    ("playback", "volume"): {"minimum": 0, "maximum": 1},
    ("", "videos"): {"minItems": 1, "maxItems": 100},
}
_SPEECH_RULES: dict[tuple[str, str], dict[str, Any]] = {
    ("", "text"): {"minLength": 1, "maxLength": SCRIPT_MAX_CHARS},
    ("", "speed"): {"minimum": 0.5, "maximum": 2.0},
}
_EXTRA_RULES = {
    ("POST", "/v3/videos"): _VIDEO_RULES,
    ("POST", "/v3/videos/batches"): _VIDEO_RULES,
    ("POST", "/v3/voices/speech"): _SPEECH_RULES,
}

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


@dataclass(frozen=True)
class Violation:
    """One request problem: ``param`` is a dotted path (``scenes.0.input.voice_id``; ``body`` for the
    whole body) and ``message`` a short human sentence that starts with the param."""

    param: str
    message: str


# --------------------------------------------------------------------------------------------------
# Loading


@functools.cache
def load_schemas() -> dict:
    """The parsed schema file: ``{"note", "source_repo", ..., "endpoints": [85 endpoint dicts]}``.

    Cached per process. Raises ``OSError``/``json.JSONDecodeError`` if the vendored file is missing or broken.
    """
    with gzip.open(SCHEMA_FILE, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _endpoint_index() -> dict[tuple[str, str], dict]:
    return {(e["method"].upper(), e["endpoint"]): e for e in load_schemas()["endpoints"]}


def endpoint(method: str, path_template: str) -> dict | None:
    """The raw endpoint record for ``method`` + ``path_template`` (e.g. ``"GET", "/v3/voices/{voice_id}"``),
    or ``None`` if the file does not describe it. Keys: ``method``, ``endpoint``, ``summary``,
    ``description``, ``request_schema``, ``response_schema``, ``params``, ``path_params``, ``paginated``…"""
    return _endpoint_index().get((method.upper(), path_template))


def _require_endpoint(method: str, path_template: str) -> dict:
    ep = endpoint(method, path_template)
    if ep is None:
        raise KeyError(f"no HeyGen v3 schema for {method.upper()} {path_template}")
    return ep


# --------------------------------------------------------------------------------------------------
# Conversion


def _variant_value(variant: dict, prop: str, mapping: Mapping[str, str]) -> str:
    """The discriminator value that selects ``variant`` (see module docstring)."""
    disc = variant.get("properties", {}).get(prop, {})
    for value in _VARIANT_VALUE_RE.findall(disc.get("description", "")):
        if value in mapping:
            return value
    if disc.get("default") in mapping:
        return disc["default"]
    for key, value in _ASSET_KEYS.items():
        if key in variant.get("required", ()) and value in mapping:
            return value
    raise ValueError(f"cannot tell which {prop!r} value selects variant {variant.get('description', '')!r}")


def _union(schema: dict, variants: list[dict]) -> dict:
    """Replace ``oneOf`` + ``discriminator`` by a discriminator dispatch (``allOf`` of ``if``/``then``)."""
    prop = schema["discriminator"]["propertyName"]
    mapping = schema["discriminator"].get("mapping", {})
    by_value: dict[str, dict] = {}
    for variant in variants:
        value = _variant_value(variant, prop, mapping)
        if value in by_value:
            raise ValueError(f"two variants claim {prop}={value!r}")
        by_value[value] = variant
    out = {k: schema[k] for k in ("description", "title", "default") if k in schema}
    out["type"] = ["object", "null"] if schema.get("nullable") else "object"
    out["required"] = [prop]
    out["properties"] = {prop: {"type": "string", "enum": sorted(by_value)}}
    out["allOf"] = [
        {"if": {"type": "object", "required": [prop], "properties": {prop: {"const": value}}}, "then": variant}
        for value, variant in sorted(by_value.items())
    ]
    out[_DISCRIMINATOR_MARK] = prop
    return out


def _nullable(schema: dict) -> dict:
    schema = dict(schema)
    if not schema.pop("nullable", False):
        return schema
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def convert_schema(schema: Any, *, strict: bool) -> Any:
    """Return a converted deep copy of an OpenAPI-flavoured ``schema`` (see module docstring).

    ``strict=True`` (requests) also injects ``additionalProperties: false`` into every object schema that
    has ``properties``. Raises ``ValueError`` if a ``oneOf`` variant cannot be tied to a discriminator value.
    """
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: convert_schema(v, strict=strict) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = convert_schema(out["items"], strict=strict)
    if "oneOf" in out and "discriminator" in out:
        return _union(out, [convert_schema(v, strict=strict) for v in out["oneOf"]])
    out = _nullable(out)
    if strict and isinstance(out.get("properties"), dict):
        out.setdefault("additionalProperties", False)
    return out


def _children(schema: dict, parent: str) -> Iterator[tuple[dict, str]]:
    """Sub-schemas of ``schema`` with the name of their nearest enclosing property."""
    if isinstance(schema.get("items"), dict):
        yield schema["items"], parent
    for part in schema.get("allOf", ()):
        yield part.get("then", part), parent


def _apply_rules(schema: dict, rules: Mapping[tuple[str, str], dict], parent: str = "") -> None:
    """Add prose-only limits in place, matched by (enclosing property, property) name."""
    for name, prop in (schema.get("properties") or {}).items():
        extra = rules.get((parent, name)) or rules.get(("*", name))
        if extra:
            prop.update(copy.deepcopy(extra))
        _apply_rules(prop, rules, name)
    for child, child_parent in _children(schema, parent):
        _apply_rules(child, rules, child_parent)


@functools.cache
def request_schema(method: str, path_template: str) -> dict | None:
    """Strict JSON Schema (Draft 2020-12) of the request body of ``method path_template``, or ``None`` when
    the endpoint takes no body. Raises ``KeyError`` for an endpoint the schema file does not describe."""
    raw = _require_endpoint(method, path_template).get("request_schema")
    if not raw:
        return None
    schema = convert_schema(raw, strict=True)
    rules = _EXTRA_RULES.get((method.upper(), path_template))
    if rules:
        _apply_rules(schema, rules)
    return schema


@functools.cache
def response_schema(method: str, path_template: str) -> dict | None:
    """JSON Schema of the success body (``{"data": …}``) of ``method path_template``; unknown fields are
    allowed (responses may grow). ``None`` if undocumented; ``KeyError`` for an unknown endpoint."""
    raw = _require_endpoint(method, path_template).get("response_schema")
    return convert_schema(raw, strict=False) if raw else None


@functools.cache
def _validator(kind: str, method: str, path_template: str) -> Draft202012Validator | None:
    schema = (request_schema if kind == "request" else response_schema)(method.upper(), path_template)
    return Draft202012Validator(schema) if schema is not None else None


# --------------------------------------------------------------------------------------------------
# Error messages


def _dotted(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path)


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child


def _num(value: float) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _range_phrase(schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"between {_num(low)} and {_num(high)}"
    parts = []
    if low is not None:
        parts.append(f"at least {_num(low)}")
    if schema.get("exclusiveMinimum") is not None:
        parts.append(f"greater than {_num(schema['exclusiveMinimum'])}")
    if high is not None:
        parts.append(f"at most {_num(high)}")
    if schema.get("exclusiveMaximum") is not None:
        parts.append(f"less than {_num(schema['exclusiveMaximum'])}")
    return " and ".join(parts)


def _type_phrase(expected: str | list[str]) -> str:
    kinds = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)


def _enum_phrase(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) for v in values if v is not None)


def _plural(n: int, word: str) -> str:
    return f"{_num(n)} {word}" + ("" if n == 1 else "s")


def _error_violations(error: ValidationError) -> list[Violation]:
    """Turn one jsonschema error into violations with dotted params and short sentences."""
    path = _dotted(error.absolute_path)
    keyword, value, schema = error.validator, error.validator_value, error.schema
    instance = error.instance
    if keyword == "required":
        missing = [p for p in value if isinstance(instance, dict) and p not in instance]
        return [Violation(_join(path, p), f"{_join(path, p)} is required.") for p in missing]
    if keyword == "additionalProperties":
        known = schema.get("properties", {})
        extra = [k for k in instance if k not in known]
        return [Violation(_join(path, k), f"{_join(path, k)} is not a known field.") for k in extra]
    param = path or "body"
    custom = (schema.get(_MESSAGES) or {}).get(keyword) if isinstance(schema, dict) else None
    if custom:
        return [Violation(param, f"{param} {custom}")]
    messages = {
        "type": lambda: f"must be {_type_phrase(value)}.",
        "enum": lambda: f"must be one of {_enum_phrase(value)}.",
        "const": lambda: f"must be {value!r}.",
        "maxLength": lambda: f"must be at most {_plural(value, 'character')}.",
        "minLength": lambda: "must not be empty." if value == 1 else f"must be at least {_plural(value, 'character')}.",
        "maxItems": lambda: f"must contain at most {_plural(value, 'item')}.",
        "minItems": lambda: f"must contain at least {_plural(value, 'item')}.",
        "pattern": lambda: "has an invalid format.",
    }
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [Violation(param, f"{param} must be {_range_phrase(schema)}.")]
    text = messages[keyword]() if keyword in messages else error.message
    return [Violation(param, f"{param} {text}")]


def _dedupe(violations: Iterable[Violation]) -> list[Violation]:
    """Keep the first violation per param, in document order of the params."""
    seen: dict[str, Violation] = {}
    for v in violations:
        seen.setdefault(v.param, v)
    return list(seen.values())


def _schema_violations(validator: Draft202012Validator, instance: Any) -> list[Violation]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [v for e in errors for v in _error_violations(e)]


# --------------------------------------------------------------------------------------------------
# Cross-field rules (POST /v3/videos)


def _present(obj: Mapping[str, Any], key: str) -> bool:
    return obj.get(key) is not None


def _audio_violations(obj: Mapping[str, Any], prefix: str, *, silent_ok: bool) -> list[Violation]:
    """Exactly one audio source (``script`` + ``voice_id`` | ``audio_url`` | ``audio_asset_id``) in ``obj``.

    ``silent_ok``: an image scene may instead carry ``duration`` (and then no audio at all)."""
    sources = [k for k in AUDIO_SOURCES if _present(obj, k)]
    has_duration = silent_ok and _present(obj, "duration")
    out: list[Violation] = []
    if has_duration and sources:
        p = _join(prefix, "duration")
        out.append(Violation(p, f"{p} cannot be combined with {sources[0]}: a silent image scene uses "
                                f"duration, a narrated one follows its audio."))
    elif not sources and not has_duration:
        p = _join(prefix, "script")
        need = "duration or exactly one audio source" if silent_ok else "exactly one audio source"
        out.append(Violation(p, f"{p} is required: give {need} (script with voice_id, audio_url or "
                                f"audio_asset_id)."))
    for extra in sources[1:]:
        p = _join(prefix, extra)
        out.append(Violation(p, f"{p} cannot be combined with {sources[0]}: give exactly one audio source."))
    script = obj.get("script")
    if isinstance(script, str) and not script.strip():
        p = _join(prefix, "script")
        out.append(Violation(p, f"{p} must not be empty."))
    if _present(obj, "script") and not _present(obj, "voice_id"):
        p = _join(prefix, "voice_id")
        out.append(Violation(p, f"{p} is required when script is given."))
    return out


def _scene_violations(scene: Any, prefix: str) -> list[Violation]:
    if not isinstance(scene, dict):
        return []
    if scene.get("type") == "avatar_video" and isinstance(scene.get("input"), dict):
        return _audio_violations(scene["input"], _join(prefix, "input"), silent_ok=False)
    if scene.get("type") == "image":
        return _audio_violations(scene, prefix, silent_ok=True)
    return []


def _video_body_violations(body: Any, prefix: str = "") -> list[Violation]:
    """Cross-field rules of one ``POST /v3/videos`` body (docs §4.1, §4.5)."""
    if not isinstance(body, dict):
        return []
    kind = body.get("type")
    if kind in ("avatar", "image"):
        return _audio_violations(body, prefix, silent_ok=False)
    if kind == "studio" and isinstance(body.get("scenes"), list):
        scenes_path = _join(prefix, "scenes")
        return [v for i, s in enumerate(body["scenes"]) for v in _scene_violations(s, f"{scenes_path}.{i}")]
    return []


def _cross_field_violations(method: str, path_template: str, body: Any) -> list[Violation]:
    if (method, path_template) == ("POST", "/v3/videos"):
        return _video_body_violations(body)
    if (method, path_template) == ("POST", "/v3/videos/batches") and isinstance(body, dict):
        videos = body.get("videos") if isinstance(body.get("videos"), list) else []
        return [v for i, item in enumerate(videos) for v in _video_body_violations(item, f"videos.{i}")]
    return []


# --------------------------------------------------------------------------------------------------
# Public validation API


def validate_request(method: str, path_template: str, body: Any) -> list[Violation]:
    """Problems HeyGen would answer with 400 ``invalid_parameter`` for this JSON ``body``; ``[]`` if valid.

    Checks the strict converted schema (unknown fields, types, enums, discriminators, prose limits) and, for
    ``POST /v3/videos`` (and each item of ``POST /v3/videos/batches``), the cross-field audio rules. Params
    are dotted paths; at most one violation per param, sorted by param. An endpoint without a request
    schema accepts only an absent/empty body. Raises ``KeyError`` for an endpoint not in the schema file.
    """
    method = method.upper()
    validator = _validator("request", method, path_template)
    if validator is None:
        _require_endpoint(method, path_template)
        return [] if body in (None, {}) else [Violation("body", "body must be empty for this endpoint.")]
    found = _schema_violations(validator, body)
    found += _cross_field_violations(method, path_template, body)
    return sorted(_dedupe(found), key=lambda v: _sort_key(v.param))


def _sort_key(param: str) -> list[tuple[int, Any]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in param.split(".")]


def validate_response(method: str, path_template: str, payload: Any) -> list[str]:
    """Messages (``"data.0.voice_id is required."``) for where ``payload`` breaks the documented success
    body of ``method path_template``; ``[]`` when it conforms or no response schema is documented.
    Extra fields are allowed; one message per param, sorted by param. Raises ``KeyError`` for an endpoint not in the schema file."""
    validator = _validator("response", method.upper(), path_template)
    if validator is None:
        _require_endpoint(method, path_template)
        return []
    found = _dedupe(_schema_violations(validator, payload))
    return [v.message for v in sorted(found, key=lambda v: _sort_key(v.param))]


def _coerce(value: Any, kind: str) -> Any:
    """A query value (string, or already typed) as ``kind`` (``int``/``float64``/``string``); ValueError."""
    if kind == "int":
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", str(value).strip()):
            raise ValueError
        return int(str(value).strip())
    if kind == "float64":
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    return str(value)


def _query_violation(spec: Mapping[str, Any], raw: Any) -> Violation | None:
    name, kind = spec["json_name"], spec.get("type", "string")
    try:
        value = _coerce(raw, kind)
    except (TypeError, ValueError):
        return Violation(name, f"{name} must be {'an integer' if kind == 'int' else 'a number'}.")
    if spec.get("enum") and value not in spec["enum"]:
        return Violation(name, f"{name} must be one of {_enum_phrase(spec['enum'])}.")
    low, high = spec.get("min"), spec.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return Violation(name, f"{name} must be {_range_phrase({'minimum': low, 'maximum': high})}.")
    return None


def validate_query(method: str, path_template: str, params: Mapping[str, Any]) -> list[Violation]:
    """Check query ``params`` (name → string or typed value, e.g. Starlette ``QueryParams``) against the
    endpoint's documented query parameters: integer/number syntax, ``enum``, ``min``/``max``, required.

    An empty string counts as absent (HeyGen's defaults apply); undocumented names are ignored. Returns
    violations with ``param`` = the query name (e.g. ``Violation("limit", "limit must be between 1 and
    100.")``). Raises ``KeyError`` for an endpoint not in the schema file.
    """
    out: list[Violation] = []
    for spec in _require_endpoint(method, path_template).get("params") or ():
        name = spec["json_name"]
        raw = params.get(name)
        if raw is None or raw == "":
            if spec.get("required"):
                out.append(Violation(name, f"{name} is required."))
            continue
        problem = _query_violation(spec, raw)
        if problem:
            out.append(problem)
    return out
