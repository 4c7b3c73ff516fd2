"""Reels as the team writes them: drafts, scenes, launch rules, estimates, prices, speech samples, the
``POST /v3/videos`` body, script drafts from a topic (asked of a chat model) and every script's history.
Creates no videos.

May import: ``core.catalog``, ``core.access``, ``core.heygen`` and the foundations. Never jobs or board.
"""
