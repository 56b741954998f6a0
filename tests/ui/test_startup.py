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
