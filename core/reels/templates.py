"""Reel templates: titles and scripts with Jinja2 variables, rendered per spreadsheet row.

A template is a draft reel whose ``is_template`` flag is set; it is never launched itself. Its
title and scene scripts may use Jinja2 syntax — ``{{ first_name }}``, filters such as
``{{ name | title }}``, ``{% if vip %}…{% endif %}`` — rendered in Jinja2's sandboxed
environment with ``StrictUndefined``: a variable with no value is an error, never an empty
string. Rendering never autoescapes (scripts are speech, not HTML), and the sandbox refuses
attribute access to Python internals.

Reserved columns override scene fields per row instead of filling variables:
``voice_id`` / ``avatar_look_id`` (every scene) and ``scene<N>.voice_id`` /
``scene<N>.avatar_look_id`` (scene N, 1-based; wins over the all-scenes column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

#: Longest rendered text kept for a title (characters); scripts are checked by validation (5,000).
RENDERED_MAX_CHARS = 100_000
_SCENE_COLUMN_RE = re.compile(r"^scene(\d{1,2})\.(voice_id|avatar_look_id)$")
ALL_SCENES_COLUMNS = ("voice_id", "avatar_look_id")

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateError(ValueError):
    """A template text cannot be parsed or rendered; the message says where, in one sentence."""


@dataclass(frozen=True)
class RenderedScene:
    """One scene after rendering: its script and the ids a row overrides (``None`` = keep the template's)."""

    position: int
    script: str
    voice_id: str | None = None
    avatar_id: str | None = None


@dataclass(frozen=True)
class RenderedReel:
    """A template rendered with one row's values: title, scenes, and every problem found (one sentence each)."""

    title: str
    scenes: list[RenderedScene]
    problems: list[str] = field(default_factory=list)


def is_reserved(column: str) -> bool:
    """True for a column that overrides a scene field (``voice_id``, ``scene2.avatar_look_id``, …)."""
    return column in ALL_SCENES_COLUMNS or _SCENE_COLUMN_RE.match(column) is not None


def _parse(text: str, where: str):
    try:
        return _ENV.parse(text or "")
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where} has a template error on line {exc.lineno}: {exc.message}.") from None


def text_variables(text: str, where: str = "The text") -> set[str]:
    """Names of the variables ``text`` uses (``{{ name }}``, ``{% if vip %}``; loop variables excluded).

    Raises:
        TemplateError: ``text`` is not valid Jinja2 syntax.
    """
    return set(meta.find_undeclared_variables(_parse(text, where)))


def template_variables(title: str, scripts: Iterable[str]) -> list[str]:
    """Sorted names of every variable the title and the scripts use.

    Raises:
        TemplateError: the title or a script is not valid Jinja2 syntax (names which one).
    """
    names = text_variables(title, "The title")
    for n, script in enumerate(scripts, start=1):
        names |= text_variables(script, f"Scene {n}'s script")
    return sorted(names)


def render_text(text: str, values: Mapping[str, Any], where: str = "The text") -> str:
    """``text`` rendered with ``values`` (strings as given; numbers as they print).

    Raises:
        TemplateError: a syntax error, a variable with no value ("Scene 2's script uses
            ``first_name``, which this row does not have."), or an operation the sandbox refuses.
    """
    template = _compiled(text or "", where)
    try:
        out = template.render(**values)
    except UndefinedError as exc:
        name = _undefined_name(str(exc))
        detail = f"uses {name}, which this row does not have" if name else f"cannot be rendered ({exc})"
        raise TemplateError(f"{where} {detail}.") from None
    except SecurityError:
        raise TemplateError(f"{where} uses something templates may not do.") from None
    except Exception as exc:  # a filter given the wrong type, a division by zero, …
        raise TemplateError(f"{where} cannot be rendered with this row ({type(exc).__name__}: {exc}).") from None
    if len(out) > RENDERED_MAX_CHARS:
        raise TemplateError(f"{where} is {len(out):,} characters long once rendered; the limit is "
                            f"{RENDERED_MAX_CHARS:,}.")
    return out


@lru_cache(maxsize=256)
def _compiled(text: str, where: str):
    """The compiled template of ``text`` (a batch renders the same few texts for thousands of rows)."""
    return _ENV.from_string(_parse(text, where))


def _undefined_name(message: str) -> str | None:
    found = re.search(r"'([^']+)' is undefined", message)
    return found.group(1) if found else None


def scene_overrides(values: Mapping[str, Any], scene_count: int) -> tuple[dict[int, dict[str, str]], list[str]]:
    """The reserved columns of one row: ``({position: {"voice_id"|"avatar_id": id}}, problems)``.

    Empty cells override nothing. A ``scene<N>.…`` column beyond the template's scenes is a problem.
    """
    out: dict[int, dict[str, str]] = {}
    problems: list[str] = []
    for column in ALL_SCENES_COLUMNS:
        value = _cell(values.get(column))
        if value:
            for position in range(1, scene_count + 1):
                out.setdefault(position, {})[_field(column)] = value
    for column, raw in values.items():
        match = _SCENE_COLUMN_RE.match(str(column))
        value = _cell(raw)
        if not match or not value:
            continue
        position = int(match.group(1))
        if not 1 <= position <= scene_count:
            problems.append(f"Column {column} names scene {position}, but the template has {scene_count} scenes.")
            continue
        out.setdefault(position, {})[_field(match.group(2))] = value
    return out, problems


def _field(column: str) -> str:
    return "avatar_id" if column.endswith("avatar_look_id") else "voice_id"


def _cell(raw: Any) -> str:
    if raw is None or (isinstance(raw, float) and raw != raw):  # NaN from pandas
        return ""
    return str(raw).strip()


def render_reel(title: str, scripts: list[str], values: Mapping[str, Any]) -> RenderedReel:
    """Render a template's title and scene scripts with one row; every problem is collected, none raised.

    ``values``: column → cell; reserved columns (see the module docstring) are not variables, and an
    empty cell is no value (a script using it gets a "does not have" problem).
    """
    variables = {str(k): v for k, v in values.items() if not is_reserved(str(k)) and _cell(v) != ""}
    problems: list[str] = []
    try:
        rendered_title = render_text(title, variables, "The title")
    except TemplateError as exc:
        problems.append(str(exc))
        rendered_title = title
    overrides, override_problems = scene_overrides(values, len(scripts))
    problems += override_problems
    scenes = []
    for n, script in enumerate(scripts, start=1):
        try:
            text = render_text(script, variables, f"Scene {n}'s script")
        except TemplateError as exc:
            problems.append(str(exc))
            text = script
        fields = overrides.get(n, {})
        scenes.append(RenderedScene(n, text, fields.get("voice_id"), fields.get("avatar_id")))
    return RenderedReel(rendered_title, scenes, problems)
