"""`--plain`: the tutor line by line, for screen readers and dumb terminals.

Driven by the same LessonSession and progress store as the app.
"""

from __future__ import annotations

from collections.abc import Callable

from .lesson.loader import Lesson, unloaded
from .lesson.problems import Problem
from .progress import ProgressStore
from .session import LessonSession

HELP = "Commands: :hint  :reveal  :next (skip)  :back  :lessons  :quit"


class PlainTutor:
    def __init__(
        self,
        lessons: list[Lesson],
        store: ProgressStore,
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
        problems: list[Problem] = (),
    ):
        self.lessons = lessons
        self.store = store
        self.read = read
        self.write = write
        self.problems = list(problems)  # from loading the lessons
        self._broken: dict[str, Problem] | None = None

    @property
    def broken(self) -> dict[str, Problem]:
        """Lesson id -> the first error `validate` reports for it (checked once, with torch)."""
        if self._broken is None:
            from .validate import lesson_errors

            self.write("Checking the lessons…")
            self._broken = {lesson.id: errors[0] for lesson in self.lessons if (errors := lesson_errors(lesson))}
        return self._broken

    def run(self, open_lesson: str | None = None) -> None:
        try:
            if open_lesson:
                self.open(next(lesson for lesson in self.lessons if lesson.id == open_lesson))
            while (lesson := self.choose()) is not None:
                self.open(lesson)
        except (EOFError, KeyboardInterrupt):
            self.write("")
        self.write("Bye. Your progress is saved.")

    def open(self, lesson: Lesson) -> None:
        problem = self.broken.get(lesson.id)
        if problem is not None:
            self.write(f"“{lesson.title}” is broken and cannot be played: {problem}")
            return
        self.play(lesson)

    def choose(self) -> Lesson | None:
        broken = self.broken
        progress = self.store.summary()
        self.write("Lessons:")
        for number, lesson in enumerate(self.lessons, 1):
            done = progress.get(lesson.id)
            state = "broken" if lesson.id in broken else done.describe() if done else "not started"
            self.write(f"  {number:2}. {lesson.title} ({state})")
        self.write_skipped()
        while True:
            choice = self.read("Lesson number (q to quit): ").strip().lower()
            if choice in ("q", ":q", ":quit", "quit"):
                return None
            if choice.isdigit() and 1 <= int(choice) <= len(self.lessons):
                lesson = self.lessons[int(choice) - 1]
                if lesson.id not in broken:
                    return lesson
                self.write(f"Lesson {choice} is broken: {broken[lesson.id]}")
            else:
                self.write(f"Type a number from 1 to {len(self.lessons)}, or q.")

    def write_skipped(self) -> None:
        """The lessons that are broken, and the files that hold no lesson, with their first problem."""
        skipped = unloaded(self.lessons, self.problems)
        broken = [self.broken[lesson.id] for lesson in self.lessons if lesson.id in self.broken]
        if broken:
            self.write("Broken (autograd-tutor validate lists every problem):")
            for problem in broken:
                self.write(f"  {problem}")
        if skipped:
            files = "1 file that does" if len(skipped) == 1 else f"{len(skipped)} files that do"
            self.write(f"Skipped {files} not load:")
            for problem in skipped.values():
                self.write(f"  {problem}")

    def play(self, lesson: Lesson) -> None:
        session = LessonSession(lesson, self.store.load(lesson.id), seed=self.store.seed)
        self.write(f"\n{lesson.title}")
        if session.intro and session.index == 0:
            self.write(session.intro.strip())
        self.write(HELP)
        self.write("Loading torch…")
        session.engine  # noqa: B018 - import torch before the first question
        while True:
            step, record = session.step, session.record
            self.write(f"\nStep {step.index + 1} of {len(session.steps)} · {step.kind}")
            self.write(session.prompt)
            if step.kind == "run" and not step.ask:
                self.show_run(session)
            if record.status == "solved":
                self.write(f"(solved: {record.answer})")
            action = self.ask(session)
            if action == "lessons":
                self.store.save(session)
                return
            moved = session.back() if action == "back" else session.advance()
            self.store.save(session)  # where the learner now is, so a lost connection resumes here
            if action == "next" and not moved:
                solved, asked = session.score
                self.write(f"\nDone: {solved}/{asked} correct. Back to the lessons.\n")
                return

    def ask(self, session: LessonSession) -> str:
        """Read answers and commands for the current step until it is left."""
        step = session.step
        while True:
            open_ = step.takes_answer and session.record.status in ("pending", "skipped")
            text = self.read("answer> " if open_ else "(Enter to go on)> ").strip()
            command = text.lower()
            if command in (":q", ":quit", ":lessons"):
                return "lessons"
            if command in (":b", ":back"):
                return "back"
            if command in (":n", ":next", ":s", ":skip") or (not open_ and not text):
                return "next"
            if command in (":h", ":hint"):
                hint = session.hint() if open_ else None
                self.write(f"Hint: {hint}" if hint else "No more hints; :reveal shows the answer.")
                self.store.save(session)
            elif command in (":r", ":reveal"):
                if step.takes_answer:
                    truth = session.reveal()
                    self.write(f"{'the answer' if step.kind == 'choose' else 'torch says'}: {truth.text}")
                    for extra in (truth.derivative, truth.answer and f"model answer: {truth.answer}", truth.message):
                        if extra:
                            self.write(extra)
                    self.store.save(session)
            elif command.startswith(":"):
                self.write(HELP)
            elif not open_:
                self.write("This step is done: press Enter to go on, or :back.")
            elif text:
                verdict = session.submit(text)
                if verdict.status == "invalid":
                    self.write(f"Cannot read that: {verdict.feedback}")
                    continue
                self.store.save(session)
                if verdict.correct:
                    self.write(f"Correct. (read as {verdict.read_as})")
                    if verdict.feedback:
                        self.write(verdict.feedback)
                    if step.kind == "run":
                        self.show_run(session)
                    if step.explain:
                        self.write(session.explanation.strip())
                    return "next"
                else:
                    self.write(f"Not right: {verdict.feedback}")

    def show_run(self, session: LessonSession) -> None:
        result = session.run_result()
        for r in result.results:
            self.write(">>> " + r.code.replace("\n", "\n... "))
            for printed in r.output:
                self.write(printed)
            if r.warning:
                self.write(f"UserWarning: {r.warning}")
            if r.error:
                self.write(r.error)
        self.write(f"outcome: {result.outcome}")
