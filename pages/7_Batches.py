"""Batches: a template and a spreadsheet in, one reel per row out."""

from ui.batches import render
from ui.frame import frame

ctx = frame("Batches", icon=":material/table_view:")
render(ctx)
