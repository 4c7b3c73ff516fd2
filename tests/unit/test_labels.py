"""core.compose pure functions: unique picker labels, durations and times for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.board.text import format_seconds, human_ago
from core.catalog.index import unique_labels
from core.models import Reel, Scene
from core.reels.drafts import display_title, first_open_scene


def test_unique_labels_disambiguate_only_shared_labels() -> None:
    names = {"aaaaaa11": "Ivy", "bbbbbb22": "Ivy", "cccccc33": "Mark"}
    labels = unique_labels(list(names), names.get)
    assert labels == {"aaaaaa11": "Ivy · aaaaaa", "bbbbbb22": "Ivy · bbbbbb", "cccccc33": "Mark"}
    assert len(set(labels.values())) == len(labels)


def test_format_seconds_and_human_ago() -> None:
    assert [format_seconds(s) for s in (0, 42.4, 59.6, 65)] == ["0 s", "42 s", "1 min 00 s", "1 min 05 s"]
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ago = [human_ago(now - timedelta(seconds=s), now) for s in (5, 300, 7200, 86400, 3 * 86400)]
    assert ago == ["just now", "5 min ago", "2 h ago", "24 h ago", "3 days ago"]


def test_display_title_and_first_open_scene() -> None:
    assert display_title("  ", 7) == "Untitled reel #7"
    assert display_title("Launch", 7) == "Launch"
    reel = Reel()
    reel.scenes = [Scene(position=2, voice_id=None, avatar_id="look"), Scene(position=1, voice_id="v", avatar_id=None)]
    assert first_open_scene(reel, voice=True, avatar=False) == 2
    assert first_open_scene(reel, voice=False, avatar=True) == 1
    assert first_open_scene(reel, voice=True, avatar=True) is None
    assert first_open_scene(reel, voice=False, avatar=False) is None
