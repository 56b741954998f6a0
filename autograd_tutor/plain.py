"""`--plain`: the tutor line by line, for screen readers and dumb terminals.

Driven by the same LessonSession, progress store and presenter as the app: the
same texts, the same hidden facts, the same summary; Markdown is read out as
plain text and the graph of the current step is said in words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .lesson.files import unloaded
from .lesson.loader import Lesson
from .lesson.problems import Problem
from .present.course import course_progress, next_lesson
from .present.graph import graph_facts, in_words, step_names, whole_values
from .present.spans import plain
from .present.step import Keys, feedback_lines, no_more_hints, step_view, verdict_lines
from .present.summary import SummaryView, save, summary_view
from .present.text import markdown_to_plain
from .progress import ProgressStore
from .session import LessonSession

KEYS = Keys(hint=":hint", reveal=":reveal", next=":next")
HELP = "Commands: :hint  :reveal  :next (skip)  :back  :graph  :values  :intro  :lessons  :quit"
SUMMARY_HELP = "Enter: {next}.  :save py or :save ipynb keeps the code.  :lessons  :quit"


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
            lesson = next((x for x in self.lessons if x.id == open_lesson), None) if open_lesson else None
            while lesson is not None or (lesson := self.choose()) is not None:
                lesson = self.open(lesson)
        except (EOFError, KeyboardInterrupt):
            self.write("")
        self.write("Bye. Your progress is saved.")

    def open(self, lesson: Lesson) -> Lesson | None:
        """Play `lesson` unless it is broken; returns the lesson to play next (None: back to the list)."""
        problem = self.broken.get(lesson.id)
        if problem is not None:
            self.write(f"“{lesson.title}” is broken and cannot be played: {problem}")
            return None
        return self.play(lesson)

    def choose(self) -> Lesson | None:
        broken = self.broken
        progress = self.store.summary()
        self.write(course_progress(self.lessons, progress))
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

    def play(self, lesson: Lesson) -> Lesson | None:
        """Play `lesson`; returns the lesson to play next (None: back to the list)."""
        session = self.store.open(lesson)
        place = [x.id for x in self.lessons].index(lesson.id) + 1
        self.write(f"\n{lesson.title} (lesson {place} of {len(self.lessons)})")
        if session.intro and not any(r.done for r in session.records):
            self.say(session.intro)
        self.write(HELP)
        self.write("Loading torch…")
        session.engine  # noqa: B018 - import torch before the first question
        while True:
            self.show(session)
            action = self.ask(session)
            if action == "lessons":
                self.store.save(session)
                return None
            moved = session.back() if action == "back" else session.advance()
            self.store.save(session)  # where the learner now is, so a lost connection resumes here
            if action == "next" and not moved:
                return self.summary(session)

    def show(self, session: LessonSession) -> None:
        view = step_view(session, True, KEYS)
        self.write(f"\n{view.title}")
        self.say(view.prompt)
        for text in plain(view.formula).splitlines():
            self.write(text)
        self.graph(session)
        if view.feedback:
            self.write(plain(view.feedback))
        if view.explain:
            self.say(view.explain)

    def graph(self, session: LessonSession) -> None:
        """The graph facts of the current step, in words (a wide value abbreviated: :values has it whole)."""
        for sentence in in_words(graph_facts(session, True), step_names(session)):
            self.write(f"Graph: {sentence}")

    def say(self, markdown: str) -> None:
        self.write(markdown_to_plain(markdown))

    def ask(self, session: LessonSession) -> str:
        """Read answers and commands for the current step until it is left."""
        while True:
            open_ = session.is_open
            text = self.read("answer> " if open_ else "(Enter to go on)> ").strip()
            command = text.lower()
            if command in (":q", ":quit", ":lessons"):
                return "lessons"
            if command in (":b", ":back"):
                return "back"
            if command in (":n", ":next", ":s", ":skip") or (not open_ and not text):
                return "next"
            if command in (":h", ":hint"):
                self.hint(session)
            elif command in (":r", ":reveal"):
                if open_:
                    session.reveal(derivative=False)
                    self.store.save(session)
                    self.write(plain(feedback_lines(session, True, KEYS, session.derivative())))
            elif command in (":g", ":graph"):
                self.graph(session)
            elif command in (":v", ":values"):
                self.write(plain(whole_values(graph_facts(session, True))))
            elif command in (":i", ":intro"):
                self.say(session.intro or "This lesson has no introduction.")
            elif command.startswith(":"):
                self.write(HELP)
            elif not open_:
                self.write("This step is done: press Enter to go on, or :back.")
            elif text:
                verdict = session.submit(text)
                if verdict.status == "invalid":
                    where = f" (at column {verdict.col + 1})" if verdict.col is not None else ""
                    self.write(f"Cannot read that: {verdict.feedback}{where}")
                    continue
                self.store.save(session)
                self.write(plain(verdict_lines(session, verdict, text, reading=True)))
                if verdict.correct:
                    if session.explanation:
                        self.say(session.explanation)
                    return "next"

    def hint(self, session: LessonSession) -> None:
        hint = session.hint() if session.is_open else None
        if hint is None:
            self.write(no_more_hints(KEYS))
            return
        self.store.save(session)
        shown, total = session.record.hints, len(session.hints())
        self.write(f"Hint {shown} of {total}: {hint}")

    def summary(self, session: LessonSession) -> Lesson | None:
        """The same summary as the app's, then on to the next lesson (or back to the list)."""
        view = summary_view(session)
        self.write(summary_text(view, course_progress(self.lessons, self.store.summary())))
        after = next_lesson(self.lessons, session.lesson.id)
        self.write(SUMMARY_HELP.format(next=f"the next lesson, {after.title}" if after else "back to the lessons"))
        while True:
            command = self.read("summary> ").strip().lower()
            if not command:
                return after
            if command in (":lessons", ":l"):
                return None
            if command in (":q", ":quit"):
                raise EOFError
            if command in (":save py", ":save ipynb"):
                self.save(view, command.split()[1])
            else:
                self.write(SUMMARY_HELP.format(next="the next lesson" if after else "back to the lessons"))

    def save(self, view: SummaryView, kind: str) -> None:
        try:
            path = save(view, Path.cwd(), kind)
        except OSError as err:
            self.write(f"Could not save: {err.strerror or err}")
            return
        self.write(f"Saved to {path}")


def summary_text(view: SummaryView, course: str) -> str:
    lines = [f"\n{view.title}: summary", view.score, course]
    if view.recap:
        lines += ["", "What you learned:", markdown_to_plain(view.recap)]
    if view.mistakes:
        lines += ["", "Mistakes:"]
        lines += [f"- step {m.step}: {m.answer} — {m.feedback}" for m in view.mistakes]
    lines += ["", "The lesson in PyTorch:"]
    for title, code in view.cells:
        lines += [f"# {title}", code, ""]
    return "\n".join(lines)
