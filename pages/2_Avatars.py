"""Avatars: a gallery of HeyGen avatar looks, filterable and shareable by URL."""

from ui.avatars import avatars_page
from ui.frame import frame

ctx = frame("Avatars", icon=":material/face:")
avatars_page(ctx)
