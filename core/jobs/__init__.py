"""A launched reel's life: launch, cancel, retry, each status change as one conditional UPDATE,
the worker lease, the worker loop and the webhook receiver. The only package that creates videos.

May import: ``core.reels``, ``core.catalog``, ``core.access``, ``core.heygen`` and the foundations.
Never board. ``python -m core.jobs`` runs the standalone worker.
"""
