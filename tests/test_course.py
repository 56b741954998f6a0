"""The bundled course in lessons/.

- It validates silently, and every lesson's model answers are judged correct
  and every listed mistake (and wrong option) gets its own feedback, on
  several variants.
- It teaches as docs/course.md promises: mistakes on every answer step, a
  prediction and a `choose` step in every lesson, fading neuron lessons,
  variants on the math lessons, skills practised in several lessons.
- It says nothing torch would contradict: the notebooks' numbers are the
  truths of their steps; every grad_fn name, torch message and number quoted
  in its prose is checked against real torch here; so is every claim about
  torch that no run or predict step shows.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from autograd_tutor.check import play
from autograd_tutor.expr.display import format_value
from autograd_tutor.lesson.files import lesson_files
from autograd_tutor.lesson.loader import Lesson, load
from autograd_tutor.lesson.skills import skills_file
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate

ROOT = Path(__file__).parent.parent
COURSE = ROOT / "lessons"
FILES = lesson_files([COURSE])  # not the skills file
NAMES = [f.name for f in FILES]
NOTEBOOK_TOLERANCE = 1e-4  # the notebooks print 4 decimals
VARIANTS_PLAYED = (0, 4, 13)  # of a lesson with variants; others play variant 0
MATH_KINDS = ("forward", "local", "gradient", "backprop")
NO_GRAPH = "element 0 of tensors does not require grad and does not have a grad_fn"


@cache
def lesson(name: str) -> Lesson:
    return load(COURSE / name)


def model_answers(les: Lesson) -> list[str | None]:
    return [step.answer if step.takes_answer else None for step in les.steps]


@cache
def report(name: str, variant: int = 0) -> dict:
    """check's report of the lesson played with its model answers."""
    les = lesson(name)
    return play(les, model_answers(les), variant)


def file_named(prefix: str) -> str:
    (name,) = [n for n in NAMES if n.startswith(prefix)]
    return name


def variants_of(name: str) -> tuple[int, ...]:
    return VARIANTS_PLAYED if lesson(name).spec.variants else (0,)


def binary(step) -> bool:
    """A step with a single wrong answer: True/False, or ok/error."""
    if step.kind == "run":
        return True
    return step.kind == "predict" and step.target.partition(".")[2] in ("requires_grad", "is_leaf")


# --- the library as a whole ----------------------------------------------------


def test_course_lessons_are_numbered_files_with_unique_ids():
    assert len(FILES) >= 18
    for name in NAMES:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+\.yaml", name), name
    ids = [lesson(n).id for n in NAMES]
    assert len(set(ids)) == len(ids)


def test_validate_is_silent():
    problems = validate([COURSE])
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("name", NAMES)
def test_lesson_has_intro_summary_level_tags_and_skills(name):
    spec = lesson(name).spec
    assert spec.intro and spec.intro.strip()
    assert spec.summary and spec.summary.strip()
    assert spec.level is not None and 1 <= spec.level <= 5
    assert spec.tags and spec.skills


@pytest.mark.parametrize("name", NAMES)
def test_what_a_lesson_says_before_its_steps_gives_no_answer_away(name):
    """The title, summary (also the catalogue's description) and intro come before any
    step: they never name a grad_fn a prediction asks for, nor give ({grad:x}) a
    gradient a step asks for."""
    les = lesson(name)
    spec = les.spec
    before = " ".join([spec.title, spec.summary or "", spec.intro or ""])
    session = LessonSession(les, variant=0)
    for step in les.steps:
        if step.kind == "predict" and str(step.target).endswith(".grad_fn"):
            answer = session.truth(step.index, derivative=False).text
            assert "Backward" not in answer or not re.search(rf"\b{re.escape(answer)}\b", before), (
                f"{answer} (step {step.index + 1}) is told first"
            )
        asked = {"gradient": step.target, "predict": str(step.target).removesuffix(".grad")}.get(step.kind)
        if asked and (step.kind == "gradient" or str(step.target).endswith(".grad")):
            assert "{grad:" + asked + "}" not in (spec.intro or ""), f"the intro gives step {step.index + 1}'s gradient"


MAX_TITLE = 46  # the catalogue's title column at 80 columns, beside number, level and progress


@pytest.mark.parametrize("name", NAMES)
def test_the_title_fits_the_catalogue(name):
    assert len(lesson(name).title) <= MAX_TITLE


@pytest.mark.parametrize("name", NAMES)
def test_every_answerable_step_has_a_model_answer(name):
    for step in lesson(name).steps:
        if step.takes_answer:
            assert step.answer is not None, f"{name} step {step.index} ({step.kind}) has no model answer"


@pytest.mark.parametrize("name", NAMES)
def test_prompts_fit_a_small_terminal(name):
    """Questions are short; code an author writes fits 76 columns (run steps show
    the code of their operations as the lesson generates it)."""
    les = lesson(name)
    for step, spec in zip(les.steps, les.spec.steps or ()):
        if step.kind in ("explain", "choose"):
            continue
        lines = step.prompt.splitlines()
        limit = 10 if step.kind == "run" else 8
        assert len(lines) <= limit and len(step.prompt) <= 400, f"{name} step {step.index}: prompt too long"
        code = re.findall(r"```python\n(.*?)```", spec.prompt or "", re.S)
        assert all(len(line) <= 76 for block in code for line in block.splitlines())


def _runs_in_order(shown: list[str], ran: list[str]) -> bool:
    """Every line shown is, in order, a line that runs (a shown line may write a
    tensor's requires_grad as the value it has in the lesson)."""
    remaining = iter(ran)
    return all(any(line == r or line == _flag_written(r) for r in remaining) for line in shown)


def _logical_lines(code: str) -> list[str]:
    """Lines of code, comments dropped, a line continued inside brackets joined up."""
    lines: list[str] = []
    for raw in code.splitlines():
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        if lines and lines[-1].count("(") + lines[-1].count("[") > lines[-1].count(")") + lines[-1].count("]"):
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.rstrip())
    return [re.sub(r"([(\[]) ", r"\1", re.sub(r",\s+", ", ", line)) for line in lines]


def _flag_written(line: str) -> str:
    return re.sub(r"requires_grad=(\w+)\.requires_grad", lambda m: f"requires_grad={_FLAGS.get(m[1], True)}", line)


_FLAGS: dict[str, bool] = {}


@pytest.mark.parametrize("name", NAMES)
def test_the_code_a_run_step_shows_is_the_code_it_runs(name):
    """A run step's code block shows the lines it runs, in order; an author may
    leave lines out, saying so in a comment (`# the same forward pass`)."""
    les = lesson(name)
    _FLAGS.clear()
    _FLAGS.update(les.computation.requires_grad)
    for step in les.steps:
        if step.kind == "run":
            (shown,) = re.findall(r"```python\n(.*?)```", step.prompt, re.S)
            lines = _logical_lines(shown)
            ran = [line for op in step.target for line in op.code(les.computation)]
            assert lines and _runs_in_order(lines, ran), f"{name} step {step.index}: {lines} is not what runs: {ran}"


# --- played: model answers right, mistakes wrong with their feedback -------------


@pytest.mark.parametrize(("name", "variant"), [(n, k) for n in NAMES for k in variants_of(n)])
def test_model_answers_are_all_correct(name, variant):
    rep = report(name, variant)
    assert rep["variant"] == variant
    wrong = [
        (r["index"], r["verdict"], r["feedback"]) for r in rep["steps"] if r["verdict"] not in ("correct", "shown")
    ]
    assert wrong == []
    assert rep["correct"] == rep["total"] > 0


@pytest.mark.parametrize(("name", "variant"), [(n, k) for n in NAMES for k in variants_of(n)])
def test_every_mistake_and_wrong_option_gets_its_own_feedback(name, variant):
    """Each listed mistake, typed at its step (the steps before answered right),
    is wrong with the author's feedback; so is each wrong option."""
    les = lesson(name)
    session = LessonSession(les, variant=variant)
    checked = 0
    for step in les.steps:
        wrong = [(m.answer, m.feedback) for m in step.mistakes]
        if step.kind == "choose":
            wrong = [(str(i), o.feedback) for i, o in enumerate(step.target.options, 1) if not o.correct]
        for answer, feedback in wrong:
            verdict = session.check(answer)
            assert (verdict.status, verdict.diagnosis) == ("wrong", "authored"), (step.index, answer, verdict)
            assert verdict.feedback == session.text(feedback), (step.index, answer)
            checked += 1
        if step.takes_answer:
            assert session.submit(step.answer).correct, (step.index, step.answer)
        session.advance()
    assert checked > 0


def test_check_command_plays_a_lesson_in_a_subprocess(tmp_path):
    name = file_named("03-")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(model_answers(lesson(name))), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "check", str(COURSE / name), "--answers", str(answers), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lesson"] == lesson(name).id
    assert out["correct"] == out["total"] == report(name)["total"]
    assert [r["verdict"] for r in out["steps"]] == [r["verdict"] for r in report(name)["steps"]]


# --- teaching quality --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_answer_step_lists_the_mistakes_learners_make(name):
    """3 or more mistakes per step; a True/False or ok/error step has only one
    wrong answer, and lists it; a choose step has 3 or more wrong options."""
    for step in lesson(name).steps:
        if not step.takes_answer:
            continue
        if step.kind == "choose":
            wrong = [o for o in step.target.options if not o.correct]
            assert len(wrong) >= 3, f"{name} step {step.index}: {len(wrong)} wrong options"
        elif binary(step):
            assert len(step.mistakes) == 1, f"{name} step {step.index}"
        else:
            assert len(step.mistakes) >= 3, f"{name} step {step.index}: {len(step.mistakes)} mistakes"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


@pytest.mark.parametrize("name", NAMES)
def test_feedback_names_the_cause_without_giving_the_answer(name):
    """Neither the model answer as written, nor the truth as the tutor shows it,
    appears in a mistake's feedback (or a wrong option's)."""
    les = lesson(name)
    session = LessonSession(les)
    for step in les.steps:
        if step.takes_answer:
            truth = session.truth()
            feedbacks = [session.text(m.feedback) for m in step.mistakes]
            if step.kind == "choose":
                right = [step.target.options[n - 1].text for n in step.target.correct]
                feedbacks = [o.feedback for o in step.target.options if not o.correct]
                assert not any(_compact(r) in _compact(f) for r in right for f in feedbacks), step.index
            elif not binary(step) and len(step.answer.strip()) > 1:  # one character: too short to tell
                answers = {_compact(step.answer)}
                if truth.text not in ("True", "False", "ok", "error") and len(truth.text) > 1:
                    answers.add(_compact(truth.text))
                for feedback in feedbacks:
                    words = set(re.findall(r"[\w.]+", feedback.lower()))
                    leaked = [a for a in answers if (a in words if a.isalnum() else a in _compact(feedback))]
                    assert not leaked, f"{name} step {step.index}: {feedback!r} gives {leaked}"
        session.advance()


@pytest.mark.parametrize("name", NAMES)
def test_every_lesson_asks_for_a_prediction_and_then_why(name):
    """A predict step (or a run step that asks for its outcome) before the
    learner sees the result, and a choose step after something torch showed."""
    steps = lesson(name).steps
    predictions = [s.index for s in steps if s.kind == "predict" or (s.kind == "run" and s.takes_answer)]
    shown = [s.index for s in steps if s.kind == "run" or (s.takes_answer and s.kind != "choose")]
    chooses = [s.index for s in steps if s.kind == "choose"]
    assert predictions, "no prediction"
    assert any(c > i for c in chooses for i in shown), "no choose step after a result torch showed"


def test_the_neuron_lessons_fade():
    """Example 2 gives fewer steps and fewer hints than example 1, example 3
    fewer than example 2, and asks for the gradients straight away."""
    one, two, three = (lesson(file_named(p)) for p in ("05-", "06-", "07-"))

    def hints(les):
        return sum(len(s.hints) for s in les.steps)

    assert len(two.steps) < len(one.steps) and hints(two) < hints(one)
    assert len(three.steps) < len(two.steps) and hints(three) < hints(two)
    first = [s.kind for s in three.steps if s.takes_answer][:2]
    assert first == ["gradient", "gradient"]
    assert all(len(s.hints) >= 2 for s in one.steps if s.kind in ("local", "gradient"))


@pytest.mark.parametrize("name", NAMES)
def test_math_lessons_have_variants(name):
    les = lesson(name)
    if any(s.kind in MATH_KINDS for s in les.steps):
        assert les.spec.variants, f"{name} has math steps: give it variants: true"


def course_skills() -> dict[str, list[str]]:
    """skill -> the lessons (file prefixes) that practise it."""
    found: dict[str, list[str]] = {}
    for name in NAMES:
        for skill in lesson(name).skills:
            found.setdefault(skill, []).append(name[:2])
    return found


def test_skills_are_practised_across_the_course():
    known = skills_file(COURSE)
    assert known is not None and known.problems == ()
    practised = course_skills()
    assert set(practised) <= set(known.skills)
    assert len([s for s, where in practised.items() if len(where) >= 2]) >= 22


def course_map() -> str:
    """The course map of docs/course.md: skills × lessons, from the lessons themselves."""
    practised = course_skills()
    numbers = [n[:2] for n in NAMES]
    head = "| skill | " + " | ".join(numbers) + " |"
    rule = "| --- |" + " :-: |" * len(numbers)
    known = skills_file(COURSE).skills
    rows = [
        f"| `{skill}` | " + " | ".join("●" if n in practised.get(skill, ()) else "" for n in numbers) + " |"
        for skill in known
    ]
    return "\n".join([head, rule, *rows])


MAP_START, MAP_END = "<!-- course map: start -->", "<!-- course map: end -->"


def test_the_course_map_in_the_docs_is_current():
    text = (ROOT / "docs" / "course.md").read_text(encoding="utf-8")
    shown = text.split(MAP_START)[1].split(MAP_END)[0].strip()
    assert shown == course_map(), "docs/course.md is stale: run `python tests/test_course.py` to rewrite its map"


def test_the_course_lessons_table_lists_every_lesson():
    text = (ROOT / "docs" / "course.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`{name}`" in text and f"`{lesson(name).id}`" in text, name


def wrong_answers(step) -> int:
    """How many wrong answers the author wrote feedback for at an answer step."""
    if step.kind == "choose":
        return len([o for o in step.target.options if not o.correct])
    return len(step.mistakes)


def quality() -> dict[str, object]:
    """The course's teaching measures, as docs/course.md states them."""
    practised = course_skills()
    answer_steps = [(n, s) for n in NAMES for s in lesson(n).steps if s.takes_answer]
    open_steps = [(n, s) for n, s in answer_steps if not binary(s)]
    neurons = [lesson(file_named(p)) for p in ("05-", "06-", "07-")]
    math_lessons = [n for n in NAMES if any(s.kind in MATH_KINDS for s in lesson(n).steps)]
    return {
        "lessons": len(NAMES),
        "skills named": len(skills_file(COURSE).skills),
        "skills practised in 2+ lessons": len([s for s, where in practised.items() if len(where) >= 2]),
        "skills practised in 1 lesson": sorted(s for s, where in practised.items() if len(where) == 1),
        "answer steps": len(answer_steps),
        "fewest wrong answers at an open step": min(wrong_answers(s) for _, s in open_steps),
        "open steps with fewer than 3 wrong answers": len([1 for _, s in open_steps if wrong_answers(s) < 3]),
        "lessons without a predict step": [
            n[:2] for n in NAMES if not any(s.kind == "predict" for s in lesson(n).steps)
        ],
        "lessons without a choose step": [n[:2] for n in NAMES if not any(s.kind == "choose" for s in lesson(n).steps)],
        "neuron lessons 05/06/07 steps": [len(les.steps) for les in neurons],
        "neuron lessons 05/06/07 hints": [sum(len(s.hints) for s in les.steps) for les in neurons],
        "math lessons": len(math_lessons),
        "math lessons without variants": [n[:2] for n in math_lessons if not lesson(n).spec.variants],
    }


MEASURES_START, MEASURES_END = "<!-- teaching measures: start -->", "<!-- teaching measures: end -->"


def measures_block() -> str:
    """The measures as docs/course.md shows them."""
    lines = "\n".join(f"  {k}: {v}" for k, v in quality().items())
    return f"```console\n$ .venv/bin/python -m pytest tests/test_course.py -q -s -k teaching_measures\n{lines}\n```"


def test_the_course_meets_its_teaching_measures():
    """The measures in one table (`pytest -s` prints it), against the course's bars."""
    q = quality()
    print("\n" + measures_block())  # shown with pytest -s
    shown = (ROOT / "docs" / "course.md").read_text(encoding="utf-8").split(MEASURES_START)[1].split(MEASURES_END)[0]
    assert shown.strip() == measures_block(), "docs/course.md is stale: run `python tests/test_course.py` to rewrite it"
    assert q["lessons"] >= 26
    assert q["skills practised in 2+ lessons"] >= 22 and q["skills practised in 1 lesson"] == []
    assert q["fewest wrong answers at an open step"] >= 3 and q["open steps with fewer than 3 wrong answers"] == 0
    assert q["lessons without a predict step"] == [] and q["lessons without a choose step"] == []
    steps, hints = q["neuron lessons 05/06/07 steps"], q["neuron lessons 05/06/07 hints"]
    assert steps == sorted(steps, reverse=True) and len(set(steps)) == 3
    assert hints == sorted(hints, reverse=True) and len(set(hints)) == 3
    assert q["math lessons without variants"] == []


# --- the notebooks' numbers are the truths of the matching steps ----------------------


def _close(expected, value) -> bool:
    if isinstance(value, list):
        return isinstance(expected, list) and len(expected) == len(value) and all(map(_close, expected, value))
    return isinstance(expected, int | float) and math.isclose(expected, value, rel_tol=0, abs_tol=NOTEBOOK_TOLERANCE)


NOTEBOOK_NUMBERS = [
    # (file prefix, step kind, step target, the number the notebook prints)
    ("01-", "gradient", "x", 4.0),
    ("01-", "predict", "x.grad", 4.0),
    ("01-", "predict", "x.grad", 6.0),
    ("02-", "gradient", "x", 20.0),
    ("02-", "predict", "x.grad", 20.0),
    ("03-", "gradient", "x", -7.6613),
    ("03-", "predict", "x.grad", -7.6613),
    ("05-", "forward", "loss", 6.7012),
    ("05-", "gradient", "w", 6.6918),
    ("05-", "gradient", "b", 0.9988),
    ("05-", "predict", "w.grad", 6.6918),
    ("05-", "predict", "b.grad", 0.9988),
    ("06-", "forward", "loss", 3.4328),
    ("06-", "gradient", "w", 3.2902),
    ("06-", "gradient", "b", 0.9677),
    ("07-", "forward", "loss", 0.0237),
    ("07-", "gradient", "w", -0.0874),
    ("07-", "gradient", "b", -0.0234),
    ("08-", "forward", "y", 4.6667),
    ("08-", "gradient", "x", [0.6667, 1.3333, 2.0]),
    ("08-", "predict", "x.grad", [0.6667, 1.3333, 2.0]),
    ("09-", "predict", "x.grad", 6.0),
    ("09-", "predict", "x.grad", 12.0),
    ("09-", "predict", "x.grad", 0.0),
    # the training step on the neuron of example 1 (issue 12's numbers)
    ("14-", "predict", "w", 0.33082),
    ("14-", "predict", "loss", 2.2304),
    ("14-", "predict", "w.grad", 12.6716),
    ("14-", "predict", "w.grad", 5.9798),
    # x³ at 3: 27, then 18
    ("17-", "predict", "g", 27.0),
    ("17-", "predict", "g2", 18.0),
]


@pytest.mark.parametrize(("prefix", "kind", "target", "value"), NOTEBOOK_NUMBERS)
def test_notebook_number_is_the_truth_of_a_step(prefix, kind, target, value):
    rows = [r for r in report(file_named(prefix))["steps"] if r["kind"] == kind and r["target"] == target]
    assert rows, f"no {kind} step on {target}"
    assert any(_close(r["expected"], value) for r in rows), [r["expected"] for r in rows]


def test_float16_lesson_is_in_float16():
    assert lesson(file_named("02-")).spec.dtype == "float16"


def test_neuron_lessons_model_the_notebook():
    for prefix, x, y in (("05-", 6.7, 0.0), ("06-", 3.4, 0.0), ("07-", 3.73, 1.0)):
        spec = lesson(file_named(prefix)).spec
        assert spec.nodes == {
            "z": "w*x + b",
            "y_pred": "sigmoid(z)",
            "loss": "bce(clamp(y_pred, 1e-8, 1 - 1e-8), y)",
        }
        assert (spec.inputs["x"].value, spec.inputs["y"].value) == (x, y)
        assert (spec.inputs["w"].value, spec.inputs["b"].value) == (1.0, 0.0)
    targets = {(r["kind"], json.dumps(r["target"])) for r in report(file_named("05-"))["steps"]}
    for edge in (["loss", "y_pred"], ["y_pred", "z"], ["z", "w"], ["z", "b"]):
        assert ("local", json.dumps(edge)) in targets, edge


def test_every_notebook_grad_fn_name_is_the_truth_of_a_predict_step():
    truths = {
        r["expected"]
        for name in NAMES
        for r in report(name)["steps"]
        if r["kind"] == "predict" and r["target"].endswith(".grad_fn")
    }
    notebook = {"PowBackward0", "SinBackward0", "AddBackward0", "SigmoidBackward0", "NegBackward0", "MeanBackward0"}
    assert notebook | {"ClampBackward1", "SubBackward0", "MulBackward0"} <= truths


def test_turning_tracking_off_raises_the_notebook_error():
    les = lesson(file_named("11-"))
    session = LessonSession(les)
    kinds = set()
    for step in les.steps:
        if step.kind != "run" or session.truth(step.index).expected != "error":
            continue
        ops = {"no_grad" if getattr(op, "forward", None) == "no_grad" else op.key for op in step.target}
        assert NO_GRAPH in session.truth(step.index).message
        kinds |= ops & {"requires_grad", "detach", "no_grad"}
    assert kinds == {"requires_grad", "detach", "no_grad"}


def test_non_leaf_grad_is_none_until_retain_grad():
    rows = [r for r in report(file_named("10-"))["steps"] if r["kind"] == "predict" and r["target"] == "y.grad"]
    assert [r["expected"] is None for r in rows] == [True, False]


def test_a_hook_on_a_leaf_with_two_paths_prints_once():
    """Lesson 4: the paths are summed before the gradient reaches x."""
    rows = [r for r in report(file_named("04-"))["steps"] if r["kind"] == "run" and r["target"] == ["backward"]]
    assert [r["feedback"] for r in rows] == ["grad of x: tensor(3.0707)"]


# --- nothing in the prose that torch would contradict ---------------------------------


def prose(les: Lesson) -> Iterator[str]:
    """Every text a learner reads in a lesson, as written."""
    spec = les.spec
    yield from (t for t in (spec.title, spec.summary, spec.intro, spec.recap) if t)
    for step in spec.steps or ():
        yield from (t for t in (step.prompt, step.explain, step.choose) if t)
        yield from step.hint or ()
        yield from (m.feedback for m in step.mistakes)
        for option in step.options or ():
            yield from (t for t in (option.text, option.feedback) if t)


# A recap states ideas, not the lesson's numbers (they differ from learner to learner):
# outside code spans it writes only the 0, 1 and 2 of formulas (1 − p, 2x, 1/n), and
# the sigmoid's steepest slope 1/4 (checked in CLAIMS). {name} placeholders are allowed.
RECAP_NUMBERS = {"0", "1", "2", "1/4"}
BARE_NUMBER = r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:/\d+)?(?!\w)"


@pytest.mark.parametrize("name", NAMES)
def test_each_lesson_ends_with_a_recap_of_what_was_learned(name):
    """The summary's "What you learned": the author's few bullets, filled for a variant."""
    from autograd_tutor.present.summary import recap

    les = lesson(name)
    assert les.spec.recap, f"{name} has no recap"
    written = set(re.findall(BARE_NUMBER, re.sub(r"`[^`]*`|\{[^{}]*\}", "", les.spec.recap)))
    assert written <= RECAP_NUMBERS, f"{name}: {sorted(written - RECAP_NUMBERS)} in the recap: use {{name}} or none"
    for variant in (0, 4) if les.spec.variants else (0,):
        text = recap(LessonSession(les, variant=variant))
        lines = text.splitlines()
        assert 2 <= len(lines) <= 6 and all(ln.startswith("- ") for ln in lines), text
        assert not re.search(r"\{[a-z_:]+\}", text, re.I), text  # every {name} filled


def quoted(name: str, pattern: str) -> set[str]:
    return {m for text in prose(lesson(name)) for m in re.findall(pattern, " ".join(text.split()))}


def _with_grad(*values):
    return [torch.tensor(v, requires_grad=True) for v in values]


# Every grad_fn name the course's prose mentions, and an operation that makes it.
GRAD_FN_SOURCES: dict[str, Callable[[], torch.Tensor]] = {
    "PowBackward0": lambda: _with_grad(2.0)[0] ** 2,
    "SinBackward0": lambda: torch.sin(_with_grad(2.0)[0]),
    "AddBackward0": lambda: _with_grad(2.0)[0] + 1,
    "ExpBackward0": lambda: torch.exp(_with_grad(1.0)[0]),
    "SubBackward0": lambda: _with_grad(2.0)[0] - 1,
    "MulBackward0": lambda: _with_grad(2.0)[0] * 0.01,
    "SigmoidBackward0": lambda: torch.sigmoid(_with_grad(2.0)[0]),
    "NegBackward0": lambda: -_with_grad(2.0)[0],
    "MeanBackward0": lambda: _with_grad([1.0, 2.0])[0].mean(),
    "SumBackward0": lambda: _with_grad([1.0, 2.0])[0].sum(),
    "ClampBackward1": lambda: torch.clamp(_with_grad(0.5)[0], 1e-8, 1 - 1e-8),
    "ClampMinBackward0": lambda: torch.clamp_min(_with_grad(0.5)[0], 0.1),
    "BinaryCrossEntropyBackward0": lambda: F.binary_cross_entropy(_with_grad(0.5)[0], torch.tensor(0.0)),
    "AddmmBackward0": lambda: torch.nn.Linear(2, 3)(torch.ones(4, 2)),
    "MmBackward0": lambda: _with_grad([[1.0, 2.0]])[0] @ torch.ones(2, 2),
    "MaximumBackward0": lambda: torch.maximum(_with_grad([1.0, -1.0])[0], torch.zeros(2)),
    "ReluBackward0": lambda: torch.relu(_with_grad([1.0, -1.0])[0]),
    "SoftmaxBackward0": lambda: F.softmax(_with_grad([[1.0, 2.0]])[0], dim=1),
    "LogSoftmaxBackward0": lambda: F.log_softmax(_with_grad([[1.0, 2.0]])[0], dim=1),
    "NllLossBackward0": lambda: F.cross_entropy(_with_grad([[1.0, 2.0]])[0], torch.tensor([0])),
}


@pytest.mark.parametrize("name", NAMES)
def test_grad_fn_names_in_the_prose_are_torchs(name):
    for mentioned in quoted(name, r"\b[A-Z][A-Za-z]*Backward\d+\b"):
        assert mentioned in GRAD_FN_SOURCES, f"{name} names {mentioned}: add how torch makes it"


@pytest.mark.parametrize("grad_fn", list(GRAD_FN_SOURCES))
def test_each_grad_fn_name_is_what_torch_records(grad_fn):
    assert GRAD_FN_SOURCES[grad_fn]().grad_fn.name() == grad_fn


def _raised(fn: Callable[[], object]) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        except (RuntimeError, ValueError, TypeError, AttributeError) as err:  # GradcheckError is a RuntimeError
            return str(err)
    assert caught, "neither raised nor warned"
    return str(caught[0].message)


def _second_backward() -> None:
    x = _with_grad(3.0)[0]
    y = x**2
    y.backward()
    y.backward()


def _changed_saved_output() -> None:
    a = _with_grad([1.0, 2.0])[0]
    out = torch.sigmoid(a)
    out.mul_(2)
    out.sum().backward()


def _non_leaf_grad() -> None:
    y = _with_grad(2.0)[0] ** 2
    _ = y.grad


# What torch says in the situations the lessons quote it.
TORCH_MESSAGES: dict[str, Callable[[], object]] = {
    "no graph": lambda: (torch.tensor(2.0) ** 2).backward(),
    "second backward": _second_backward,
    "in-place on a leaf": lambda: _with_grad(2.0)[0].add_(1),
    "changed saved tensor": _changed_saved_output,
    "non-leaf .grad": _non_leaf_grad,
    "optimizer on a non-leaf (10, 15)": lambda: torch.optim.SGD([_with_grad(1.0)[0] * 0.01], lr=0.1),
    "zero_ on None": lambda: _with_grad(1.0)[0].grad.zero_(),
    "gradcheck in float32 warns": lambda: _gradcheck_float32(raise_exception=False),
    "gradcheck in float32 fails": lambda: _gradcheck_float32(raise_exception=True),
    "backward of a vector": lambda: (_with_grad([1.0, 2.0])[0] * 2).backward(),
}


def _gradcheck_float32(raise_exception: bool) -> None:
    x = torch.tensor(4.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if raise_exception else "always")
        torch.autograd.gradcheck(lambda x: torch.sin(x**2), (x,), raise_exception=raise_exception)


@cache
def torch_messages() -> tuple[str, ...]:
    return tuple(" ".join(_raised(fn).split()) for fn in TORCH_MESSAGES.values())


ERROR_NAMES = r"(?:RuntimeError|UserWarning|ValueError|TypeError|AttributeError)"
# A double-quoted phrase right after one of these words quotes torch.
QUOTING = r"(?:says|warns|refuses|raises|fails|Error|Warning|message)[^\"“]{0,30}"


@pytest.mark.parametrize("name", NAMES)
def test_torch_messages_quoted_in_the_prose_are_torchs(name):
    """Every phrase the prose quotes torch as saying is part of what torch says."""
    phrases = quoted(name, QUOTING + r'"([^"]+)"') | quoted(name, QUOTING + r"“([^”]+)”")
    phrases |= quoted(name, rf"`{ERROR_NAMES}: ([^`]+)`")
    phrases |= {  # a message on a line of its own, as torch prints it
        m for text in prose(lesson(name)) for m in re.findall(rf"(?m)^\s*{ERROR_NAMES}: ([^`\n]+)$", text)
    }
    for phrase in phrases:
        phrase = phrase.rstrip("…").strip()
        assert any(phrase in message for message in torch_messages()), f"{name} quotes torch: {phrase!r}"
    if name.startswith(("09-", "11-", "16-", "17-")):
        assert phrases, "the lesson quotes torch: the pattern must find it"


def _float16(value: float) -> float:
    return torch.tensor(value, dtype=torch.float16).item()


# Every decimal number written in a lesson's prose (not through {name}), and why it is true.
PROSE_NUMBERS: dict[tuple[str, str], Callable[[], bool]] = {
    ("01-", "3.0"): lambda: _set_value("01-", "x") == 3.0,
    ("02-", "10.1"): lambda: _set_value("02-", "x", 0) == 10.1,
    ("02-", "10.1015625"): lambda: _float16(10.1) == 10.1015625,
    ("02-", "10.09375"): lambda: _float16(10.09375) == 10.09375 and 10.09375 + 2**-7 == 10.1015625,
    ("02-", "0.0078125"): lambda: 10.1015625 - 10.09375 == 0.0078125,
    ("02-", "128"): lambda: 10.1015625 - 10.09375 == 1 / 128,
    ("02-", "65504"): lambda: torch.finfo(torch.float16).max == 65504,
    ("02-", "65536"): lambda: _scaler_scales_up(),
    ("15-", "100"): lambda: lesson(file_named("15-")).spec.nodes["w"] == "w0*0.01",
    ("05-", "0.5"): lambda: torch.sigmoid(torch.tensor(0.0)).item() == 0.5,
    ("05-", "1.0"): lambda: torch.tensor(1 - 1e-8).item() == 1.0 and torch.sigmoid(torch.tensor(17.0)).item() == 1.0,
    ("05-", "18.42"): lambda: round(-math.log(1e-8), 2) == 18.42,
    ("09-", "2.0"): lambda: _zero_grad_sets_none() and int(torch.__version__.split(".")[0]) >= 2,
    ("14-", "0.1"): lambda: _sgd_rates("14-") == {0.1},
    ("14-", "6.6918"): lambda: _close(_predicted("14-", "w.grad")[0], 6.6918),
    ("14-", "5.9798"): lambda: _close(_predicted("14-", "w.grad")[2], 5.9798),
    ("15-", "0.01"): lambda: lesson(file_named("15-")).spec.nodes["w"] == "w0*0.01",
    ("10-", "0.01"): lambda: lesson(file_named("15-")).spec.nodes["w"] == "w0*0.01",  # "lesson 15 takes it apart"
    ("15-", "2.0"): lambda: int(torch.__version__.split(".")[0]) >= 2,
    ("20-", "0.01"): lambda: lesson(file_named("20-")).spec.inputs["h"].value == 0.01,
    ("20-", "0.95"): lambda: round(((torch.tensor(4.0) + 1e-6) - 4.0).item() / 1e-6, 2) == 0.95,
    ("20-", "2.4e-7"): lambda: _float32_gap(2.0) == 2**-22 and round(2**-22, 8) == 2.4e-7,
    ("20-", "4.8e-7"): lambda: _float32_gap(4.0) == 2**-21 and round(2**-21, 8) == 4.8e-7,
    ("20-", "1e-4"): lambda: round(_central(torch.float64, 1e-4), 6) == -7.661275,
    ("20-", "1e-6"): lambda: inspect.signature(torch.autograd.gradcheck).parameters["eps"].default == 1e-6,
    ("20-", "16"): lambda: round(-math.log10(torch.finfo(torch.float64).eps)) == 16,
    ("20-", "7.661275"): lambda: round(_central(torch.float64, 1e-4), 6) == -7.661275,
    ("20-", "7.661276"): lambda: round(2 * 4 * math.cos(16), 6) == -7.661276,
    ("20-", "7.3016"): lambda: round(_central(torch.float32, 1e-6), 4) == -7.3016,
    ("20-", "7.6613"): lambda: round(2 * 4 * math.cos(16), 4) == -7.6613,
    ("20-", "4.0"): lambda: lesson(file_named("20-")).spec.inputs["x"].value == 4.0,
    ("21-", "0.5"): lambda: _maximum_slope_at_zero() == 0.5,
    ("22-", "0.01"): lambda: F.leaky_relu(torch.tensor(-1.0, dtype=torch.float64)).item() == -0.01,
    ("24-", "0.99999999"): lambda: torch.tensor(0.99999999).item() == 1.0,
    ("26-", "0.5"): lambda: list(lesson(file_named("26-")).spec.grad_output) == [1.0, -0.5],
    ("28-", "1000"): lambda: F.cross_entropy(_BIG_LOGITS, torch.tensor([2, 0])).item() == 1000.0,
    ("28-", "3.4e38"): lambda: f"{torch.finfo(torch.float32).max:.1e}" == "3.4e+38",
    ("28-", "1.8e308"): lambda: f"{torch.finfo(torch.float64).max:.1e}" == "1.8e+308",
    ("28-", "2e434"): lambda: round(10 ** (1000 / math.log(10) - 434)) == 2,  # exp(1000) = 1.97e434
    ("02-", "10"): lambda: _float16_gap(10.0) == 1 / 128,
    ("02-", "1e-4"): lambda: _float16(1e-4) ** 2 != 0 and (torch.tensor(1e-4, dtype=torch.float16) ** 2).item() == 0,
    ("02-", "1e-8"): lambda: math.isclose(1e-4**2, 1e-8),
    ("02-", "6e-8"): lambda: _float16(2.0**-24) == 2.0**-24 and _float16(2.0**-26) == 0 and round(2**-24, 8) == 6e-8,
    ("05-", "17"): lambda: _set_value("05-", "x") == 17.0 and torch.sigmoid(torch.tensor(17.0)).item() == 1.0,
    ("05-", "4e-8"): lambda: round(1 - 1 / (1 + math.exp(-17)), 8) == 4e-8,
    ("05-", "6e-8"): lambda: 1 - _float32_below(1.0) == 2**-24 and round(2**-24, 8) == 6e-8,
    ("24-", "17"): lambda: _set_value("24-", "z") == 17.0 and torch.sigmoid(torch.tensor(17.0)).item() == 1.0,
    ("24-", "4e-8"): lambda: round(math.exp(-17), 8) == 4e-8,
}
_BIG_LOGITS = torch.tensor([[1000.0, 0.0, 0.0], [0.0, 1000.0, 0.0]])


def _float16_gap(x: float) -> float:
    t = torch.tensor(x, dtype=torch.float16)
    return (torch.nextafter(t, t + 1) - t).item()


def _float32_below(x: float) -> float:
    return torch.nextafter(torch.tensor(x), torch.tensor(x - 1)).item()


def _float32_gap(x: float) -> float:
    return torch.nextafter(torch.tensor(x), torch.tensor(x + 1)).item() - x


def _central(dtype: torch.dtype, h: float) -> float:
    x, step = torch.tensor(4.0, dtype=dtype), torch.tensor(h, dtype=dtype)
    return ((torch.sin((x + step) ** 2) - torch.sin((x - step) ** 2)) / (2 * step)).item()


def _maximum_slope_at_zero() -> float:
    x = _with_grad(0.0)[0]
    torch.maximum(x, torch.tensor(0.0)).backward()
    return x.grad.item()


def _set_value(prefix: str, name: str, which: int = 0) -> float:
    les = lesson(file_named(prefix))
    values = [
        op.set[name] for s in les.steps if s.kind == "run" for op in s.target if op.key == "set" and name in op.set
    ]
    return values[which]


def _sgd_rates(prefix: str) -> set[float]:
    les = lesson(file_named(prefix))
    return {op.sgd.lr for s in les.steps if s.kind == "run" for op in s.target if op.key == "sgd"}


def _predicted(prefix: str, target: str) -> list:
    return [r["expected"] for r in report(file_named(prefix))["steps"] if r["target"] == target]


def _zero_grad_sets_none() -> bool:
    w = _with_grad(1.0)[0]
    (w * 2).backward()
    torch.optim.SGD([w], lr=0.1).zero_grad()
    return w.grad is None


def prose_without_run_code(les: Lesson) -> Iterator[str]:
    """The prose, without the code of run steps (which is the code they run)."""
    runs = {s.prompt for s in les.spec.steps or () if s.run is not None and s.prompt}
    for text in prose(les):
        yield re.sub(r"```python\n.*?```", "", text, flags=re.S) if text in runs else text


@pytest.mark.parametrize("name", NAMES)
def test_numbers_in_the_prose_come_from_the_engine_or_are_checked_here(name):
    les = lesson(name)
    constants = set(re.findall(PROSE_NUMBER, " ".join(str(f) for f in (les.spec.nodes or {}).values())))
    for number, text in numbers_in_the_prose(les):
        if number in constants:  # a constant of the computation the engine runs, as written
            continue
        assert (name[:3], number) in PROSE_NUMBERS, f"{name}: {number} in {text[:60]!r}: use {{name}} or check it"


# Numbers a test must back: powers of ten and the like (1e-8, 3.4e38), decimals,
# and whole numbers from 10. Smaller whole numbers count things (3 steps, 2
# paths, x**2, row 1) and are left to the steps that compute with them.
PROSE_NUMBER = r"(?<![\w.{-])\d+(?:\.\d+)?e[+-]?\d+|(?<![\w.{])\d+\.\d+|(?<![\w.{-])\d{2,}(?![\w.])"
# A reference to another lesson or example is not a number about torch.
REFERENCE = r"(?i)\b(?:lessons?|examples?)\s+\d+(?:\s*(?:,|and|or|–|-)\s*\d+)*"


def numbers_in_the_prose(les: Lesson) -> Iterator[tuple[str, str]]:
    """(number, text) for each number written into the prose, not through {name}."""
    for text in prose_without_run_code(les):
        bare = re.sub(REFERENCE, "", re.sub(r"\{[^{}]*\}", "", text))
        for number in re.findall(PROSE_NUMBER, bare):
            yield number, text


@pytest.mark.parametrize("key", list(PROSE_NUMBERS))
def test_each_number_in_the_prose_is_true(key):
    assert PROSE_NUMBERS[key]()


def test_every_checked_number_is_still_in_the_prose():
    written = {(name[:3], number) for name in NAMES for number, _ in numbers_in_the_prose(lesson(name))}
    assert set(PROSE_NUMBERS) <= written, sorted(set(PROSE_NUMBERS) - written)


# Claims the prose makes about torch that no run or predict step shows.
def _eval_still_records() -> bool:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    model.eval()
    out = model(torch.ones(2))
    return out.requires_grad and out.grad_fn is not None


def _scaler_scales_up() -> bool:
    scaler = torch.amp.GradScaler("cpu")
    return scaler.scale(torch.tensor(1.0)).item() == 65536.0 > 1


def _float16_limits() -> bool:
    info = torch.finfo(torch.float16)
    tiny = 2.0**-24  # the smallest positive float16, about 6e-8
    return (
        info.max == 65504
        and _float16(tiny) == tiny
        and _float16(tiny / 4) == 0.0
        and math.isclose(tiny, 6e-8, rel_tol=0.01)
    )


def _batch_twice_as_long_halves_each_entry() -> bool:
    short, long = _with_grad([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    (short**2).mean().backward()
    (long**2).mean().backward()
    shared = _with_grad(1.5)
    (shared[0] * torch.tensor([1.0, 2.0, 3.0])).pow(2).mean().backward()
    again = _with_grad(1.5)
    (again[0] * torch.tensor([1.0, 2.0, 3.0] * 2)).pow(2).mean().backward()
    halved = torch.allclose(long.grad[:3] * 2, short.grad)
    return halved and math.isclose(shared[0].grad.item(), again[0].grad.item(), rel_tol=1e-6)


def _detach_shares_data_and_version() -> bool:
    x = _with_grad(2.0)[0]
    d = x.detach()
    d.add_(1)
    data = x.data
    data.add_(1)
    return x.item() == 4.0 and x._version == 1 and data._version == 1


def _leaf_update_under_no_grad_is_allowed() -> bool:
    w = _with_grad(1.0)[0]
    with torch.no_grad():
        w.add_(1)
    return w.is_leaf and w.item() == 2.0


def _autograd_grad_then_backward_fails() -> bool:
    x = _with_grad(3.0)[0]
    y = x**3
    torch.autograd.grad(y, x)
    try:
        y.backward()
    except RuntimeError as err:
        return "second time" in str(err)
    return False


def _clamped_bce_at_17() -> tuple[float, float]:
    """The loss of lessons 05 and 24, as the lesson's bce writes it, at z = 17, y = 0, in float32."""
    z = _with_grad(17.0)[0]
    p = torch.clamp(torch.sigmoid(z), 1e-8, 1 - 1e-8)
    loss = -(0.0 * torch.log(p) + (1 - 0.0) * torch.log(1 - p))
    loss.backward()
    return loss.item(), z.grad.item()


def _sigmoid_slope_at_most_a_quarter() -> bool:
    z = torch.cat([torch.linspace(-10, 10, 2000, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    z.requires_grad_(True)
    torch.sigmoid(z).sum().backward()
    return z.grad.max().item() == 0.25 == z.grad[-1].item() and (z.grad[:-1] < 0.25).all().item()


def _naive_softmax_is_nan() -> bool:
    z = torch.tensor([1000.0, 0.0])
    naive = torch.exp(z) / torch.exp(z).sum()
    return bool(torch.isnan(naive[0])) and torch.softmax(z, 0).tolist() == [1.0, 0.0]


CLAIMS: dict[str, Callable[[], bool]] = {
    "05, 24: at z = 17, y = 0 the clamped loss is inf in float32 and its gradient nan": lambda: (
        _clamped_bce_at_17()[0] == math.inf and math.isnan(_clamped_bce_at_17()[1])
    ),
    "28: the naive softmax of [1000, 0] is nan in float32; torch's is not": _naive_softmax_is_nan,
    "10, 15: torch.optim refuses a non-leaf such as randn(3, requires_grad=True) * 0.01": lambda: (
        "non-leaf" in _raised(lambda: torch.optim.SGD([torch.randn(3, requires_grad=True) * 0.01], lr=0.1))
    ),
    "20: torch.autograd.gradcheck steps by 1e-6 by default": lambda: (
        inspect.signature(torch.autograd.gradcheck).parameters["eps"].default == 1e-6
    ),
    "11, 15: model.eval() does not stop recording": _eval_still_records,
    "02: GradScaler scales the loss up, by 65536 to start with": _scaler_scales_up,
    "02: float16 holds nothing above 65504, nothing between 0 and about 6e-8": _float16_limits,
    "08: a batch twice as long halves each entry; a shared weight's gradient keeps its size": (
        _batch_twice_as_long_halves_each_entry
    ),
    "11, 16: detach() shares data and the version counter; .data has a counter of its own": (
        _detach_shares_data_and_version
    ),
    "14, 16: an in-place update of a leaf is allowed under no_grad()": _leaf_update_under_no_grad_is_allowed,
    "18: torch.autograd.grad frees the graph as backward() does": _autograd_grad_then_backward_fails,
    "09: optimizer.zero_grad() sets .grad to None": _zero_grad_sets_none,
    "23: the sigmoid's slope p(1 - p) is never more than 1/4, reached at z = 0": _sigmoid_slope_at_most_a_quarter,
    "03: backward() reaches PowBackward0 from SinBackward0": lambda: (
        torch.sin(_with_grad(4.0)[0] ** 2).grad_fn.next_functions[0][0].name() == "PowBackward0"
    ),
}


@pytest.mark.parametrize("claim", list(CLAIMS))
def test_claims_about_torch_in_the_prose_hold(claim):
    assert CLAIMS[claim]()


def test_values_shown_in_prose_are_formatted_as_on_screen():
    session = LessonSession(lesson(file_named("08-")), variant=3)
    assert f"x = {format_value(session.comp.inputs['x'])}:" in session.intro


def _rewrite(text: str, start: str, end: str, block: str) -> str:
    before, rest = text.split(start)
    return f"{before}{start}\n{block}\n{end}{rest.split(end)[1]}"


if __name__ == "__main__":  # rewrite the course map and the measures in docs/course.md
    path = ROOT / "docs" / "course.md"
    text = _rewrite(path.read_text(encoding="utf-8"), MAP_START, MAP_END, course_map())
    path.write_text(_rewrite(text, MEASURES_START, MEASURES_END, measures_block()), encoding="utf-8")
    print(f"wrote the course map and measures of {len(NAMES)} lessons to {path}")
