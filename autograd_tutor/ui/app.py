"""The Textual app: catalogue -> lesson -> summary.

Started from a shelf of parsed files (`TutorApp.reading`), the catalogue is drawn
from the files' headers and the lessons are built in a worker thread behind it;
what the learner asks for meanwhile (open, practise, skills) runs once they are.
torch (and sympy, for pretty formulas) are imported in the same thread next; a
lesson opened before then shows a loading state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from time import monotonic
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen

from ..lesson.files import Header, Shelf
from ..lesson.problems import Problem
from ..present.course import course_progress, next_lesson
from ..progress import ProgressStore

if TYPE_CHECKING:
    from ..lesson.loader import Lesson


EARLY_KEYS_WAIT = 3.0  # seconds the first screen may take to compose before held keys go on anyway


class TutorApp(App):
    TITLE = "autograd-tutor"
    CSS_PATH = "tutor.tcss"
    # Textual's own commands kept in a lab session (`lab=True`): the others
    # (Screenshot writes a file on the server) are not offered.
    LAB_SYSTEM_COMMANDS = ("Theme", "Quit", "Keys")

    engines_ready: reactive[bool] = reactive(False)

    def __init__(
        self,
        lessons: list[Lesson],
        problems: list[Problem],
        store: ProgressStore,
        *,
        ansi: bool = False,
        open_lesson: str | None = None,
        practice: bool = False,
        lab: bool = False,
    ):
        super().__init__(ansi_color=ansi)
        self.lessons = lessons
        self.problems = problems
        self.store = store
        self.open_lesson = open_lesson
        self.open_practice = practice  # start with a practice (`autograd-tutor practice`)
        self.lab = lab  # a student on a shared server: nothing that reaches its files or programs
        self.symbolic_ready = threading.Event()  # set by the warm-up once sympy is imported
        self.broken: dict[str, Problem] = {}  # lesson id -> the first error validate reports, once checked
        self.shelf: Shelf | None = None  # the files read, their lessons not built yet (`reading`)
        self._headers: list[Header] = []  # the shelf's
        self.waiting: list[Callable[[], None]] = []  # asked for before the lessons were built
        self.early_keys: list[events.Key] | None = []  # typed before the first screen could take them
        if ansi:
            self.theme = "ansi-dark"

    @classmethod
    def reading(cls, shelf: Shelf, store: ProgressStore, **options) -> TutorApp:
        """An app whose catalogue lists the files' headers while the lessons are built."""
        unparsed = [p for p in shelf.files.values() if isinstance(p, Problem)]
        app = cls([], [*shelf.problems, *unparsed], store, **options)
        app.shelf = shelf
        app._headers = shelf.headers()
        return app

    @property
    def headers(self) -> list[Header]:
        """What the catalogue lists: the lessons', or the files' until the lessons are built."""
        return self._headers if self.shelf is not None else [Header.of(lesson) for lesson in self.lessons]

    def when_built(self, action: Callable[[], None]) -> None:
        """Run `action` now, or once the lessons are built."""
        if self.shelf is None:
            action()
        else:
            self.waiting.append(action)

    def built(self, lessons: list[Lesson], problems: list[Problem]) -> None:
        """The lessons are built: the catalogue lists them (a file whose lesson did not
        build is listed as broken) and what was asked for meanwhile runs."""
        from .screens.catalogue import CatalogueScreen

        self.lessons, self.problems, self.shelf = lessons, problems, None
        for screen in self.screen_stack:
            if isinstance(screen, CatalogueScreen):
                screen.lessons_built()
        waiting, self.waiting = self.waiting, []
        for action in waiting:
            action()

    async def on_event(self, event: events.Event) -> None:
        """Keys typed while the tutor starts, before its first screen can take them, are held
        and handed over in order once it can (else Textual drops them). An Enter typed before
        the terminal left line mode reaches us as a newline (ctrl+j)."""
        if self.early_keys is not None and isinstance(event, events.Key) and not event.is_forwarded:
            if self.early_keys or not self._takes_keys():
                self.early_keys.append(events.Key("enter", "\r") if event.key == "ctrl+j" else event)
                if len(self.early_keys) == 1:
                    self.call_after_refresh(self._hand_over_early_keys, monotonic() + EARLY_KEYS_WAIT)
                return
            self.early_keys = None
        await super().on_event(event)

    def _takes_keys(self) -> bool:
        """The screen on top is mounted and has focused its input, or has none to focus."""
        screen = self.screen
        return self.focused is not None or (screen.is_mounted and not screen.focus_chain)

    async def _hand_over_early_keys(self, deadline: float) -> None:
        if not self._takes_keys() and monotonic() < deadline:  # the first screen is still being composed
            self.call_after_refresh(self._hand_over_early_keys, deadline)
            return
        keys, self.early_keys = self.early_keys or [], None
        for key in keys:
            await super().on_event(key)

    def get_default_screen(self) -> Screen:
        """The catalogue is the first screen drawn (no blank screen before it)."""
        from .screens.catalogue import CatalogueScreen

        return CatalogueScreen()

    def on_mount(self) -> None:
        self.use_store(self.store)
        if self.open_lesson:
            self.open(self.open_lesson)
        elif self.open_practice:
            self.start_practice()
        self.call_after_refresh(self.start_warm_up)

    def use_store(self, store: ProgressStore) -> None:
        """Keep progress in `store` from now on (a lab tutor started ahead gets its
        student's store this way), saying so if it cannot save."""
        self.store = store
        store.on_problem = self.progress_problem
        if store.problem:
            self.progress_problem(store.problem)
        screen = self.screen
        if screen.is_mounted and hasattr(screen, "refresh_rows"):  # the catalogue shows progress
            screen.refresh_rows()

    def progress_problem(self, message: str) -> None:
        """The progress store cannot save: say so, and let the learner go on."""
        self.notify(message, title="Progress not saved", severity="error", timeout=20, markup=False)

    def start_warm_up(self) -> None:
        """Begin importing torch, once the first screen is on the terminal."""
        self.run_worker(self._warm_up, thread=True, group="warm-up", exit_on_error=False)

    def _warm_up(self) -> None:
        """Off the UI thread: build the lessons if they are not, import torch and sympy,
        and check the lessons as `validate` does."""
        if self.shelf is not None:
            from ..lesson.loader import build

            self.call_from_thread(self.built, *build(self.shelf))
        from ..engine.torch_import import warm_up as warm_up_torch
        from ..expr.symbolic import warm_up
        from ..validate import lesson_errors

        warm_up_torch()
        self.call_from_thread(setattr, self, "engines_ready", True)
        broken = {lesson.id: errors[0] for lesson in self.lessons if (errors := lesson_errors(lesson))}
        if broken:
            self.call_from_thread(self.mark_broken, broken)
        warm_up()
        self.symbolic_ready.set()

    def mark_broken(self, broken: dict[str, Problem]) -> None:
        from .screens.catalogue import CatalogueScreen

        self.broken = broken
        for screen in self.screen_stack:
            if isinstance(screen, CatalogueScreen):
                screen.refresh_rows()

    @property
    def blink(self) -> bool:
        """Whether cursors blink: not when animations are off (tests, snapshots)."""
        return self.animation_level != "none"

    def header(self, lesson_id: str) -> Header:
        return next(header for header in self.headers if header.id == lesson_id)

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        return next_lesson(self.lessons, lesson_id)

    def course_progress(self) -> str:
        return course_progress(self.headers, self.store.summary())

    def where(self, lesson: Lesson) -> str:
        """A lesson's title and its place in the course, for title bars."""
        place = next((i for i, other in enumerate(self.lessons, 1) if other.id == lesson.id), None)
        return f"{lesson.title} · lesson {place} of {len(self.lessons)}" if place else lesson.title

    def open(self, lesson_id: str) -> None:
        """Open a lesson (once the lessons are built); one that did not build says why."""
        from .screens.lesson import LessonScreen

        if self.shelf is not None:
            self.when_built(lambda: self.open(lesson_id))
            return
        lesson = next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)
        if lesson is None:
            self.notify("This lesson is broken: its row in the catalogue says why.", severity="error", markup=False)
            return
        self.push_screen(LessonScreen(lesson))

    def start_practice(self) -> None:
        """About ten steps of finished lessons, weakest skills first; or say why there are none.
        Items are drawn with torch (fresh numbers must be finite), so not before it is loaded."""
        from .screens.practice import PracticeScreen

        if self.shelf is not None:
            self.when_built(self.start_practice)
            return
        practice = self.store.start_practice(self.lessons)
        if practice.empty:
            self.notify(practice.empty, markup=False)
            return
        if not self.engines_ready:
            self.open_practice = True
            self.notify("Loading torch: the practice starts in a moment.", markup=False)
            return
        self.open_practice = False
        self.clear_notifications()  # "Loading torch: the practice starts in a moment."
        practice.next()
        self.push_screen(PracticeScreen(practice))

    def watch_engines_ready(self, ready: bool) -> None:
        if ready and self.open_practice:
            self.call_later(self.start_practice)  # once the screens have seen torch arrive

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if not self.lab or command.title in self.LAB_SYSTEM_COMMANDS:
                yield command
        yield from getattr(screen, "commands", lambda: ())()

    def deliver_screenshot(self, filename=None, path=None, time_format=None) -> str | None:
        """Not in a lab session: it would write into the server's file system."""
        if self.lab:
            self.notify("Screenshots are not available in a lab session.", markup=False)
            return None
        return super().deliver_screenshot(filename, path, time_format)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Not in a lab session: it would start a browser on the server."""
        if self.lab:
            self.notify(f"Open {url} on your own computer.", markup=False)
            return
        super().open_url(url, new_tab=new_tab)
