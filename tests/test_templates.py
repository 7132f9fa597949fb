"""Template files: format validation, content hash, strict rendering, sandbox, images."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from edtune.errors import TemplateError
from edtune.templates import list_template_names, load_template, load_template_file, parse_template

GOOD = """+++
name = "greet"
description = "Says hello."
task = "greeting"
images = true

[variables]
who = "Whom to greet."
items = "Things to list."
+++
=== system ===
You are polite.
=== user ===
Hello {{ who }}!
{% for item in items %}
- {{ item }}
{% endfor %}
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "prompts").mkdir()
    for name, text in files.items():
        (tmp_path / "prompts" / f"{name}.jinja").write_text(text, encoding="utf-8")
    return tmp_path


def test_render_gives_messages_and_lists_variables(tmp_path: Path) -> None:
    template = load_template("greet", _project(tmp_path, {"greet": GOOD}))
    assert template.variables() == {"who", "items"}
    messages = template.render({"who": "Ada", "items": ["a", "b"], "unused": 1})
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[0].content == "You are polite."
    assert messages[1].content == "Hello Ada!\n- a\n- b"
    assert list_template_names(tmp_path) == ["greet"]


def test_hash_is_stable_and_changes_with_any_edit(tmp_path: Path) -> None:
    project = _project(tmp_path, {"greet": GOOD})
    first = load_template("greet", project).hash
    assert load_template("greet", project).hash == first
    path = project / "prompts" / "greet.jinja"
    path.write_text(GOOD.replace("Says hello.", "Says hi."), encoding="utf-8")
    assert load_template("greet", project).hash != first
    path.write_text(GOOD, encoding="utf-8")
    assert load_template("greet", project).hash == first


def test_missing_variable_names_template_and_variable(tmp_path: Path) -> None:
    template = load_template("greet", _project(tmp_path, {"greet": GOOD}))
    with pytest.raises(TemplateError, match=r"'greet'.*who"):
        template.render({"items": []})


def test_sandbox_refuses_python_internals() -> None:
    text = GOOD.replace("Hello {{ who }}!", "Hello {{ who }}! {{ ''.__class__.__mro__ }}")
    template = parse_template(text.encode(), origin="evil")
    with pytest.raises(TemplateError, match="sandbox"):
        template.render({"who": "x", "items": []})


def test_sandbox_refuses_calling_unsafe_attributes() -> None:
    text = GOOD.replace("Hello {{ who }}!", "{{ who.__init__.__globals__ }}")
    with pytest.raises(TemplateError, match="sandbox"):
        parse_template(text.encode(), origin="evil").render({"who": "x", "items": []})


@pytest.mark.parametrize(("text", "problem"), [
    (GOOD.replace("+++\nname", "name", 1), "must start"),
    (GOOD.replace('task = "greeting"', "task = "), "not valid TOML"),
    (GOOD.replace('description = "Says hello."\n', ""), "description"),
    (GOOD.replace('task = "greeting"', 'task = "greeting"\ncolour = "red"'), "colour"),
    (GOOD.replace("Hello {{ who }}!", "Hello {{ whom }}!"), "whom used but not listed"),
    (GOOD.replace('items = "Things to list."', 'items = "Things to list."\nextra = "x"'), "extra listed"),
    (GOOD.replace("{% endfor %}", ""), "syntax error"),
    (GOOD.replace("=== system ===", "=== robot ==="), "before the first"),
])
def test_invalid_files_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        parse_template(text.encode(), origin="bad.jinja")


def test_render_errors_of_the_template_become_template_errors() -> None:
    template = parse_template(GOOD.replace("Hello {{ who }}!", "Hello {{ who * 2 }}!").encode(), origin="t")
    with pytest.raises(TemplateError, match="'greet' failed to render: TypeError"):
        template.render({"who": None, "items": []})


def test_a_file_outside_prompts_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "draft.jinja"
    path.write_text(GOOD, encoding="utf-8")
    assert load_template_file(path).name == "greet" and load_template_file(path).path == path
    with pytest.raises(TemplateError, match="cannot read"):
        load_template_file(tmp_path / "missing.jinja")


def test_file_name_must_match_front_matter_name(tmp_path: Path) -> None:
    project = _project(tmp_path, {"other": GOOD})
    with pytest.raises(TemplateError, match="differs from the file name"):
        load_template("other", project)
    with pytest.raises(TemplateError, match=r"no template 'nope'.*known: other"):
        load_template("nope", project)


def test_images_become_data_uri_parts_of_the_first_user_message(tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    Image.new("RGB", (2, 2), "red").save(image)
    template = parse_template(GOOD.encode(), origin="greet")
    messages = template.render({"who": "Ada", "items": []}, images=[image, "data:image/png;base64,AAAA"])
    parts = messages[1].content
    assert isinstance(parts, list)
    assert [p.type for p in parts] == ["image_url", "image_url", "text"]
    assert parts[0].image_url is not None and parts[0].image_url.startswith("data:image/png;base64,")
    assert parts[1].image_url == "data:image/png;base64,AAAA"
    assert parts[2].text == "Hello Ada!"
    assert messages[0].content == "You are polite."


def test_images_refused_by_a_text_only_template() -> None:
    template = parse_template(GOOD.replace("images = true", "images = false").encode(), origin="greet")
    with pytest.raises(TemplateError, match="does not take images"):
        template.render({"who": "Ada", "items": []}, images=["data:image/png;base64,AAAA"])


def test_every_shipped_template_loads() -> None:
    names = list_template_names()
    assert {"first_wrong_step", "step_check", "answer_switch", "missing_skills", "required_skills"} <= set(names)
    for name in names:
        template = load_template(name)
        assert template.meta.description and len(template.hash) == 16
