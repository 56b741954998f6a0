"""A course on disk, read before anything is built from it.

`read(paths)` finds the lesson files (directories in file-name order) and parses
each one's YAML, located, into a `Shelf`. Its headers (id, title, summary, level,
tags) are what the catalogue lists, so the first screen waits for the YAML only:
building the lessons (`loader.build`: the schema, the expressions, the values)
comes behind it, from the same parsed files. Nothing here imports numpy or pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .problems import Problem
from .source import Source, SourceError, file_text
from .source import read as read_source

if TYPE_CHECKING:
    from .loader import Lesson

LESSON_SUFFIXES = (".yaml", ".yml")
SKILLS_FILE = "skills.yaml"  # a course's skill names, beside its lessons: not a lesson
BUNDLED = Path(__file__).parent.parent / "lessons"  # the course that ships with the tutor


@dataclass(frozen=True)
class Header:
    """What the catalogue shows of a lesson. Read from the file before the lesson is
    built; a file whose lesson then fails to build is listed as broken instead."""

    file: str
    id: str
    title: str
    summary: str | None = None
    level: int | None = None
    tags: tuple[str, ...] = ()
    steps: int | None = None  # the steps the file lists (None: the automatic sequence, counted once built)

    @classmethod
    def of(cls, lesson: Lesson) -> Header:
        spec = lesson.spec
        return cls(lesson.file, spec.id, spec.title, spec.summary, spec.level, tuple(spec.tags), len(lesson.steps))

    @classmethod
    def read(cls, file: str, data: object) -> Header | None:
        """The header of a parsed file, or None when it has no text id and title (the
        build says what is wrong). Fields of the wrong type are left out here."""
        if not isinstance(data, dict):
            return None
        id, title, summary, level, tags, steps = (
            data.get(k) for k in ("id", "title", "summary", "level", "tags", "steps")
        )
        if not isinstance(id, str) or not isinstance(title, str):
            return None
        return cls(
            file,
            id,
            title,
            summary if isinstance(summary, str) else None,
            level if type(level) is int and 1 <= level <= 5 else None,
            tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
            len(steps) if isinstance(steps, list) else None,
        )


@dataclass
class Shelf:
    """Every lesson file under some paths, parsed: a Source, or the Problem that
    stopped the file from parsing. `problems` are the paths' own (no lesson files)."""

    paths: list[Path]
    files: dict[Path, Source | Problem] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def headers(self) -> list[Header]:
        """The header of each file that has one, in order; an id seen before is left out."""
        found: dict[str, Header] = {}
        for file, source in self.files.items():
            header = Header.read(str(file), source.data) if isinstance(source, Source) else None
            if header is not None and header.id not in found:
                found[header.id] = header
        return list(found.values())


def read(paths: list[str | Path]) -> Shelf:
    """Find and parse every lesson file under `paths`."""
    files, problems = scan(paths)
    shelf = Shelf([Path(p) for p in paths], problems=problems)
    for file in files:
        try:
            shelf.files[file] = read_source(str(file), file_text(file))
        except SourceError as err:
            shelf.files[file] = err.problem
    return shelf


def unloaded(lessons: list[Header] | list[Lesson], problems: list[Problem]) -> dict[str, Problem]:
    """The files of a library that hold no loaded lesson, each with its first error
    (what the app and --plain list as broken; a directory's own problems are not files)."""
    loaded = {lesson.file for lesson in lessons}
    first: dict[str, Problem] = {}
    for problem in problems:
        if problem.severity == "error" and problem.file not in loaded and not Path(problem.file).is_dir():
            first.setdefault(problem.file, problem)
    return first


def lesson_files(paths: list[str | Path]) -> list[Path]:
    """The lesson files under `paths` (directories in file-name order), each once."""
    return scan(paths)[0]


def scan(paths: list[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The lesson files under `paths`, each once (a file given twice, or inside a
    directory also given, is one file), and problems for paths that hold none."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    given = {Path(p).resolve() for p in paths}
    for p in map(Path, paths):
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        if not p.exists() and not p.is_symlink():
            problems.append(Problem(str(p), 0, 0, "no such file or directory"))
        elif not p.is_dir():
            files.append(p)
        else:
            try:
                entries = sorted(p.iterdir())
            except OSError as err:
                problems.append(Problem(str(p), 0, 0, f"cannot read: {err.strerror or err}"))
                continue
            found = [f for f in entries if _lesson_like(f)]
            for sub in entries:
                if sub.resolve() not in given and not sub.name.startswith(".") and _holds_lessons(sub):
                    message = "subdirectory not read: lessons are read from the directory itself; give it as a path"
                    problems.append(Problem(str(sub), 0, 0, message, "warning"))
            if not found:
                problems.append(Problem(str(p), 0, 0, "no lesson files (*.yaml) in this directory"))
            for f in found:
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    files.append(f)
    return files, problems


def _lesson_like(path: Path) -> bool:
    return path.suffix in LESSON_SUFFIXES and path.name != SKILLS_FILE and not path.is_dir()


def _holds_lessons(path: Path) -> bool:
    try:
        return path.is_dir() and any(map(_lesson_like, path.iterdir()))
    except OSError:
        return False
