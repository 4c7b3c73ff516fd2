"""Voices: HeyGen's voice catalog, filterable and shareable by URL, with previews and team annotations."""

from ui.frame import frame
from ui.voices import voices_page

ctx = frame("Voices", icon=":material/record_voice_over:")
voices_page(ctx)
