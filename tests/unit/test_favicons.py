"""Every page's favicon is a local PNG, so no page asks fonts.gstatic.com for its icon."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ui.frame import PAGES, favicon


def test_each_page_icon_maps_to_a_local_png() -> None:
    for _, _, icon in PAGES:
        path = Path(favicon(icon))
        assert path.is_file(), icon
        with Image.open(path) as image:
            assert image.size == (64, 64) and image.getbbox() is not None  # not blank


def test_other_icons_pass_through() -> None:
    assert favicon("🎬") == "🎬"
    assert favicon(":material/not_drawn_here:") == ":material/not_drawn_here:"
