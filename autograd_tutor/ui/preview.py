"""`autograd-tutor preview`: the lesson open in the app, reloaded on every save.

The file's directory is watched with watchfiles (inotify and its kin), or by
polling on file systems that send no events (network mounts; `--poll`). A save
that breaks the lesson shows its located problems; the next good save brings
the lesson back at the same step: the step itself (its identity: its id, or its
kind and target), not its number, so inserting a step above it keeps the author
where they were. A
save that loads is then checked as `validate` checks it (model answers judged
correct, mistakes judged wrong, values finite), and its problems are shown over
the lesson.
"""

from __future__ import annotations

from pathlib import Path

from ..lesson.loader import Lesson, load
from ..lesson.problems import LessonInvalid, Problem
from ..lesson.steps import Step
from ..session import LessonSession
from .app import TutorApp
from .screens.lesson import LessonScreen
from .screens.problems import ProblemsScreen


class PreviewApp(TutorApp):
    def __init__(self, path: Path, store, *, poll: bool = False, ansi: bool = False):
        super().__init__([], [], store, ansi=ansi)
        self.path = path.resolve()
        self.poll = poll
        self.place: Step | None = None  # the step shown before the last save

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self.reload)  # on top of the catalogue, once it is shown
        self.run_worker(self._watch(), group="watch", exit_on_error=False)

    async def _watch(self) -> None:
        from watchfiles import awatch

        def this_file(change, path: str) -> bool:
            return Path(path).resolve() == self.path

        poll = self.poll
        while True:
            try:
                async for _ in awatch(
                    self.path.parent, watch_filter=this_file, debounce=200, force_polling=poll or None, recursive=False
                ):
                    self.reload()
                return
            except OSError as err:  # no file events here (e.g. inotify's limit): poll instead
                if poll:
                    self.notify(f"Cannot watch {self.path.parent}: {err}", severity="error", timeout=30)
                    return
                self.notify(f"File events unavailable ({err}); polling for changes instead.")
                poll = True

    def reload(self) -> None:
        shown = next((s for s in reversed(self.screen_stack) if isinstance(s, LessonScreen)), None)
        if shown is not None:
            self.place = shown.session.step
        try:
            lesson = load(self.path)
        except LessonInvalid as err:
            self.lessons = []
            self._show(ProblemsScreen(err.problems))
            return
        self.lessons = [lesson]
        session = LessonSession(lesson)
        if self.place is not None:
            session.index = same_step(self.place, session.steps)
        self._show(LessonScreen(lesson, session))
        self.run_worker(lambda: self._check(lesson), thread=True, group="check", exclusive=True, exit_on_error=False)

    def _check(self, lesson: Lesson) -> None:
        """In a worker thread: what `validate` would report for this save."""
        from ..validate import check_lesson

        problems = [*lesson.warnings, *check_lesson(lesson)]
        if problems:
            self.call_from_thread(self._checked, lesson, problems)

    def _checked(self, lesson: Lesson, problems: list[Problem]) -> None:
        if self.lessons != [lesson] or not isinstance(self.screen, LessonScreen):
            return  # another save since
        if any(p.severity == "error" for p in problems):
            self.push_screen(ProblemsScreen(problems, playable=True))
        else:
            noun = "warning" if len(problems) == 1 else "warnings"
            self.notify(f"validate: {len(problems)} {noun}: {problems[0]}", severity="warning", markup=False)

    def _show(self, screen) -> None:
        if isinstance(self.screen, ProblemsScreen) and self.screen.playable:
            self.pop_screen()  # the last save's checks, over its lesson
        if isinstance(self.screen, LessonScreen | ProblemsScreen) or len(self.screen_stack) > 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)


def same_step(step: Step, new_steps: list[Step]) -> int:
    """The index in `new_steps` of the step that `step` was: the one with its identity
    (its authored id, else its kind, target and which of equal steps it is); where it
    is gone, the same place, as near as the new lesson allows."""
    where = {repr(s.identity): s.index for s in new_steps}
    return where.get(repr(step.identity), min(step.index, len(new_steps) - 1))
