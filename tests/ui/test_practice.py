"""Pilot tests of practice and the skills view: played by key presses, as a learner would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest
from mastery.course import COURSE
from textual.widgets import DataTable, Input, Static

from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession
from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.screens.catalogue import CatalogueScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.practice import PracticeDoneScreen, PracticeScreen
from autograd_tutor.ui.screens.skills import SkillsScreen
from autograd_tutor.ui.screens.summary import SummaryScreen
from autograd_tutor.variants import SEED_FILE

from .pilot import play, type_text, wait_until

WRONG = {("chain", 3): "cos(x**2)"}  # the chain rule, answered wrong: the weakest skill


def finish_course(data_dir, wrong=WRONG) -> dict[str, int]:
    """Play every lesson of the mastery course to the end (model answers, but `wrong`);
    the variant each was played on."""
    lessons, _ = library([COURSE])
    store = ProgressStore(data_dir, "tester")
    played = {}
    for lesson in lessons:
        session = LessonSession(lesson, None, seed=store.seed)
        for step in lesson.steps:
            if step.takes_answer:
                session.submit(wrong.get((lesson.id, step.index), step.answer))
            store.save(session)
            session.advance()
        store.save(session)
        assert session.finished
        played[lesson.id] = session.variant
    store.close()
    return played


def make_app(data_dir, practice: bool = False) -> TutorApp:
    lessons, problems = library([COURSE])
    return TutorApp(lessons, problems, ProgressStore(data_dir, "tester"), practice=practice)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_practice_from_the_catalogue_weakest_skill_first_on_new_numbers(data_dir):
    played = finish_course(data_dir)
    app = make_app(data_dir)

    async def scenario(pilot):
        assert isinstance(app.screen, CatalogueScreen)
        course = text_of(app, "#course")
        assert course == "Course: 3/3 lessons done · skills 1/6 mastered, weakest chain-rule 19% (^o)"
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeScreen))
        screen = app.screen
        first = screen.practice.item
        assert first.skill == "chain-rule" and first.lesson.id == "chain"
        assert "Practice 1 of 10 · chain-rule" in text_of(app, "#step-title")
        assert first.variant != played["chain"]
        mine = LessonSession(first.lesson, variant=played["chain"]).comp.inputs["x"]
        assert float(first.session.comp.inputs["x"]) != float(mine)  # new numbers, on screen too
        seen = []

        def moved_on(count: int):
            return lambda: not isinstance(app.screen, PracticeScreen) or len(screen.practice.items) > count

        while isinstance(app.screen, PracticeScreen):
            item = screen.practice.item
            seen.append((item.lesson.id, item.skill))
            count = len(screen.practice.items)
            await type_text(pilot, item.step.answer)
            await pilot.press("enter")
            if not moved_on(count)():
                await pilot.press("enter")  # a step with something to read: Enter brings the next item
            await wait_until(pilot, moved_on(count))
        assert len(seen) == 10
        assert all(a[0] != b[0] for a, b in zip(seen, seen[1:]))  # interleaved across lessons
        assert isinstance(app.screen, PracticeDoneScreen)
        summary = text_of(app, "#practice-summary")
        assert "10 of 10 right at the first try" in summary and "chain-rule" in summary and "▲" in summary
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogueScreen))

    play(app, scenario)
    store = ProgressStore(data_dir, "tester")
    model = store.mastery()
    store.close()
    assert model.get("chain-rule").seen >= 3 and model.get("chain-rule").correct == model.get("chain-rule").seen - 1


def test_a_wrong_answer_then_a_reveal_in_practice(data_dir):
    finish_course(data_dir)
    app = make_app(data_dir, practice=True)  # `autograd-tutor practice`

    async def scenario(pilot):
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeScreen))
        screen = app.screen
        await pilot.pause()
        await type_text(pilot, "cos(x**2)")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.session.record.attempts == 1)
        assert "inner derivative" in text_of(app, "#feedback")  # judged as in the lesson
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "torch says" in text_of(app, "#feedback"))
        await pilot.press("escape")  # ends the practice
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeDoneScreen))
        assert "0 of 1 right" in text_of(app, "#practice-summary") and "▼" in text_of(app, "#practice-summary")
        assert screen.practice.items[0].recorded

    play(app, scenario)


def test_nothing_to_practise_says_why(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        await pilot.press("ctrl+t")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CatalogueScreen)
        assert any("lessons you have finished" in str(n.message) for n in app._notifications)

    play(app, scenario)


def test_the_skills_view_and_practice_from_it(data_dir):
    finish_course(data_dir)
    app = make_app(data_dir)

    async def scenario(pilot):
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, SkillsScreen))
        table = app.screen.query_one(DataTable)
        rows = {table.get_row(key)[0].plain: [c.plain for c in table.get_row(key)] for key in table.rows}
        assert list(rows) == ["forward-pass", "power-rule", "derivative-table", "chain-rule", "grad-accumulation",
                              "graph-lifetime"]  # fmt: skip
        assert rows["chain-rule"][1].endswith("19%") and "█" in rows["chain-rule"][1]
        assert rows["chain-rule"][2] == "0/1" and "practise" in rows["chain-rule"][3]
        assert rows["power-rule"][2] == "3/3"  # two steps of square, one of chain
        detail = text_of(app, "#skill-detail")
        assert detail.startswith("chain-rule: A node's local factor")  # from the course's skills.yaml
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeScreen))
        assert app.screen.practice.item.skill == "chain-rule"

    play(app, scenario)


def test_the_summary_says_which_skills_moved(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        await type_text(pilot, "derivative of x")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        session = screen.session
        await type_text(pilot, "-1")  # the forward value (a square) wrong first
        await pilot.press("enter")
        await wait_until(pilot, lambda: session.record.attempts == 1)
        screen.query_one("#answer", Input).value = ""
        for step in screen.lesson.steps:
            await type_text(pilot, step.answer)
            await pilot.press("enter")
            await wait_until(pilot, lambda i=step.index: session.index > i or session.finished)
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        summary = app.screen.query_one("#summary").source
        assert "## Skills that moved" in summary
        assert "` power-rule `: 30% → 93% ▲" in summary and "` forward-pass `: 30% → 19% ▼" in summary

    play(app, scenario)


def test_autograd_tutor_practice_in_a_terminal(tmp_path):
    """The installed command in a pseudo-terminal: the catalogue first (torch still loading),
    then the first item, for the weakest skill; Esc ends it with what moved."""
    import pexpect
    from conftest import COMMAND

    finish_course(tmp_path)
    child = pexpect.spawn(
        str(COMMAND), ["practice", str(COURSE), "--data-dir", str(tmp_path), "--student", "tester"],
        dimensions=(24, 80), timeout=60, encoding="utf-8",
    )  # fmt: skip
    try:
        child.expect("Course: 3/3 lessons done")
        child.expect("Practice 1 of 10")
        child.expect("chain-rule")
        child.send("\x1b")
        child.expect("No item answered")
    finally:
        child.terminate(force=True)


def test_practice_asked_for_before_torch_is_loaded_starts_once_it_is(tmp_path):
    finish_course(tmp_path)
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from autograd_tutor.lesson.loader import library
        from autograd_tutor.progress import ProgressStore
        from autograd_tutor.ui.app import TutorApp

        lessons, problems = library([{str(COURSE)!r}])
        app = TutorApp(lessons, problems, ProgressStore(Path({str(tmp_path)!r}), "tester"), practice=True)
        app.start_warm_up = lambda: None  # hold torch back

        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                assert type(app.screen).__name__ == "CatalogueScreen"
                assert "torch" not in sys.modules
                await pilot.press("c", "o", "s")  # typed at once: for the practice, not the catalogue
                TutorApp.start_warm_up(app)
                for _ in range(500):
                    boxes = app.screen.query("#answer")
                    if type(app.screen).__name__ == "PracticeScreen" and boxes and boxes.first().value == "cos":
                        break
                    await pilot.pause(0.02)
                assert app.screen.practice.item.skill == "chain-rule"
                typed = (app.screen.query_one("#answer").value, app.screen_stack[0].query_one("#filter").value)
                assert typed == ("cos", ""), typed
                print("ok")

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


# --- snapshots ------------------------------------------------------------------------------------

SIZES = [(80, 24), (60, 20)]
FUTURE = 2e9  # the store's clock in the snapshots: practice's draw is seeded by it


@pytest.fixture
def fixed_store(data_dir, monkeypatch):
    """A store whose seed and clock are fixed, so that practice draws the same items every run."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / SEED_FILE).write_text("snapshots\n", encoding="ascii")
    monkeypatch.setattr("autograd_tutor.progress.time", SimpleNamespace(time=lambda: FUTURE, sleep=time.sleep))
    finish_course(data_dir)
    return data_dir


async def torch_ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.engines_ready and isinstance(pilot.app.screen, PracticeScreen))
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_of_a_practice_item(snap_compare, fixed_store, size):
    app = make_app(fixed_store, practice=True)
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=torch_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_of_the_skills_view(snap_compare, fixed_store, size):
    async def skills(pilot):
        await wait_until(pilot, lambda: pilot.app.engines_ready)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SkillsScreen))
        await pilot.pause()

    app = make_app(fixed_store)
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=skills)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_of_the_catalogue_with_skills(snap_compare, fixed_store, size):
    async def catalogue(pilot):
        await wait_until(pilot, lambda: pilot.app.engines_ready)
        await pilot.pause()

    app = make_app(fixed_store)
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=catalogue)


def test_in_a_lab_practice_touches_only_the_students_own_store(tmp_path, monkeypatch):
    """A lab tutor (lab=True): practice and the skills view read and write the student's own
    database and nothing else (no file in the working directory, no other student's store)."""
    data = tmp_path / "lab"
    finish_course_for(ProgressStore.for_student(data, "alice"))
    bob = ProgressStore.for_student(data, "bob")
    finish_course_for(bob)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    lessons, problems = library([COURSE])
    store = ProgressStore.for_student(data, "alice")
    app = TutorApp(lessons, problems, store, lab=True)

    async def scenario(pilot):
        await wait_until(pilot, lambda: app.engines_ready)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, SkillsScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeScreen))
        item = app.screen.practice.item
        await type_text(pilot, item.step.answer)
        await pilot.press("enter")
        await wait_until(pilot, lambda: item.recorded)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PracticeDoneScreen))
        await pilot.press("s", "j")  # keys that save files on a lesson's summary do nothing here

    play(app, scenario)
    store.close()
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed and all(p.is_relative_to(data / "students" / "alice") for p in changed)
    assert not list(work.iterdir())


def finish_course_for(store: ProgressStore) -> None:
    lessons, _ = library([COURSE])
    for lesson in lessons:
        session = store.open(lesson)
        for step in lesson.steps:
            if step.takes_answer:
                session.submit(step.answer)
            session.advance()
        store.save(session)
    store.close()
