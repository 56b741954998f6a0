"""Practice: Enter on an answered item -> the next item on screen, over 100 items.

The real app runs headless at 80x24 on the bundled course with every lesson
finished (its steps' skills as the course names or implies them). Each item is revealed (untimed), then
Enter is handed to the app's driver as a terminal would and the clock stops
when the step title shows the next item. The time includes choosing the item,
a new LessonSession on a fresh variant, torch's truths for it, a predict or
run step's live state, and drawing. Target (an absolute bar): p99 <= 100 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from textual import events  # noqa: E402

from autograd_tutor.lesson.loader import library  # noqa: E402
from autograd_tutor.progress import ProgressStore  # noqa: E402
from autograd_tutor.session import LessonSession  # noqa: E402
from autograd_tutor.ui.app import TutorApp  # noqa: E402
from autograd_tutor.ui.screens.practice import PracticeScreen  # noqa: E402

ITEMS = 100
SLOWEST: list[tuple[float, str, str, int]] = []  # (seconds, lesson, step kind, item number)
BUNDLED = Path(__file__).parent.parent / "autograd_tutor" / "lessons"


def finish(lessons, store: ProgressStore) -> None:
    for lesson in lessons:
        session = LessonSession(lesson, None, seed=store.seed)
        for _ in lesson.steps:
            session.reveal()
            session.advance()
        store.save(session)


async def measure(data_dir: Path, lessons_dir: Path) -> tuple[list[float], int]:
    lessons, problems = library([lessons_dir])
    store = ProgressStore(data_dir)
    finish(lessons, store)
    app = TutorApp(lessons, problems, store)
    times: list[float] = []
    kinds: set[str] = set()
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.engines_ready:
            await pilot.pause(0.05)
        while len(times) < ITEMS:
            app.start_practice()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PracticeScreen)
            title = screen.query_one("#step-title")
            while isinstance(app.screen, PracticeScreen) and len(times) < ITEMS:
                kinds.add(screen.practice.item.step.kind)
                screen.action_reveal()
                await pilot.pause()
                number = len(screen.practice.items)
                last = number == screen.practice.size
                start = time.perf_counter()
                app._driver.send_message(events.Key("enter", "\r"))
                for _ in range(100_000):  # bounded: an item that never shows fails the run
                    await asyncio.sleep(0)
                    if last and not isinstance(app.screen, PracticeScreen):
                        break
                    if f"Practice {number + 1} of" in str(title.render()):
                        break
                else:
                    raise AssertionError(f"item {number + 1} never appeared")
                if not last:
                    times.append(time.perf_counter() - start)
                    item = screen.practice.item
                    SLOWEST.append((times[-1], item.lesson.id, item.step.kind, len(times)))
            await pilot.pause()
            app.pop_screen()  # the practice summary, back to the catalogue
            await pilot.pause()
    return times, len(kinds)


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        times, kinds = asyncio.run(measure(Path(data_dir), BUNDLED))
    ms = sorted(t * 1000 for t in times)
    p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99) - 1]
    for seconds, lesson, kind, number in sorted(SLOWEST, reverse=True)[:3]:  # where the time goes
        print(f"  slowest: {seconds * 1000:.1f} ms, item {number}, {lesson} ({kind})")
    verdict = "ok" if p99 <= 100 else "OVER"
    print(
        f"practice  Enter -> next item: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"
        f" over {len(ms)} items of {kinds} step kinds; p99 / bar = {p99 / 100:.2f} (bar 100 ms) {verdict}"
    )


if __name__ == "__main__":
    main()
