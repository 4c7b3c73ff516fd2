"""Cross-filtered facet counts (Voices) against the filter mask they sit beside, on the real catalog.

Every Voices rerun with a filter set computes :func:`core.catalog.facets.cross_counts` (each facet's
counts over the voices matching the *other* filters) besides :func:`core.catalog.tables.voice_mask`.
This measures both, alternately, for no filter, Spanish/female/es-MX and a text search, and prints
medians in ms and their ratio. The unfiltered view reuses counts made once per table (``ui.data``).
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.catalog.facets import cross_counts  # noqa: E402
from core.catalog.tables import VoiceFilter, voice_mask, voices_frame  # noqa: E402
from core.heygen.types import Voice  # noqa: E402

RUNS = 60


def main() -> None:
    with gzip.open(ROOT / "core" / "data" / "voices_2026-02-26.json.gz", "rt", encoding="utf-8") as fh:
        raw = json.load(fh)["data"]["voices"]
    frame = voices_frame([Voice(voice_id=r["voice_id"], name=r["name"], language=r["language"], gender=r["gender"],
                                preview_audio_url=r["preview_audio"], support_locale=r["support_locale"])
                          for r in raw])
    cases = {"no filter": VoiceFilter(),
             "Spanish, female, es-MX": VoiceFilter(languages=("Spanish",), genders=("female",), accents=("es-MX",)),
             "search 'lucia'": VoiceFilter(query="lucia")}
    for name, f in cases.items():
        masks, counts = [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            voice_mask(frame, f)
            masks.append(time.perf_counter() - start)
            start = time.perf_counter()
            cross_counts(frame, f)
            counts.append(time.perf_counter() - start)
        m, c = statistics.median(masks) * 1000, statistics.median(counts) * 1000
        print(f"{name:24s} mask {m:6.2f} ms   cross_counts {c:6.2f} ms   ({len(frame):,} voices)")


if __name__ == "__main__":
    main()
