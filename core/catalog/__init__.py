"""HeyGen's voices and looks as we show and check them: clean values, tables, filters, lookups, the
shared store, team annotations.

May import: ``core.access``, ``core.heygen`` and the foundations. Never reels, jobs or board.
"""
