"""User text is text: escape anything people typed before it reaches Streamlit's Markdown.

Titles, owner and display names, notes, tags, failure messages and scripts are shown through
widget labels, captions, alerts and toasts, all of which render Markdown (links and images
included). :func:`plain` backslash-escapes every ASCII punctuation character (CommonMark allows
escaping any of them), so ``[x](https://evil.example)`` and ``![](http://tracker/p.png)`` show as
typed, and Streamlit's own ``:red[…]`` and ``:material/…:`` directives are inert. Escapes do not
stop GFM's *autolink literals* (``https://…``, ``www.…``, ``name@host``; verified in Chromium), so
an invisible WORD JOINER (U+2060) also follows every ``:`` and ``@`` and splits ``www.``. Line
breaks become spaces: these are one-line places.
"""

from __future__ import annotations

import re
import string

#: Invisible, zero-width, and not a line-break opportunity: breaks autolink literals, not the text.
WORD_JOINER = "\u2060"
_ESCAPES = {ord(ch): "\\" + ch for ch in string.punctuation}
_ESCAPES.update({ord(":"): "\\:" + WORD_JOINER, ord("@"): "\\@" + WORD_JOINER})
_ESCAPES.update({ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)


def plain(text: object) -> str:
    """``text`` (any value, ``None`` → ``""``) made safe to embed in Markdown as literal text."""
    if text is None:
        return ""
    return _WWW.sub(r"\1" + WORD_JOINER, str(text)).translate(_ESCAPES)
