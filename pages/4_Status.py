"""Status: every reel, its stage and progress, refreshed from the database every few seconds."""

from ui.frame import frame
from ui.status import render

ctx = frame("Status", icon=":material/monitoring:")
render(ctx)
