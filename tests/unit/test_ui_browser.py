"""The fixed browser scripts and CSS: Streamlit's sanitiser must keep them, and selectors must hit the keys."""

from __future__ import annotations

import pytest

from ui import browser


@pytest.fixture
def drawn(monkeypatch) -> list[tuple[str, bool]]:
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(browser.st, "html", lambda body, unsafe_allow_javascript=False: calls.append(
        (body, unsafe_allow_javascript)))
    return calls


@pytest.mark.parametrize("helper", [
    lambda: browser.scroll_into_view("v_detail"), lambda: browser.collapse_when_narrow("v_filters"),
    browser.keyboard_row_selection, lambda: browser.autosave_text_areas('[class*="st-key-c_r"][class*="_script"]'),
])
def test_scripts_survive_the_sanitiser(drawn, helper):
    """DOMPurify drops a script whose text has "<" before a word character (``n<30`` did): none has "<"."""
    helper()
    (body, js), = drawn
    script = body.removeprefix("<script>").removesuffix("</script>")
    assert js and body.startswith("<script>") and "<" not in script


def test_a_script_with_a_less_than_sign_is_refused(drawn):
    with pytest.raises(ValueError, match="must not contain"):
        browser._script("if (n<30) go();")


def test_css_key_matches_streamlits_class_names():
    assert browser.css_key("c_r12_s2_script") == "st-key-c_r12_s2_script"
    assert browser.css_key("a b/c") == "st-key-a-b-c"


def test_the_current_page_is_marked_by_its_menu_link(drawn):
    browser.page_style("Voices")
    (body, js), = drawn
    assert not js and '[href="Voices"]' in body and ':not([href="Voices"]):focus' in body
