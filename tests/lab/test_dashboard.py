"""`autograd-tutor dashboard`: a generated class of 30 students (real stores, written by
`ProgressStore`), the view at 80x24 as a snapshot, the keys, and a live update when a
student's tutor saves an answer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_tutor import progress
from autograd_tutor.lab.classroom import Classroom, Thresholds
from autograd_tutor.lab.dashboard import Dashboard
from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession

NOW = 1_800_000_000.0  # the dashboard's clock in these tests
NAMES = [
    "ada", "ben", "cai", "dee", "eli", "fay", "gus", "hal", "ida", "jon", "kim", "lea", "max", "nia", "oli",
    "pia", "quin", "ray", "sue", "tom", "uma", "vic", "wes", "xia", "yan", "zoe", "abe", "bea", "cal", "dot",
]  # fmt: skip
WRONG = [  # (answer, diagnosis) as the grader records them
    ("cos(x**2)", "authored"),
    ("-2*x*cos(x**2)", "sign"),
    ("2*x", "dropped_factor"),
    ("16", "forward_value"),
]


@pytest.fixture(scope="module")
def course():
    # a frozen copy of the course's first three lessons: the class view must not change
    # whenever the bundled course does
    lessons, _problems = library([Path(__file__).parent / "course"])
    return {lesson.id: lesson for lesson in lessons}


def make_class(data_dir: Path, course: dict, names: list[str]) -> None:
    """Students spread over the first three lessons, at different steps, some with wrong
    answers and hints, their last saves between 1 and 40 minutes before NOW."""
    lessons = list(course.values())[:3]
    real_time = time.time
    try:
        for i, name in enumerate(names):
            lesson = lessons[i % 3]
            session = LessonSession(lesson, seed=name)
            at = min(i % 5 + 1, len(session.steps) - 1)
            for record in session.records[:at]:
                record.status = "solved"
            session.index = at
            record = session.records[at]
            record.hints = i % 3
            for k in range(i % 4):
                answer, diagnosis = WRONG[(i + k) % len(WRONG)]
                record.mistakes.append({"answer": answer, "diagnosis": diagnosis, "feedback": "You dropped it."})
            if i % 10 == 9:  # finished the lesson
                for record in session.records:
                    record.status = "solved"
            progress.time.time = lambda i=i: NOW - 60 * (1 + i % 40)
            store = ProgressStore.for_student(data_dir, name)
            store.save(session)
            store.close()
    finally:
        progress.time.time = real_time


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory, course):
    data = tmp_path_factory.mktemp("class")
    make_class(data, course, NAMES)
    return data


def dashboard(data_dir: Path, course: dict) -> Dashboard:
    app = Dashboard(Classroom(data_dir, course), Thresholds(attempts=3, seconds=600, away=1800), clock=lambda: NOW,
                    watch=False)  # fmt: skip
    app.animation_level = "none"
    return app


def test_the_class_at_80x24(snap_compare, class_dir, course):
    assert snap_compare(dashboard(class_dir, course), terminal_size=(80, 24))


def test_the_lessons_view_at_80x24(snap_compare, class_dir, course):
    assert snap_compare(dashboard(class_dir, course), terminal_size=(80, 24), press=["tab"])


def test_stuck_students_come_first_and_the_lessons_say_what_to_reteach(class_dir, course):
    classroom = Classroom(class_dir, course)
    classroom.load_all()
    limits = Thresholds(attempts=3, seconds=600, away=1800)
    students = classroom.students(NOW, limits)
    states = [s.state(NOW, limits) for s in students]
    assert len(students) == 30 and states == sorted(states, key=["stuck", "working", "away", "done"].index)
    stuck = [s for s in students if s.state(NOW, limits) == "stuck"]
    assert stuck and all(s.attempts_here >= 3 or NOW - s.since >= 600 for s in stuck)
    assert all(NOW - s.updated < 1800 for s in stuck)  # away students are not stuck
    chain = next(x for x in classroom.lessons() if x.lesson == "chain-rule-sin-square")
    assert chain.started == 10 and chain.finished == 1
    assert chain.busiest is not None and chain.wrong
    answer, diagnosis, count = chain.wrong[0]
    assert count >= 2 and (answer, diagnosis.split(":")[0]) in [(a, d) for a, d in WRONG]


def test_keyboard_only(class_dir, course):
    async def main() -> None:
        app = dashboard(class_dir, course)
        async with app.run_test(size=(80, 24)) as pilot:
            first = app.shown[0]
            detail = str(app.query_one("#student-detail").render())
            assert first.student in detail and first.where in detail
            await pilot.press("down")
            assert app.shown[1].student in str(app.query_one("#student-detail").render())
            await pilot.press("tab")
            assert app.query_one("ContentSwitcher").current == "lessons"
            await pilot.press("down")
            assert "Most common wrong answers" in str(app.query_one("#lesson-detail").render())
            await pilot.press("tab")
            assert app.query_one("ContentSwitcher").current == "students"
            await pilot.press("q")

    asyncio.run(main())


WRITER = """
import sys
from pathlib import Path
from autograd_tutor.lesson.loader import load
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession

data, lesson_file, student = sys.argv[1:]
store = ProgressStore.for_student(Path(data), student)
session = LessonSession(load(lesson_file), store.load("chain-rule-sin-square"))
session.record.mistakes.append({"answer": "cos(x**2)", "diagnosis": "authored", "feedback": "You dropped 2x."})
store.save(session)
"""


def test_a_saved_answer_shows_up_without_polling(tmp_path, course):
    """A tutor in another process saves a wrong answer (a student new to the class, then
    one more): the dashboard, watching the data directory, shows both."""
    chain = Path(__file__).parent.parent / "lessons" / "chain.yaml"
    data = tmp_path / "data"
    (data / "students").mkdir(parents=True)

    async def main() -> None:
        app = Dashboard(Classroom(data, course), Thresholds())
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.shown == []
            await pilot.pause(0.5)  # the watch has started
            for expected in (1, 2):
                subprocess.run([sys.executable, "-c", WRITER, str(data), str(chain), "newcomer"], check=True,
                               timeout=60)  # fmt: skip
                for _ in range(200):  # bounded: 20 s
                    if app.shown and app.shown[0].attempts_here == expected:
                        break
                    await pilot.pause(0.1)
                assert [(s.student, s.attempts_here) for s in app.shown] == [("newcomer", expected)]

    asyncio.run(main())


def test_wrong_answers_are_counted_whatever_their_spaces_and_shown_as_written(tmp_path, course):
    """Two students who chose the same option (each saw it under another number), and two
    who typed one formula with different spacing: one line each, words kept readable."""
    lesson = course["chain-rule-sin-square"]
    wrong = {
        "ann": [{"answer": "2", "diagnosis": "authored", "feedback": "No.", "option": "x changed"}, "cos(x ** 2)"],
        "bob": [{"answer": "3", "diagnosis": "authored", "feedback": "No.", "option": "x changed"}, "cos(x**2)"],
    }
    for name, (chosen, formula) in wrong.items():
        session = LessonSession(lesson, seed=name)
        session.index = 1
        typed = {"answer": formula, "diagnosis": "missing_factor", "feedback": "You dropped it."}
        session.records[1].mistakes += [chosen, typed]
        store = ProgressStore.for_student(tmp_path, name)
        store.save(session)
        store.close()
    classroom = Classroom(tmp_path, course)
    classroom.load_all()
    (chain,) = classroom.lessons()
    counted = {(answer.replace(" ", ""), count) for answer, _, count in chain.wrong}
    assert counted == {("“xchanged”", 2), ("cos(x**2)", 2)}
    assert "“x changed”" in [answer for answer, _, _ in chain.wrong]
