"""Templates: Jinja2 variables in titles and scripts, strict about missing values, sandboxed."""

from __future__ import annotations

import pytest

from core.reels.templates import (
    TemplateError,
    is_reserved,
    render_reel,
    render_text,
    scene_overrides,
    template_variables,
)


def test_variables_are_found_in_title_and_scripts_loop_variables_excluded() -> None:
    names = template_variables("Hi {{ first_name }}", ["Welcome to {{ team | upper }}.",
                                                       "{% for t in tags %}{{ t }} {% endfor %}{% if vip %}!{% endif %}"])
    assert names == ["first_name", "tags", "team", "vip"]


def test_filters_and_conditions_render() -> None:
    text = "Hi {{ name | title }}{% if vip == 'yes' %}, our VIP{% endif %}."
    assert render_text(text, {"name": "ana lópez", "vip": "yes"}) == "Hi Ana López, our VIP."
    assert render_text(text, {"name": "ben", "vip": "no"}) == "Hi Ben."


def test_a_missing_variable_is_an_error_never_an_empty_string() -> None:
    with pytest.raises(TemplateError, match="Scene 2's script uses first_name, which this row does not have"):
        render_text("Hi {{ first_name }}", {}, "Scene 2's script")


def test_a_syntax_error_names_the_place_and_line() -> None:
    with pytest.raises(TemplateError, match=r"The title has a template error on line 1"):
        template_variables("Hi {{ name ", [])


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(TemplateError, match="may not do"):
        render_text("{{ name.__class__.__mro__[1].__subclasses__() }}", {"name": "x"})


def test_scripts_are_not_html_escaped() -> None:
    assert render_text("{{ company }}", {"company": "Smith & Sons <UK>"}) == "Smith & Sons <UK>"


def test_reserved_columns_override_scene_ids_per_scene_over_all_scenes() -> None:
    assert is_reserved("voice_id") and is_reserved("scene2.avatar_look_id") and not is_reserved("first_name")
    overrides, problems = scene_overrides({"voice_id": "v-all", "scene2.voice_id": "v-2", "scene3.avatar_look_id": "lk",
                                           "scene9.voice_id": "v-9", "scene1.avatar_look_id": " "}, 3)
    assert overrides == {1: {"voice_id": "v-all"}, 2: {"voice_id": "v-2"},
                         3: {"voice_id": "v-all", "avatar_id": "lk"}}
    assert problems == ["Column scene9.voice_id names scene 9, but the template has 3 scenes."]


def test_render_reel_collects_every_problem_and_empty_cells_are_missing_values() -> None:
    out = render_reel("For {{ name }}", ["Hi {{ name }}", "Team {{ team }}"], {"name": "Ana", "team": "  "})
    assert out.title == "For Ana"
    assert [s.script for s in out.scenes] == ["Hi Ana", "Team {{ team }}"]
    assert out.problems == ["Scene 2's script uses team, which this row does not have."]
