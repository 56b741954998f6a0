"""The presenter on its own: what any front end shows, from a real session and torch."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from autograd_tutor.expr.display import format_fitted, format_value, shape_text
from autograd_tutor.lesson.loader import library, load
from autograd_tutor.present.chain import chain_lines
from autograd_tutor.present.course import course_progress, next_lesson, resume_at
from autograd_tutor.present.graph import draw, graph_facts, in_words, step_names
from autograd_tutor.present.plot import plot_view
from autograd_tutor.present.spans import plain
from autograd_tutor.present.summary import jupyter, save, script, summary_view
from autograd_tutor.present.text import markdown_to_plain
from autograd_tutor.session import LessonSession

from .pilot import COURSE, FIXTURES, UI_LESSONS

TENSORS = FIXTURES.parent / "tensors"
COURSE_LESSONS = {lesson.id: lesson for lesson in library([COURSE])[0]}


def session_of(lesson_id: str) -> LessonSession:
    return LessonSession(COURSE_LESSONS[lesson_id], variant=0)  # the authored numbers


def play_through(session: LessonSession, until=lambda s: False) -> LessonSession:
    """Reveal each step and go on, until `until(session)` holds or the lesson ends."""
    while not until(session):
        if session.is_open:
            session.reveal(derivative=False)
        if not session.advance():
            break
    return session


def test_the_graph_is_drawn_with_its_branches_and_joins():
    lines, _ = draw(graph_facts(session_of("two-paths-add"), True), 34)
    text = plain(lines)
    assert "├─┐ ∂a/∂x = ?" in text  # x branches into a and b
    assert "├─┘ ∂y/∂a = ?" in text  # a and b join into y
    assert re.search(r"◆ x\n(.*\n)*│ ● a = x·x\n(.*\n)*● │ b = sin\(x\)\n(.*\n)*● y = a \+ b", text)
    lines, _ = draw(graph_facts(session_of("neuron-example-1"), True), 34)
    assert "├───┘ ∂z/∂b = ?" in plain(lines)  # three arguments joined into z


def test_the_focus_row_is_the_node_or_edge_asked_about():
    session = session_of("capstone-two-layer-network")
    play_through(session, lambda s: s.step.kind == "local" and s.step.target == ("z1", "w1"))
    lines, focus = draw(graph_facts(session, True), 34)
    assert plain(lines).splitlines()[focus].endswith("∂z1/∂w1 = ?")
    for width in (20, 34, 60):  # every line fits the width it was drawn for
        lines, _ = draw(graph_facts(session, True), width)
        assert max(len(line) for line in plain(lines).splitlines()) <= width


def test_the_chain_product_builds_up_from_the_factors_found():
    session = session_of("chain-rule-sin-square")
    play_through(session, lambda s: s.step.kind == "local" and s.step.target == ("y", "x"))
    assert plain(chain_lines(session, True)).splitlines() == [
        "towards dz/dx: ∂z/∂y · ∂y/∂x",
        "             = -0.9577 · ?",
    ]
    play_through(session, lambda s: s.step.kind == "gradient")
    assert plain(chain_lines(session, True)).splitlines() == ["dz/dx = ∂z/∂y · ∂y/∂x", "      = -0.9577 · 8 = ?"]
    session.reveal(derivative=False)
    assert plain(chain_lines(session, True)).endswith("= -7.6613")
    two = play_through(session_of("two-paths-add"), lambda s: s.step.kind == "gradient")
    assert plain(chain_lines(two, True)).splitlines()[0] == "dy/dx = ∂y/∂a · ∂a/∂x + ∂y/∂b · ∂b/∂x"


def test_a_gradient_found_by_hand_shortens_the_chain_below_it():
    session = play_through(
        session_of("capstone-two-layer-network"), lambda s: s.step.kind == "gradient" and s.step.target == "w2"
    )
    symbols, numbers = plain(chain_lines(session, True)).splitlines()
    assert symbols == "dloss/dw2 = dloss/dz2 · ∂z2/∂w2"
    assert re.fullmatch(r" +=  ?-?[0-9.]+ · -?[0-9.]+ = \?", numbers)


def test_the_graph_in_words_labels_torch_apart_from_the_learner():
    session = play_through(session_of("chain-rule-sin-square"), lambda s: s.step.kind == "predict")
    session.reveal(derivative=False)
    words = in_words(graph_facts(session, True), step_names(session))
    assert words == ["x: value 4; torch's .grad -7.6613; leaf · requires grad; found by hand dz/dx = -7.6613."]


def test_markdown_is_read_out_as_plain_text():
    text = markdown_to_plain("A **bold** `x.grad`, *said*:\n\n```python\ny.backward()\n```\n\n- one\n- two")
    assert text == "A bold x.grad, said:\n\n    y.backward()\n\n- one\n- two"
    assert "**" not in text and "`" not in text


def test_a_plot_only_for_derivative_steps_of_scalars_and_the_tangent_once_answered():
    session = play_through(session_of("chain-rule-sin-square"), lambda s: s.step.kind == "local")
    view = plot_view(session)
    assert view is not None and view.slope is None and view.point == (16.0, pytest.approx(-0.2879, abs=1e-4))
    session.reveal(derivative=False)
    assert plot_view(session).slope == pytest.approx(-0.9577, abs=1e-4)
    assert plot_view(play_through(session_of("gradient-of-a-mean"), lambda s: s.step.kind == "local")) is None
    assert plot_view(session_of("gradients-accumulate")) is None  # a run step


@pytest.mark.parametrize(
    ("lesson_id", "code"),
    [
        ("gradients-accumulate", ["x.grad.zero_()", "print(x.grad)  # 12", "y.backward(retain_graph=True)"]),
        ("leaves-and-non-leaves", ["y.retain_grad()", "print(y.grad)  # None"]),
        ("turning-tracking-off", ["x = x.detach()", "with torch.no_grad():", "x.requires_grad_(False)"]),
    ],
)
def test_the_summary_code_is_what_the_lesson_did(lesson_id, code, tmp_path):
    view = summary_view(play_through(session_of(lesson_id)))
    for line in code:
        assert line in view.code
    path = save(view, tmp_path, "py")
    assert path == tmp_path / f"{lesson_id}.py"
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr  # an operation that raised is caught, as in the lesson
    printed = iter(result.stdout.splitlines())
    for line in path.read_text().splitlines():  # each print's output is what its comment says torch gave
        match = re.match(r"\s*print\((\w+(?:\.\w+)?)\)  # (.*)", line)
        if match:
            out = next(printed)
            expected = match.group(2)
            assert expected.split(":")[0] in out or _same_number(out, expected), (line, out)


def _same_number(printed: str, expected: str) -> bool:
    numbers = re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", printed)
    return bool(numbers) and all(abs(float(a) - float(b)) < 1e-3 for a, b in zip(numbers, expected.split(", ")))


def test_the_notebook_is_valid_and_saving_never_overwrites(tmp_path):
    view = summary_view(play_through(session_of("gradients-accumulate")))
    book = nbformat.reads(jupyter(view), as_version=4)
    nbformat.validate(book)
    code = [c.source for c in book.cells if c.cell_type == "code"]
    assert "\n\n".join(code) + "\n" == view.code
    first, second = save(view, tmp_path, "ipynb"), save(view, tmp_path, "ipynb")
    assert (first.name, second.name) == ("gradients-accumulate.ipynb", "gradients-accumulate-2.ipynb")
    assert script(view).startswith("# Gradients accumulate until you clear them\n#\n# - ")


def test_the_recap_is_authored_or_the_first_sentences_read(tmp_path):
    authored = summary_view(play_through(LessonSession(load(UI_LESSONS / "three-hints.yaml"))))
    assert authored.recap == "The power rule: **d/dx x² = 2x**."
    source = (COURSE / "03-chain-rule.yaml").read_text()
    without = re.sub(r"^recap: \|\n(?:  .*\n)+", "", source, flags=re.M)
    assert without != source
    (tmp_path / "chain.yaml").write_text(without)
    read = summary_view(play_through(LessonSession(load(tmp_path / "chain.yaml"), variant=0)))
    assert read.recap.splitlines()[0] == "- dz/dx = 2x·cos(x²)."


def test_the_score_tells_first_tries_from_later_solves():
    session = LessonSession(load(FIXTURES / "chain.yaml"))
    session.submit("16")
    session.advance()
    session.submit("sin(4)")
    session.submit("sin(16)")
    session.advance()
    session.hint()
    session.reveal(derivative=False)
    assert summary_view(session).score == "Score 2/5: 1 at the first try, 1 after a mistake · 1 revealed · 1 hint"


def test_course_progress_next_lesson_and_where_to_resume():
    lessons = list(COURSE_LESSONS.values())
    assert course_progress(lessons, {}) == f"Course: 0/{len(lessons)} lessons done"
    assert next_lesson(lessons, lessons[0].id) is lessons[1] and next_lesson(lessons, lessons[-1].id) is None
    assert resume_at(lessons, {}, None) == lessons[0].id
    assert resume_at(lessons, {}, lessons[4].id) == lessons[4].id


def test_the_presenter_plain_mode_and_bounded_calls_need_no_ui():
    """One presenter for every front end: nothing in it (or in --plain) imports Textual or rich."""
    import ast
    from pathlib import Path

    import autograd_tutor

    package = Path(autograd_tutor.__file__).parent
    files = [*sorted((package / "present").glob("*.py")), package / "plain.py", package / "bounded.py"]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in ("textual", "rich") or ".ui" in n for n in names), file
                assert not (isinstance(node, ast.ImportFrom) and node.level and (node.module or "").startswith("ui"))


ALL_LESSONS = [lesson for folder in (COURSE, FIXTURES, FIXTURES.parent / "tensors") for lesson in library([folder])[0]]


@pytest.mark.parametrize("lesson", ALL_LESSONS, ids=lambda lesson: lesson.id)
def test_every_step_of_every_lesson_presents_within_the_width(lesson):
    """Vectors, matrices, backprop steps, runs: each step, before and after it is
    revealed, gives a step view, a graph that fits 30 columns, words and a plot or none;
    the end gives a summary that saves as a script and a notebook."""
    from autograd_tutor.present.step import Keys, step_view

    keys = Keys("h", "r", "n")
    session = LessonSession(lesson)
    while True:
        for _ in range(2):
            step_view(session, True, keys)
            graph = graph_facts(session, True)
            lines, focus = draw(graph, 30)
            assert max(len(line) for line in plain(lines).splitlines()) <= 30 and 0 <= focus < len(lines)
            assert in_words(graph, step_names(session)) or not step_names(session)
            plot_view(session)
            if session.is_open:
                session.reveal(derivative=False)
        if not session.advance():
            break
    view = summary_view(session)
    nbformat.validate(nbformat.reads(jupyter(view), as_version=4))
    assert script(view).count("\n") > 3


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=12), elements=st.floats(-1e4, 1e4)),
    st.integers(8, 90),
)
def test_a_value_fitted_to_a_width_is_whole_or_names_its_shape_and_shows_only_true_leading_entries(value, width):
    from .test_tensor_lessons import agrees, read_value

    text = format_fitted(value, width)
    if text == format_value(value):
        return
    floor = len(shape_text(value)) + len(" […]")
    assert len(text) <= max(width, floor)
    assert text.startswith(shape_text(value) + " [")
    shape, shown = read_value(text)
    assert agrees(shown, torch.from_numpy(value), shape)


def test_summary_code_prints_a_wide_gradient_whole_under_its_print():
    view = summary_view(LessonSession(load(TENSORS / "linear-layer.yaml")))
    code = view.code
    compile(code, "<summary>", "exec")  # still Python
    assert "print(W.grad)  # 3×2:\n# [[0.0003329,   -0.1918],\n#  [ 0.002884,   -0.3909],\n" in code
    assert "print(b.grad)  # [-0.001885, -0.1845]" in code


def test_a_reveal_says_each_fact_once():
    """A run: the code, torch's error and the outcome once; a model answer only when it
    says more than torch's value (a formula, not the same word again)."""
    from autograd_tutor.plain import KEYS
    from autograd_tutor.present.step import feedback_lines

    session = session_of("turning-tracking-off")
    play_through(session, lambda s: s.step.kind == "run" and s.step.takes_answer and s.expected() == "error")
    session.reveal(derivative=False)
    text = plain(feedback_lines(session, True, KEYS))
    assert text.count("outcome: error") == 1 and text.count("does not require grad") == 1
    assert "torch says" not in text and "model answer" not in text
    session = session_of("turning-tracking-off")
    play_through(session, lambda s: s.step.kind == "predict" and s.step.answer is not None)
    session.reveal(derivative=False)
    text = plain(feedback_lines(session, True, KEYS))
    assert text.count(f"torch says: {session.step.answer}") == 1 and "model answer" not in text
    formula = session_of("derivative-of-x-squared")
    play_through(formula, lambda s: s.step.kind == "gradient")
    formula.reveal(derivative=False)
    text = plain(feedback_lines(formula, True, KEYS))
    assert "torch says: 6" in text or "torch says: 4" in text
    assert f"model answer: {formula.step.answer}" in text and formula.step.answer != formula.truth().text


def test_authors_code_spans_are_styled_never_shown_as_backticks():
    """Hints, authored feedback and a chosen option are the author's Markdown-ish text: a
    `code` span is drawn as code, and no front end (nor a screen reader) gets a backtick."""
    from autograd_tutor.plain import KEYS
    from autograd_tutor.present.step import feedback_lines, verdict_lines

    seen = 0
    for lesson_id in COURSE_LESSONS:
        session = session_of(lesson_id)
        while True:
            step = session.step
            for mistake in step.mistakes:
                lines = verdict_lines(session, session.check(mistake.answer), mistake.answer)
                assert "`" not in plain(lines), (lesson_id, step.index, mistake.answer)
                seen += "`" in mistake.feedback and any(s.style == "code" for spans in lines for s in spans)
            if session.is_open:
                while session.hint() is not None:
                    pass
                assert "`" not in plain(feedback_lines(session, True, KEYS)), (lesson_id, step.index)
                session.reveal(derivative=False)
                assert "`" not in plain(feedback_lines(session, True, KEYS)), (lesson_id, step.index)
            if not session.advance():
                break
    assert seen >= 10  # the course's feedback does use code spans
