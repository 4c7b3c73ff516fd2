"""What people read about reels: rows, stage text, progress and stuck estimates, the incremental
board, history, the Home summary and finished videos. Never changes a reel.

May import: every other core package and the foundations.
"""
