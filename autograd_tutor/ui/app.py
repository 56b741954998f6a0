"""The Textual app: catalogue -> lesson -> summary.

Started from a shelf of parsed files (`TutorApp.reading`), the catalogue is drawn
from the files' headers and the lessons are built in a worker thread behind it;
what the learner asks for meanwhile (open, practise, skills) runs once they are.
torch (and sympy, for pretty formulas) are imported in the same thread next; a
lesson opened before then shows a loading state.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable
from time import monotonic
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen

from ..lesson.files import Header, Shelf
from ..lesson.problems import Problem
from ..present.course import course_progress, next_lesson
from ..progress import ProgressStore

if TYPE_CHECKING:
    from ..lesson.loader import Lesson


EARLY_KEYS_WAIT = 3.0  # seconds the screen keys are meant for may take to come before they go on anyway
HOLD_POLL = 0.02  # seconds between looks at whether that screen has come
WAIT_NOTICE = 0.4  # seconds a lesson asked for may take to be built before the learner is told


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
        self.waiting: Callable[[], None] | None = None  # asked for before the lessons were built
        self.held: list[events.Key | events.Paste] | None = []  # typed while starting (None: started)
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
        """Run `action` now, or once the lessons are built if the screen that asked is still
        on top then. Only the last request waits: Enter twice opens one lesson, and a dialog
        opened meanwhile is not covered by what was asked before it."""
        if self.shelf is None:
            action()
            return
        asker = self.screen
        self.waiting = lambda: action() if self.screen is asker else None
        self.set_timer(WAIT_NOTICE, self._still_building)

    def _still_building(self) -> None:
        if self.waiting is not None:
            self.notify("Reading the lessons: a moment.", timeout=2, markup=False)

    def built(self, lessons: list[Lesson], problems: list[Problem]) -> None:
        """The lessons are built: the catalogue lists them (a file whose lesson did not
        build is listed as broken) and what was asked for meanwhile runs."""
        from .screens.catalogue import CatalogueScreen

        self.lessons, self.problems, self.shelf = lessons, problems, None
        for screen in self.screen_stack:
            if isinstance(screen, CatalogueScreen):
                screen.lessons_built()
        waiting, self.waiting = self.waiting, None
        if waiting is not None:
            waiting()

    async def on_event(self, event: events.Event) -> None:
        """Keys (and pastes) typed while the tutor starts are held until the screen they are
        meant for can take them, then handed over in order (else Textual drops them or gives
        them to a screen about to be covered). A newline (ctrl+j) is an Enter: one typed
        before the terminal left line mode reaches us so."""
        if isinstance(event, events.Key) and event.key == "ctrl+j" and not event.is_forwarded:
            event = events.Key("enter", "\r")
        if self.held is not None and isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            if self.held or not self._takes_keys():
                self.held.append(event)
                if len(self.held) == 1:
                    self._hand_over_held(monotonic() + EARLY_KEYS_WAIT)
                return
            if self.shelf is None:
                self.held = None  # started: keys go straight on from now
        await super().on_event(event)

    def _takes_keys(self) -> bool:
        """Nothing is about to open over the screen on top (a lesson or a practice asked for
        while the lessons are built or torch loads; a lesson's intro), and that screen is
        mounted and has focused its input, or has none to focus."""
        if self.waiting is not None or self.open_practice:
            return False
        screen = self.screen
        if not getattr(screen, "settled", True):
            return False
        return self.focused is not None or (screen.is_mounted and not screen.focus_chain)

    @work(group="held-keys", exclusive=True)
    async def _hand_over_held(self, deadline: float) -> None:
        """Hand the held keys over one by one while the screen on top takes them (an Enter
        among them may open a lesson: the keys after it wait for it); after `deadline`,
        whatever the screen."""
        while self.held:
            if not self._takes_keys() and monotonic() < deadline:
                await asyncio.sleep(HOLD_POLL)
                continue
            pumps = [self.focused, self.screen]
            await super().on_event(self.held.pop(0))
            for pump in pumps:  # the key's work done first (an Enter's Submitted reaches the screen)
                if pump is not None and pump.is_attached:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(pump.wait_for_refresh(), HOLD_POLL * 10)
        if monotonic() >= deadline:
            self.held = None  # the screen never came: keys go straight on from now

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
            self.open_practice = False
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
