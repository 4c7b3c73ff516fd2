"""Share: one finished video at a link, played from the archive."""

from ui.frame import frame
from ui.share import render

ctx = frame("Shared video", icon=":material/share:")
render(ctx)
