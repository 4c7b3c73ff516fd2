"""Compose: your drafts, the reel and scene editor, listen before you pay, estimate and launch."""

from ui.compose import compose_page
from ui.frame import frame

ctx = frame("Compose", icon=":material/movie_edit:")
compose_page(ctx)
