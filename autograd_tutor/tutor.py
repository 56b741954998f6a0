"""Starting the tutor: read the lessons, open the progress store, run the app
(or the plain line-by-line mode).

The catalogue is drawn from the files' headers: the lessons are built behind it,
so the first screen waits for neither pydantic nor numpy (nor torch). Every other
start (one lesson, practice, --plain) builds them first."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from .lesson.files import BUNDLED, read
from .progress import ProgressStore, default_data_dir


def default_student() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def run(
    paths: list[str],
    *,
    data_dir: Path | None = None,
    student: str | None = None,
    plain: bool = False,
    ansi: bool = False,
    authored: bool = False,
    practice: bool = False,
) -> int:
    shelf = read(paths or [BUNDLED])
    single = len(paths) == 1 and Path(paths[0]).is_file()
    catalogue_first = not (plain or practice or single) and bool(shelf.headers())
    lessons, problems = [], []
    if not catalogue_first:
        from .lesson.loader import build

        lessons, problems = build(shelf)
        if not lessons:
            for problem in problems:
                print(problem, file=sys.stderr)
            print("autograd-tutor: no lesson to open", file=sys.stderr)
            return 2
    open_lesson = lessons[0].id if single else None
    store = ProgressStore(data_dir or default_data_dir(), student or default_student(), fallback=True)
    store.authored = authored
    if practice:
        empty = store.start_practice(lessons).empty
        if empty:
            print(f"autograd-tutor practice: {empty}", file=sys.stderr)
            store.close()
            return 1
    try:
        if plain:
            from .plain import PlainTutor

            store.on_problem = said
            if store.problem:
                said(store.problem)
            PlainTutor(lessons, store, problems=problems).run(open_lesson)
        else:
            from .ui.app import TutorApp

            if catalogue_first:
                TutorApp.reading(shelf, store, ansi=ansi).run()
            else:
                TutorApp(lessons, problems, store, ansi=ansi, open_lesson=open_lesson, practice=practice).run()
    finally:
        store.close()
    return progress_status(store)


def said(message: str) -> None:
    print(f"autograd-tutor: {message}", file=sys.stderr, flush=True)


def progress_status(store: ProgressStore) -> int:
    """The exit status once the tutor has ended: 1, with the reason, when progress was lost."""
    if not store.failed:
        return 0
    said(store.problem or "your progress could not be saved.")
    return 1
