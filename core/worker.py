"""``python -m core.worker``: the former name of ``python -m core.jobs``, kept for one release."""

from __future__ import annotations

from core.jobs.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
