"""Reel Studio home: what needs attention, new videos, counts, credit and your recent reels.

Run with ``streamlit run app.py``; every other page lives in ``pages/``.
"""

from ui.frame import frame
from ui.home import render

ctx = frame("Home", icon=":material/home:")
render(ctx)
