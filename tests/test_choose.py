"""`choose` steps: multiple choice with feedback per option, in every front end."""

from __future__ import annotations

import json

import pytest
from conftest import lesson_text, run_cli

from autograd_tutor.check import play
from autograd_tutor.lesson.problems import LessonInvalid
from autograd_tutor.plain import PlainTutor
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import check_lesson

HEAD = """\
format: 1
id: accumulate-why
title: Why 12?
inputs:
  x: {value: 3.0, requires_grad: true}
nodes:
  y: x**2
steps:
  - run: [backward, forward, backward]
  - predict: x.grad
    answer: 4*x
"""
CHOOSE = """\
  - choose: "Why is x.grad {grad:x} times 2 at x = {x}?"
    options:
      - {text: "backward() ran twice and the gradients added up", correct: true, feedback: "Yes: += into .grad."}
      - {text: "x changed between the calls", feedback: "x is still {x}: nothing assigned to it."}
      - {text: "the second forward pass doubled y", feedback: "y = x**2 again."}
    explain: Clear .grad before each backward().
"""


def lesson(extra: str = CHOOSE):
    return lesson_text(HEAD + extra)


def at_choose(les) -> LessonSession:
    session = LessonSession(les)
    while session.step.kind != "choose":
        session.advance()
    return session


@pytest.mark.parametrize("answer", ["1", "a", "A", " (a) ", "a)", "1."])
def test_the_right_option_by_number_or_letter(answer):
    verdict = at_choose(lesson()).submit(answer)
    assert verdict.correct and verdict.feedback == "Yes: += into .grad."
    assert verdict.read_as == "option 1 (a)"


@pytest.mark.parametrize(
    ("answer", "feedback"), [("2", "x is still 3: nothing assigned to it."), ("C", "y = x**2 again.")]
)
def test_a_wrong_option_gets_its_own_feedback_tagged_authored(answer, feedback):
    session = at_choose(lesson())
    verdict = session.submit(answer)
    assert (verdict.status, verdict.diagnosis, verdict.feedback) == ("wrong", "authored", feedback)
    assert session.record.attempts == 1


@pytest.mark.parametrize("answer", ["4", "0", "d", "ab", "", "backward", "1, 2", "-1"])
def test_anything_else_is_invalid_and_lists_the_valid_answers(answer):
    session = at_choose(lesson())
    verdict = session.submit(answer)
    assert verdict.status == "invalid"
    assert verdict.feedback == "Answer with the number (1 to 3) or the letter (a to c) of an option."
    assert session.record.attempts == 0


def test_any_of_several_correct_options_is_right_and_expected_lists_them():
    two = CHOOSE.replace(
        '{text: "the second forward pass doubled y", feedback: "y = x**2 again."}',
        ('{text: "nothing zeroed x.grad between the calls", correct: true}'),
    )
    session = at_choose(lesson(two))
    assert session.check("1").correct and session.check("c").correct
    assert session.expected() == [1, 3]
    assert session.truth().text.splitlines() == [
        "1. backward() ran twice and the gradients added up",
        "3. nothing zeroed x.grad between the calls",
    ]


def test_the_prompt_lists_the_options_with_numbers_filled_in():
    les = lesson()
    step = les.steps[2]
    assert step.target_json() == "Why is x.grad {grad:x} times 2 at x = {x}?"
    assert step.prompt.endswith(
        "\n\n1. backward() ran twice and the gradients added up\n2. x changed between the calls\n"
        "3. the second forward pass doubled y"
    )
    session = at_choose(les)
    assert session.prompt.startswith("Why is x.grad 6 times 2 at x = 3?\n\n1. ")
    assert step.answer == "1"  # the first correct option is the model answer


def test_steps_json_and_check_json(tmp_path):
    file = tmp_path / "why.yaml"
    file.write_text(HEAD + CHOOSE)
    steps = json.loads(run_cli("steps", file, "--json").stdout)
    assert steps[2]["kind"] == "choose" and steps[2]["target"] == "Why is x.grad {grad:x} times 2 at x = {x}?"
    answers = tmp_path / "answers.yaml"
    answers.write_text('[null, "4*x", "b"]')
    result = run_cli("check", file, "--answers", answers, "--json")
    row = json.loads(result.stdout)["steps"][2]
    assert result.returncode == 1
    assert row | {"target": None} == {
        "index": 2,
        "kind": "choose",
        "target": None,
        "answer": "b",
        "verdict": "wrong",
        "expected": 1,
        "feedback": "x is still 3: nothing assigned to it.",
        "diagnosis": "authored",
    }


def test_validate_judges_the_model_answer_and_lesson_tests():
    assert check_lesson(lesson(CHOOSE + "    answer: b\n"))[0].message.startswith("the model answer is judged wrong")
    tests = (
        "tests:\n  - {step: 2, answer: c, expect: wrong, diagnosis: authored}\n"
        "  - {step: 2, answer: z, expect: invalid}\n"
    )
    assert check_lesson(lesson(CHOOSE + tests)) == []


@pytest.mark.parametrize(
    ("step", "message", "line"),
    [
        ('  - choose: "Why?"\n    options: [{text: a, correct: true}]\n', "at least 2", 13),
        ('  - choose: "Why?"\n', "at least 2", 12),
        ('  - choose: "Why?"\n    options: [{text: a, feedback: f}, {text: b, feedback: g}]\n', "no option is", 13),
        (
            '  - choose: "Why?"\n    options:\n      - {text: a, correct: true}\n      - {text: b}\n',
            "needs `feedback`",
            15,
        ),
        (
            '  - choose: "Why?"\n    options:\n      - {text: a, correct: true}\n      - {text: a, feedback: f}\n',
            "same text",
            15,
        ),
        (
            "  - predict: x.grad\n    options: [{text: a, correct: true}, {text: b, feedback: f}]\n",
            "belong to a choose",
            13,
        ),
        (
            '  - choose: "Why?"\n    options: [{text: a, correct: true}, {text: b, feedback: f}]\n'
            "    mistakes: [{answer: b, feedback: f}]\n",
            "not in mistakes",
            14,
        ),
        ('  - choose: "Why?"\n    options: [{text: a, correct: right}, {text: b, feedback: f}]\n', "true or false", 13),
    ],
)
def test_badly_written_choose_steps_are_located_errors(step, message, line):
    with pytest.raises(LessonInvalid) as info:
        lesson_text(HEAD + step)
    problem = info.value.problems[0]
    assert message in problem.message and problem.line == line, problem


def test_plain_mode_shows_the_options_and_the_feedback(tmp_path):
    les = lesson()
    typed = iter(["", "", "4*x", "2", "z", "a", "", ":q"])
    out: list[str] = []
    store = ProgressStore(tmp_path, "tester")
    store.authored = True  # the options in the order written
    PlainTutor([les], store, read=lambda _: next(typed), write=out.append).run(open_lesson=les.id)
    text = "\n".join(out)
    assert "Why is x.grad 6 times 2 at x = 3?\n\n1. backward() ran twice" in text
    assert "✗ x is still 3: nothing assigned to it." in text
    assert "Cannot read that: Answer with the number (1 to 3) or the letter (a to c) of an option." in text
    assert "✓ Correct: a  (read as option 1 (a))\nYes: += into .grad.\nClear .grad before each backward()." in text


def test_a_saved_choose_step_resumes_by_its_question():
    les = lesson()
    session = at_choose(les)
    session.submit("a")
    resumed = LessonSession(les, session.to_state())
    assert resumed.step.kind == "choose" and resumed.record.status == "solved"
    assert play(les, [None, "4*x", "a"])["correct"] == 2


def options_shown(session: LessonSession) -> list[str]:
    return [line.split(". ", 1)[1] for line in session.step.prompt.splitlines() if line.split(". ", 1)[0].isdigit()]


def test_a_learner_sees_the_options_in_an_order_of_their_own():
    les = lesson()
    written = [o.text for o in at_choose(les).step.target.options]
    orders = set()
    for learner in ("ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"):
        session = LessonSession(les, seed=learner)
        while session.step.kind != "choose":
            session.advance()
        shown = options_shown(session)
        assert sorted(shown) == sorted(written)
        orders.add(tuple(shown))
        right = shown.index(written[0]) + 1
        wrong = shown.index("x changed between the calls") + 1
        assert session.check(str(wrong)).feedback == "x is still 3: nothing assigned to it."
        assert session.check(chr(ord("a") + right - 1)).correct
        reveal = session.truth()
        assert reveal.expected == right and reveal.answer == str(right)
        assert reveal.text == f"{right}. backward() ran twice and the gradients added up"
        session.submit(str(right))
        again = LessonSession(les, session.to_state(), seed=learner)  # back tomorrow: the same order
        assert options_shown(again) == shown and again.record.status == "solved"
    assert len(orders) > 2


def test_the_right_option_of_the_course_is_not_always_first(tmp_path):
    """The bundled course writes the right option first; learners see it anywhere."""
    from autograd_tutor.lesson.files import BUNDLED
    from autograd_tutor.lesson.loader import library

    lessons, _ = library([BUNDLED])
    places = {}
    for les in lessons:
        for learner in ("ann", "bob", "cy"):
            session = LessonSession(les, seed=learner)
            for step in session.steps:
                if step.kind == "choose":
                    places[step.target.correct[0]] = places.get(step.target.correct[0], 0) + 1
                    assert les.steps[step.index].target.correct == (1,)
    assert set(places) == {1, 2, 3, 4}


def test_authors_and_authored_play_see_the_order_written(tmp_path):
    les = lesson()
    store = ProgressStore(tmp_path, "tester")
    store.authored = True
    session = store.open(les)
    while session.step.kind != "choose":
        session.advance()
    assert options_shown(session) == [o.text for o in les.steps[session.index].target.options]
    assert options_shown(at_choose(les)) == options_shown(session)


LEARNERS = [f"learner-{n}" for n in range(20)]


def edited(les_text: str) -> str:
    """The lesson as its author changed it: a step inserted before the choose step and an
    option added to it."""
    text = les_text.replace(
        "  - predict: x.grad\n", "  - predict: x.requires_grad\n    answer: 'True'\n  - predict: x.grad\n"
    )
    return text.replace(
        '      - {text: "the second forward pass doubled y"',
        '      - {text: "torch counts x twice", feedback: "It counts each backward()."}\n'
        '      - {text: "the second forward pass doubled y"',
    )


def test_a_choose_step_keeps_its_answer_when_the_lesson_changes_around_it():
    """What is saved names the option chosen, not its number: after a step is inserted
    before it and an option added to it, every learner's solved step still reads right
    and their wrong answer still names the option they chose."""
    from autograd_tutor.present.step import Keys, feedback_lines
    from autograd_tutor.present.summary import summary_view

    before, after = lesson(), lesson_text(edited(HEAD + CHOOSE))
    for learner in LEARNERS:
        session = LessonSession(before, seed=learner)
        while session.step.kind != "choose":
            session.advance()
        shown = options_shown(session)
        session.submit(str(shown.index("x changed between the calls") + 1))
        session.submit(str(shown.index("backward() ran twice and the gradients added up") + 1))
        state = json.loads(json.dumps(session.to_state()))  # as the store keeps it
        resumed = LessonSession(after, state, seed=learner)
        assert resumed.step.kind == "choose" and resumed.record.status == "solved"
        said = " ".join("".join(s.text for s in spans) for spans in feedback_lines(resumed, True, Keys("h", "r", "n")))
        assert said.startswith("✓ Correct") and "Yes: += into .grad." in said, (learner, said)
        now = options_shown(resumed)
        wrong = [m for m in summary_view(resumed).mistakes]
        assert [m.answer for m in wrong] == [str(now.index("x changed between the calls") + 1)]
        assert wrong[0].feedback == "x is still 3: nothing assigned to it."


def test_a_choose_answer_saved_before_answers_named_their_option_is_read_in_the_order_then_shown():
    """Progress saved by the previous version (state version 2) holds the number the
    learner saw, in an order drawn from the step's place: it is read so, whatever the
    order is now."""
    import random

    les = lesson()
    for learner in LEARNERS:
        session = LessonSession(les, seed=learner)
        while session.step.kind != "choose":
            session.advance()
        order = list(range(3))
        random.Random(f"{learner}/{les.id}/0/{session.index}").shuffle(order)
        right = order.index(0) + 1  # the written first option, as version 2 numbered it
        wrong = order.index(1) + 1
        state = session.to_state()
        state["version"] = 2
        state["records"][session.index] |= {
            "status": "solved",
            "answer": str(right),
            "mistakes": [{"answer": str(wrong), "diagnosis": "authored", "feedback": "x is still 3"}],
        }
        for record in state["records"]:
            record.pop("option")
        resumed = LessonSession(les, state, seed=learner)
        record = resumed.records[session.index]
        assert record.option == "backward() ran twice and the gradients added up"
        assert record.mistakes[0]["option"] == "x changed between the calls"
        assert resumed.check(resumed.answer_now(session.index, record.answer, record.option)).correct


@pytest.mark.parametrize(
    ("words", "line"),
    [
        ("    hint: Option 2 is the one about adding.\n", 17),
        ("    explain: So (b) was wrong and option (a) right.\n", 17),
        ("    hint: Which option B is it?\n", 17),
        ("    hint: Which option I would pick, and options a learner might, see option x.grad.\n", None),
        ("    explain: It is not option 4 (there are 3) nor option D.\n", None),
        ("", None),
    ],
)
def test_words_that_name_an_option_by_its_place_are_a_warning(words, line):
    """Each learner sees the options in an order of their own, so `option 2` in a hint
    points at the wrong one for most of them."""
    problems = lesson(CHOOSE.replace("    explain: Clear .grad before each backward().\n", words)).warnings
    found = [p for p in problems if "names an option by its number or letter" in p.message]
    if line is None:
        assert found == []
    else:
        assert [(p.severity, p.line) for p in found] == [("warning", line)], problems


def test_an_option_s_feedback_that_names_another_by_its_place_is_a_warning():
    text = CHOOSE.replace('feedback: "y = x**2 again."', 'feedback: "y = x**2 again; see option 1."')
    problems = lesson(text).warnings
    assert [p.line for p in problems if "names an option" in p.message] == [16], problems
