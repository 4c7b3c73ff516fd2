"""Reels as the team writes them: drafts, scenes, launch rules, estimates, prices, speech samples and
the ``POST /v3/videos`` body. Creates no videos.

May import: ``core.catalog``, ``core.access``, ``core.heygen`` and the foundations. Never jobs or board.
"""
