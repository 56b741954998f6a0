"""The Textual app: catalogue -> lesson -> summary.

torch (and sympy, for pretty formulas) are imported in a worker thread after
the first screen is drawn; a lesson opened before then shows a loading state.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen

from ..lesson.loader import Lesson
from ..lesson.problems import Problem
from ..progress import ProgressStore


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
        self.symbolic_ready = False  # sympy imported, by the warm-up worker
        self.broken: dict[str, Problem] = {}  # lesson id -> the first error validate reports, once checked
        if ansi:
            self.theme = "ansi-dark"

    def on_mount(self) -> None:
        from .screens.catalogue import CatalogueScreen

        self.push_screen(CatalogueScreen())
        if self.open_lesson:
            self.open(self.open_lesson)
        elif self.open_practice:
            self.start_practice()
        self.call_after_refresh(self.start_warm_up)

    def start_warm_up(self) -> None:
        """Begin importing torch, once the first screen is on the terminal."""
        self.run_worker(self._warm_up, thread=True, group="warm-up", exit_on_error=False)

    def _warm_up(self) -> None:
        """Import torch and sympy off the UI thread, and check the lessons as `validate` does."""
        from ..engine.torch_import import warm_up as warm_up_torch
        from ..expr.symbolic import warm_up
        from ..validate import lesson_errors

        warm_up_torch()
        self.call_from_thread(setattr, self, "engines_ready", True)
        broken = {lesson.id: errors[0] for lesson in self.lessons if (errors := lesson_errors(lesson))}
        if broken:
            self.call_from_thread(self.mark_broken, broken)
        warm_up()
        self.call_from_thread(setattr, self, "symbolic_ready", True)

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

    def lesson(self, lesson_id: str) -> Lesson:
        return next(lesson for lesson in self.lessons if lesson.id == lesson_id)

    def open(self, lesson_id: str) -> None:
        from .screens.lesson import LessonScreen

        self.push_screen(LessonScreen(self.lesson(lesson_id)))

    def start_practice(self) -> None:
        """About ten steps of finished lessons, weakest skills first; or say why there are none.
        Items are drawn with torch (fresh numbers must be finite), so not before it is loaded."""
        from .screens.practice import PracticeScreen

        practice = self.store.start_practice(self.lessons)
        if practice.empty:
            self.notify(practice.empty, markup=False)
            return
        if not self.engines_ready:
            self.open_practice = True
            self.notify("Loading torch: the practice starts in a moment.", markup=False)
            return
        self.open_practice = False
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
            self.notify("Screenshots are not available in a lab session.")
            return None
        return super().deliver_screenshot(filename, path, time_format)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Not in a lab session: it would start a browser on the server."""
        if self.lab:
            self.notify(f"Open {url} on your own computer.")
            return
        super().open_url(url, new_tab=new_tab)
