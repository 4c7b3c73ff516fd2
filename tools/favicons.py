"""Draw the pages' favicons (``ui/icons/<name>.png``) from the Material Symbols font bundled with Streamlit.

Streamlit turns a ``:material/...:`` page icon into a request to fonts.gstatic.com, which fails offline; the
pages use these local PNGs instead. Run after adding a page: ``.venv/bin/python tools/favicons.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui.frame import PAGES  # noqa: E402

ICONS = tuple(icon.removeprefix(":material/").removesuffix(":") for _, _, icon in PAGES)
COLOUR = (91, 75, 219, 255)  # theme.primaryColor #5B4BDB
SIZE_PX = 64


def main() -> None:
    """Write one PNG per page icon (:data:`ICONS`, from ``ui.frame.PAGES``) to ``ui/icons/``."""
    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    font = ImageFont.truetype(str(next(media.glob("MaterialSymbols-Rounded*.woff2"))), SIZE_PX)
    out = ROOT / "ui" / "icons"
    out.mkdir(exist_ok=True)
    for name in ICONS:
        image = Image.new("RGBA", (SIZE_PX, SIZE_PX), (0, 0, 0, 0))
        ImageDraw.Draw(image).text((SIZE_PX / 2, SIZE_PX / 2), name, font=font, fill=COLOUR, anchor="mm")
        image.save(out / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
