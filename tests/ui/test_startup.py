"""The first screen needs neither torch nor sympy; in a lesson opened before torch
is loaded the learner can type, and the answer is judged once torch is there."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "lessons"


def test_first_screen_is_drawn_without_torch(tmp_path):
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from autograd_tutor.lesson.loader import library
        from autograd_tutor.progress import ProgressStore
        from autograd_tutor.ui.app import TutorApp

        lessons, problems = library([{str(FIXTURES)!r}])
        app = TutorApp(lessons, problems, ProgressStore(__import__("pathlib").Path({str(tmp_path)!r})))
        started = []
        app.start_warm_up = lambda: started.append(True)  # hold torch back

        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                assert "Chain rule through sin" in str(app.screen.query_one("DataTable").get_row_at(1)[1])
                assert started, "the warm-up is asked for once the screen is drawn"
                assert "torch" not in sys.modules and "sympy" not in sys.modules
                await pilot.press(*"sin", "enter")
                await pilot.pause()
                await pilot.press("1", "6")  # typing goes on while torch loads
                assert "torch is loading" in str(app.screen.query_one("#status").render())
                assert "torch" not in sys.modules
                TutorApp.start_warm_up(app)
                for _ in range(500):
                    if app.engines_ready:
                        break
                    await pilot.pause(0.02)
                await pilot.pause()
                assert "matches torch" in str(app.screen.query_one("#status").render())  # judged once loaded
                print("ok")

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_the_catalogue_is_drawn_from_the_files_before_the_lessons_are_built(tmp_path):
    """`autograd-tutor` with no lesson named: the rows come from each file's header and
    the first screen imports neither pydantic nor numpy; Enter pressed meanwhile opens
    the lesson once it is built, and a file whose lesson does not build turns broken."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ("chain.yaml", "square.yaml"):
        (course / name).write_text((FIXTURES / name).read_text())
    (course / "zz-bad.yaml").write_text(
        "format: 1\nid: bad\ntitle: A header that reads\ninputs: {x: 1.0}\nnodes: {y: 'x +* 2'}\n"
    )
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from autograd_tutor.lesson.files import read
        from autograd_tutor.progress import ProgressStore
        from autograd_tutor.ui.app import TutorApp

        app = TutorApp.reading(read([{str(course)!r}]), ProgressStore(Path({str(tmp_path)!r})))
        held = []
        app.start_warm_up = lambda: held.append(True)  # hold the build (and torch) back

        def rows():
            table = app.screen.query_one("DataTable")
            return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]

        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                assert held
                titles = ["Chain rule through sin(x²)", "The derivative of x squared", "A header that reads"]
                assert [r[1] for r in rows()] == titles
                heavy = [m for m in ("numpy", "pydantic", "autograd_tutor.lesson.loader") if m in sys.modules]
                assert not heavy, heavy
                await pilot.press(*"sin", "enter")
                await pilot.pause()
                assert type(app.screen).__name__ == "CatalogueScreen"  # nothing to open yet
                TutorApp.start_warm_up(app)
                for _ in range(500):
                    if type(app.screen).__name__ == "LessonScreen":
                        break
                    await pilot.pause(0.02)
                assert app.screen.lesson.id == "chain-rule-sin-square"
                app.pop_screen()
                await pilot.press("escape")
                await pilot.pause()
                assert rows()[-1][:2] == ["--", "zz-bad.yaml"] and rows()[-1][-1] == "broken"
                assert len(rows()) == 3
                print("ok")

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_what_is_asked_while_the_lessons_are_built_happens_once_and_in_order(tmp_path):
    """Enter pressed twice while the lessons are built opens the lesson once (the second
    Enter reaches it); keys typed after that Enter wait for the lesson rather than acting
    on the catalogue (ctrl+y's dialog is not left under it), and for its introduction
    first when it opens on one; a request whose screen is no longer on top when the
    lessons are built is dropped."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ("chain.yaml", "square.yaml"):
        (course / name).write_text((FIXTURES / name).read_text())
    opening = (FIXTURES / "chain.yaml").read_text().replace("id: chain-rule-sin-square", "id: with-intro")
    (course / "intro.yaml").write_text(opening.replace("title: Chain rule", "intro: Read me first.\ntitle: Intro"))
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from autograd_tutor.lesson.files import read
        from autograd_tutor.progress import ProgressStore
        from autograd_tutor.ui.app import TutorApp

        def started():
            app = TutorApp.reading(read([{str(course)!r}]), ProgressStore(Path({str(tmp_path)!r})))
            app.start_warm_up = lambda: None  # hold the build (and torch) back
            return app

        async def build(app, pilot):
            TutorApp.start_warm_up(app)
            for _ in range(500):
                if app.shelf is None and type(app.screen).__name__ != "CatalogueScreen":
                    break
                await pilot.pause(0.02)
            await pilot.pause(0.3)

        def stack(app):
            return [type(s).__name__ for s in app.screen_stack]

        async def main():
            app = started()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await pilot.press(*"sin", "enter", "enter", "1", "6")
                await pilot.pause()
                assert stack(app) == ["CatalogueScreen"], stack(app)
                assert app.screen.query_one("#filter").value == "sin"  # what followed Enter waits
                await build(app, pilot)
                assert stack(app) == ["CatalogueScreen", "LessonScreen"], stack(app)
                assert app.screen.query_one("#answer").value == "16"
            app = started()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await pilot.press(*"sin", "enter", "ctrl+y")
                await build(app, pilot)
                assert stack(app) == ["CatalogueScreen", "LessonScreen"], stack(app)  # no dialog under it
            app = started()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                catalogue = app.screen
                catalogue.action_open()  # asked (as from the command palette), then a dialog opened
                catalogue.action_reset_all()
                await pilot.pause()
                await build(app, pilot)
                assert stack(app) == ["CatalogueScreen", "Confirm"], stack(app)
            app = started()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await pilot.press(*"intro", "enter", "enter", "1", "6")  # the second Enter: past its intro
                await build(app, pilot)
                assert stack(app) == ["CatalogueScreen", "LessonScreen"], stack(app)
                assert app.screen.lesson.id == "with-intro" and app.screen.query_one("#answer").value == "16"
            print("ok")

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
