"""Lookups over one catalog snapshot: voices and looks by id, their labels for pickers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from core.catalog.normalise import (
    clean_text,
    clean_voice_name,
    locales_for,
    normalise_gender,
    normalise_language,
)
from core.heygen.types import AvatarLook, Voice


class CatalogIndex:
    """Dict lookups over one catalog snapshot, for pickers, validation (core.reels) and the worker.

    ``voices``/``looks`` keep catalog order; duplicate ids keep their first occurrence.
    """

    def __init__(self, voices: Sequence[Voice], looks: Sequence[AvatarLook]) -> None:
        self.voices: list[Voice] = list(voices)
        self.looks: list[AvatarLook] = list(looks)
        self._voices: dict[str, Voice] = {}
        self._looks: dict[str, AvatarLook] = {}
        for v in self.voices:
            self._voices.setdefault(v.voice_id, v)
        for lk in self.looks:
            self._looks.setdefault(lk.id, lk)

    def voice(self, voice_id: str | None) -> Voice | None:
        """The voice with this id, or ``None``."""
        return self._voices.get(voice_id) if voice_id else None

    def look(self, look_id: str | None) -> AvatarLook | None:
        """The look with this id (the ``avatar_id`` of a scene), or ``None``."""
        return self._looks.get(look_id) if look_id else None

    def locales(self, voice_id: str | None) -> list[str]:
        """Locale tags the voice accepts (:func:`locales_for`); ``[]`` for unknown ids."""
        v = self.voice(voice_id)
        return locales_for(v.language, v.support_locale) if v else []

    def voice_label(self, voice_id: str | None) -> str:
        """Picker label, e.g. ``"Derya (Lifelike · Excited) · Turkish · female"``; unknown ids as
        ``"Unknown voice (<id>)"``."""
        v = self.voice(voice_id)
        if v is None:
            return f"Unknown voice ({voice_id})"
        name, style = clean_voice_name(v.name)
        head = f"{name} ({style})" if style else name
        return f"{head} · {normalise_language(v.language)} · {normalise_gender(v.gender)}"

    def look_label(self, look_id: str | None) -> str:
        """Picker label, e.g. ``"Abigail (Upper Body) · studio avatar · landscape"``; unknown ids as
        ``"Unknown avatar (<id>)"``."""
        lk = self.look(look_id)
        if lk is None:
            return f"Unknown avatar ({look_id})"
        parts = [clean_text(lk.name) or lk.id, (lk.avatar_type or "").replace("_", " ")]
        if lk.preferred_orientation:
            parts.append(lk.preferred_orientation)
        return " · ".join(p for p in parts if p)


def unique_labels(ids: Sequence[str], label: Callable[[str], str]) -> dict[str, str]:
    """``{id: label(id)}`` where labels shared by several ids get `` · <first 6 characters of the id>``
    appended, so every label names exactly one id (pickers send the label, not the id, back)."""
    labels = {i: label(i) for i in dict.fromkeys(ids)}
    counts = Counter(labels.values())
    return {i: f"{text} · {i[:6]}" if counts[text] > 1 else text for i, text in labels.items()}


@lru_cache(maxsize=4)
def voice_labels(index: Any) -> dict[str, str]:
    """Unique picker labels of every voice of a :class:`core.catalog.index.CatalogIndex` (cached per index)."""
    return unique_labels([v.voice_id for v in index.voices], index.voice_label)


@lru_cache(maxsize=4)
def look_labels(index: Any) -> dict[str, str]:
    """Unique picker labels of every avatar look of a :class:`core.catalog.index.CatalogIndex` (cached per index)."""
    return unique_labels([lk.id for lk in index.looks], index.look_label)
