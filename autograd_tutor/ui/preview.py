"""`autograd-tutor preview`: the lesson open in the app, reloaded on every save.

The file's directory is watched with watchfiles (inotify and its kin), or by
polling on file systems that send no events (network mounts; `--poll`). A save
that breaks the lesson shows its located problems; the next good save brings
the lesson back at the same step, where that step still exists.
"""

from __future__ import annotations

from pathlib import Path

from ..lesson.loader import load
from ..lesson.problems import LessonInvalid
from ..session import LessonSession
from .app import TutorApp
from .screens.lesson import LessonScreen
from .screens.problems import ProblemsScreen


class PreviewApp(TutorApp):
    def __init__(self, path: Path, store, *, poll: bool = False, ansi: bool = False):
        super().__init__([], [], store, ansi=ansi)
        self.path = path.resolve()
        self.poll = poll
        self.step_index = 0

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
        screen = self.screen
        if isinstance(screen, LessonScreen):
            self.step_index = screen.session.index
        try:
            lesson = load(self.path)
        except LessonInvalid as err:
            self.lessons = []
            self._show(ProblemsScreen(err.problems))
            return
        self.lessons = [lesson]
        session = LessonSession(lesson)
        session.index = min(self.step_index, len(session.steps) - 1)
        self._show(LessonScreen(lesson, session))

    def _show(self, screen) -> None:
        if isinstance(self.screen, LessonScreen | ProblemsScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
