"""Settings: mode, API key check, credit, catalog refresh, storage, worker and webhooks."""

from ui.frame import frame
from ui.settings_page import render

ctx = frame("Settings", icon=":material/settings:")
render(ctx)
