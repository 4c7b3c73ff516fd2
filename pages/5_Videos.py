"""Videos: watch finished reels, download MP4 and subtitles, refresh expired links."""

from ui.frame import frame
from ui.videos import render

ctx = frame("Videos", icon=":material/video_library:")
render(ctx)
