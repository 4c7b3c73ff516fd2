"""In-page timing for ``bench/browser.py``: the input event's timestamp and the moment the DOM shows the result.

Both times are read in the page's own clock (``performance.now()``), so the driver's own latency
(Playwright's round trips) is not part of any figure.
"""

from __future__ import annotations

#: Added to every page before its scripts run: remembers when the page sent each websocket message
#: (a widget change or a fragment's timer tick is one message to the server).
INIT = """
(() => {
  const sends = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    sends.push(performance.now());
    if (sends.length > 2000) sends.splice(0, 1000);
    return send.call(this, data);
  };
  window.__bench = {sends, start: null, done: null, text: null, observer: null, listener: null};
})();
"""

#: Arms one measurement. ``startEvent`` (e.g. ``keydown``, ``pointerdown``; ``startKey`` narrows a
#: keydown to one key) marks the start with the event's own timestamp; without one, the start is now.
#: The result is the first DOM mutation after which an element matching ``sel`` has text matching
#: ``re`` (and, with ``changed``, a text other than the one it had when armed; with ``gridCount``,
#: a data grid whose ``aria-rowcount`` is the caption's "N of" count plus its header row).
ARM = """
({startEvent, startKey, sel, re, changed, gridCount}) => {
  const b = window.__bench;
  if (b.observer) b.observer.disconnect();
  if (b.listener) window.removeEventListener(b.listenerType, b.listener, true);
  b.start = startEvent ? null : performance.now();
  b.done = null; b.text = null;
  const rx = new RegExp(re);
  const current = () => {
    for (const el of document.querySelectorAll(sel)) {
      const t = el.textContent;
      if (rx.test(t)) return t;
    }
    return null;
  };
  const before = changed ? current() : null;
  const result = () => {
    const t = current();
    if (t === null || (changed && t === before)) return null;
    if (gridCount) {
      const m = t.match(/([\\d,]+) of/);
      if (!m) return null;
      const rows = String(parseInt(m[1].replace(/,/g, ''), 10) + 1);
      const grids = document.querySelectorAll("[data-testid='stDataFrame'] table[aria-rowcount]");
      if (![...grids].some(g => g.getAttribute('aria-rowcount') === rows)) return null;
    }
    return t;
  };
  if (startEvent) {
    b.listenerType = startEvent;
    b.listener = (e) => { if (b.start === null && (!startKey || e.key === startKey)) b.start = e.timeStamp; };
    window.addEventListener(startEvent, b.listener, true);
  }
  b.observer = new MutationObserver(() => {
    if (b.done !== null || b.start === null) return;
    const t = result();
    if (t !== null) { b.done = performance.now(); b.text = t; b.observer.disconnect(); }
  });
  b.observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  return before;
}
"""

DONE = "() => window.__bench.done !== null"

#: What an armed measurement saw: times in ms of the page's clock, plus its time origin (epoch ms).
READ = """
() => {
  const b = window.__bench;
  const sent = b.sends.filter(t => t <= b.done);
  return {start: b.start, done: b.done, text: b.text, origin: performance.timeOrigin,
          lastSend: sent.length ? sent[sent.length - 1] : null};
}
"""
