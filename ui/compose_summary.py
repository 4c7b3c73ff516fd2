"""Compose's summary: what is left to do before launch, the per-scene cost table, which fields were visited.

A brand-new draft has nothing wrong yet, only things still to do, so problems read as a neutral
checklist; a problem turns red next to its field once the field was *visited*: edited in this tab,
or holding a value (a wrong value is always worth saying). Scene costs come from
:func:`core.reels.estimate.scene_costs`, so each stays put when another scene changes and the
lines add up to the total as shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import streamlit as st

from core.reels import estimate as estimates
from core.reels import validation
from ui.text import plain

_SCENE_FIELD = re.compile(r"^scenes\[(\d+)\]\.(\w+)$")
#: Scene attributes whose edits count as visits, as :class:`core.reels.validation.SceneInput` names them.
SCENE_FIELDS = ("avatar_id", "voice_id", "script", "speed", "pitch", "locale", "background_color")
SETTINGS_FIELDS = ("title", "aspect_ratio", "resolution", "captions", "engine")


def touched(rid: int) -> set[str]:
    """Fields of reel ``rid`` edited in this tab (``"title"``, ``"scenes[2].script"`` …)."""
    return st.session_state.setdefault("c_touched", {}).setdefault(rid, set())


def mark_edits(rid: int, reel: Any, settings: dict[str, Any], scenes: Iterable[Any]) -> None:
    """Record as touched every field whose widget value differs from the stored ``reel``."""
    seen = touched(rid)
    seen.update(k for k, v in settings.items() if k in SETTINGS_FIELDS and v != getattr(reel, k))
    stored = sorted(reel.scenes, key=lambda s: s.position)
    for n, (new, old) in enumerate(zip(scenes, stored, strict=False), start=1):
        seen.update(f"scenes[{n}].{a}" for a in SCENE_FIELDS if (getattr(new, a) or None) != (getattr(old, a) or None))


def _has_value(reel: Any, field: str) -> bool:
    match = _SCENE_FIELD.match(field)
    if match:
        scenes = sorted(reel.scenes, key=lambda s: s.position)
        n, attr = int(match.group(1)), match.group(2)
        if not 1 <= n <= len(scenes):
            return True
        value = getattr(scenes[n - 1], attr, None)
        return value not in (None, "") and not (isinstance(value, str) and not value.strip())
    if field in ("title",):
        return bool((reel.title or "").strip())
    return True  # reel-wide problems (scene count, resolution for the looks) always show


def visited(rid: int, reel: Any, problems: list[validation.Problem]) -> set[str]:
    """Problem fields to show in red: touched in this tab, or holding a (wrong) value."""
    seen = touched(rid)
    return {p.field for p in problems if p.field in seen or _has_value(reel, p.field)}


def checklist(problems: list[validation.Problem], shown_red: set[str]) -> None:
    """What is left before launch: a neutral to-do list; visited problems in red."""
    count = len(problems)
    lines = []
    for p in problems[:8]:
        message = plain(p.message)  # messages quote user text (ids, titles): shown as text, never Markdown
        lines.append(f"- :red[{message}]" if p.field in shown_red else f"- {message}")
    if count > 8:
        lines.append(f"- … and {count - 8} more, listed in their scenes")
    st.info(f"**{count} thing{'s' * (count != 1)} to do before launch**\n" + "\n".join(lines),
            icon=":material/checklist:")


def breakdown(reel: Any, index: Any, estimate: validation.Estimate, measured: dict[int, float], *,
              look_name: Callable[[str | None], str], voice_name: Callable[[str | None], str]) -> None:
    """The per-scene table: look, voice, characters, length, cost and what timed it; plus a line for
    what billing in whole seconds adds, so the costs sum to the estimate shown above."""
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    split = estimates.scene_costs(reel, index, estimate)
    rows = []
    for n, (scene, seconds, cost) in enumerate(zip(scenes, estimate.scene_durations, split.scenes, strict=True),
                                               start=1):
        script = (scene.script or "").strip()
        rows.append({"Scene": str(n), "Avatar look": look_name(scene.avatar_id) or "—",
                     "Voice": voice_name(scene.voice_id) or "—", "Characters": len(script),
                     "Seconds": round(seconds, 1), "Cost": float(cost),
                     "From": "preview" if scene.position in measured else ("word count" if script else "—")})
    if split.rounding:
        rows.append({"Scene": "", "Avatar look": "Billed in whole seconds", "Voice": "", "Characters": None,
                     "Seconds": None, "Cost": float(split.rounding), "From": ""})
    cc = st.column_config
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"c_breakdown_{reel.id}",
                 placeholder="", column_config={
                     "Scene": cc.TextColumn(width=55),
                     "Avatar look": cc.TextColumn(),
                     "Voice": cc.TextColumn(),
                     "Characters": cc.NumberColumn("Chars", format="%d", width=60,
                                                   help="Script characters, of 5,000 per scene"),
                     "Seconds": cc.NumberColumn("Length", format="%.1f s", width=70),
                     "From": cc.TextColumn("Timed by", width=110,
                                           help="'preview': measured from the scene you listened to; "
                                                "'word count': about 150 words per minute."),
                     "Cost": cc.NumberColumn("Cost", format="$%.2f", width=70,
                                             help="Each scene's seconds at its price; the rounding line is what "
                                                  "HeyGen's whole-second billing adds"),
                 })
