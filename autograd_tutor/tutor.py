"""Starting the tutor: load the lessons, open the progress store, run the app
(or the plain line-by-line mode)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from .lesson.loader import BUNDLED, library
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
    practice: bool = False,
) -> int:
    lessons, problems = library(paths or [BUNDLED])
    if not lessons:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("autograd-tutor: no lesson to open", file=sys.stderr)
        return 2
    single = len(paths) == 1 and Path(paths[0]).is_file()
    open_lesson = lessons[0].id if single else None
    store = ProgressStore(data_dir or default_data_dir(), student or default_student())
    if practice:
        empty = store.start_practice(lessons).empty
        if empty:
            print(f"autograd-tutor practice: {empty}", file=sys.stderr)
            store.close()
            return 1
    try:
        if plain:
            from .plain import PlainTutor

            PlainTutor(lessons, store, problems=problems).run(open_lesson)
        else:
            from .ui.app import TutorApp

            TutorApp(lessons, problems, store, ansi=ansi, open_lesson=open_lesson, practice=practice).run()
    finally:
        store.close()
    return 0
