"""Text from a lesson file, a learner or a problem message is shown as written:
never read as Textual/rich markup (issue: a key `'[/nope]'` crashed the catalogue)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.widgets import DataTable

import autograd_tutor.ui
from autograd_tutor.ui.screens.catalogue import CatalogueScreen
from autograd_tutor.ui.screens.confirm import Confirm
from autograd_tutor.ui.screens.intro import IntroScreen
from autograd_tutor.ui.screens.summary import SummaryScreen

from .pilot import answer, make_app, past_intro, play, text_of, type_text, wait_until

HOSTILE = "[/nope] [b]bold?[/b] [link=file:///etc/passwd]x[/link] [@click=app.quit]q[/] $var"

LESSON = f"""\
format: 1
id: hostile
title: "T {HOSTILE}"
summary: "S {HOSTILE}"
tags: ["[/nope]", "[b]"]
intro: |
  I {HOSTILE}
recap: "R {HOSTILE}"
inputs:
  x: {{value: 2.0, requires_grad: true}}
nodes:
  y: x**2
steps:
  - forward: y
    prompt: "P {HOSTILE}"
    hint: ["H {HOSTILE}", "[red]second[/red]"]
    answer: "4"
    mistakes:
      - answer: "5"
        feedback: "F {HOSTILE}"
    explain: "E {HOSTILE}"
  - predict: x.grad
    answer: None
"""

BROKEN = """\
format: 1
id: broken
title: Broken
'[/nope]': 1
inputs: {x: 1.0}
nodes: {y: x}
"""


def test_hostile_strings_in_every_place_are_shown_literally(data_dir, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "01-hostile.yaml").write_text(LESSON)
    (course / "02-broken.yaml").write_text(BROKEN)
    app = make_app(data_dir, paths=(course,))

    async def scenario(pilot):
        assert "unknown field '[/nope]'" in text_of(app, "#problems")
        table = app.screen.query_one(DataTable)
        title = str(table.get_row_at(0)[1])  # shortened to fit its column, never parsed
        assert title.startswith("T [/nope] [b]bold?[/b] [link=") and f"T {HOSTILE}".startswith(title.rstrip("…"))
        details = text_of(app, "#details")
        assert f"T {HOSTILE}" in details and f"S {HOSTILE}" in details and "[/nope], [b]" in details
        await pilot.press("ctrl+g")  # a confirmation quoting the title
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert f"T {HOSTILE}" in str(app.screen.query_one("#question").render())
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogueScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IntroScreen))
        assert f"I {HOSTILE}" in text_of(app, "#intro")
        await past_intro(pilot)
        assert f"P {HOSTILE}" in text_of(app, "#prompt")
        await pilot.press("ctrl+t", "ctrl+t")
        feedback = text_of(app, "#feedback")
        assert f"H {HOSTILE}" in feedback and "[red]second[/red]" in feedback
        await answer(pilot, "5")
        assert f"F {HOSTILE}" in text_of(app, "#feedback")
        await type_text(pilot, "[/nope]")  # the learner's own text, live
        assert "✗" in text_of(app, "#status")
        await pilot.press(*["backspace"] * 8)
        await answer(pilot, "4")
        assert f"E {HOSTILE}" in text_of(app, "#explain")
        await pilot.press("enter")
        await answer(pilot, "[/nope]")
        await pilot.press("ctrl+r", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        summary = text_of(app, "#summary")
        assert f"R {HOSTILE}" in summary and f"F {HOSTILE}" in summary

    play(app, scenario)


UI = Path(autograd_tutor.ui.__file__).parent


def _markup_risks(file: Path, root: Path = UI) -> list[str]:
    """Calls that would read a computed string as markup: notify() without markup=False,
    Static/Label built from a non-constant without markup=False, update() given an f-string."""
    found = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        plain = any(
            k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False for k in node.keywords
        )
        computed = any(not isinstance(a, ast.Constant) for a in node.args[:1])
        where = f"{file.relative_to(root)}:{node.lineno}"
        if name == "notify" and not plain:
            found.append(f"{where}: notify without markup=False")
        elif name in ("Static", "Label") and computed and not plain:
            found.append(f"{where}: {name} of computed text without markup=False")
        elif name == "update" and node.args and isinstance(node.args[0], ast.JoinedStr | ast.BinOp):
            found.append(f"{where}: update() with a string built in place")
    return found


def test_the_ui_never_hands_computed_text_to_the_markup_parser():
    # the preview's own screens (preview.py, problems.py) write constant markup only; their owner tests them
    files = [f for f in sorted(UI.rglob("*.py")) if f.name not in ("preview.py", "problems.py")]
    assert [hit for f in files for hit in _markup_risks(f)] == []


def test_the_scan_sees_what_it_looks_for(tmp_path):
    sample = tmp_path / "ui" / "sample.py"
    sample.parent.mkdir()
    sample.write_text('self.notify(f"x {y}")\nStatic(text)\nw.update(f"[b]{t}")\nLabel("fixed")\n')
    assert len(_markup_risks(sample, sample.parent)) == 3
