"""The catalogue: the course in order, with progress; type to filter.

The rows are the lessons' headers: at start, read from the files before the
lessons are built (the app builds them behind this screen; the skills in the
course line come with them). A lesson with an error is listed as broken, with
its first problem, and does not open: files that do not load at all (after the
course, once the lessons are built), and lessons that load but fail
`validate`'s checks (marked once torch has checked them).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from ...lesson.files import unloaded
from ...lesson.problems import Problem
from ...present.course import resume_at
from ...present.spans import line
from ..look import content, literal
from ..widgets.footer import TutorFooter
from ..widgets.title import TitleBar
from ..widgets.typing import TypedInput
from .confirm import Confirm
from .responsive import NARROW, ResponsiveScreen
from .skills import PRACTICE_KEY, SKILLS_KEY, SkillsScreen, course_line

_FILE = "file:"  # the row key of a file that does not load


def _level(level: int | None) -> str:
    return "●" * level + "○" * (5 - level) if level else ""


class FilterInput(TypedInput):
    """The filter takes Enter itself, after the keys typed before it (a binding of the
    screen would run first), and the footer names it."""

    BINDINGS = [Binding("enter", "submit", "Open")]


class CatalogueScreen(ResponsiveScreen):
    AUTO_FOCUS = "#filter"
    BINDINGS = [
        Binding("ctrl+n", "continue", "Continue"),
        Binding("ctrl+g", "reset", "Restart lesson"),
        Binding("ctrl+y", "reset_all", "Reset all"),
        Binding(PRACTICE_KEY, "practise", "Practise"),
        Binding(SKILLS_KEY, "skills", "Skills", show=False),  # named in the course line
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("pagedown", "move(10)", show=False, priority=True),
        Binding("pageup", "move(-10)", show=False, priority=True),
        Binding("escape", "clear_filter", show=False),
    ]
    FOOTER_OPTIONAL = ("reset_all",)

    def __init__(self) -> None:
        super().__init__()
        self.width = 0  # the terminal width the table is laid out for (0: not yet)
        self.narrow = False
        self.title_room = 12
        self.returning = False  # shown once already: a resume is a return from a lesson

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield FilterInput(placeholder="type to filter lessons", id="filter")
        yield Static(id="course", markup=False)
        yield DataTable(id="lessons", cursor_type="row", zebra_stripes=True)
        yield Static(id="details", markup=False)
        yield Static(id="problems", markup=False)
        yield TutorFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.can_focus = False
        table.set_class(self.app.ansi_color, "ansi")
        self.show_problems()
        search = self.query_one(Input)
        search.cursor_blink = self.app.blink
        search.focus()

    def show_problems(self) -> None:
        problems = [p for p in self.app.problems if p.severity == "error"]  # warnings are for authors
        if problems:
            noun = "problem" if len(problems) == 1 else "problems"
            head = f"{len(problems)} {noun} in the lesson files (run `autograd-tutor validate`):"
            self.query_one("#problems", Static).update(literal("\n".join([head, *(str(p) for p in problems[:3])])))

    def lessons_built(self) -> None:
        """The lessons behind the headers are built: broken files join the rows, the
        skills the course line."""
        self.show_problems()
        if self.width:
            self.lay_out(self.width)

    def fit(self, width: int) -> None:
        self.lay_out(width)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self.width:
            self.lay_out(event.size.width)

    def lay_out(self, width: int) -> None:
        """The columns for `width`, each as wide as what it will hold (measured here, from the
        text, so that a tutor started before its terminal's size is known lays out right too)."""
        self.width = width
        self.narrow = width < NARROW  # the level column goes
        self.title_room = max(width - (30 if self.narrow else 38), 12)  # titles are shortened to fit
        titles = [header.title for header in self.app.headers] + [Path(f).name for f in self.unloaded]
        steps = [header.steps or 10 for header in self.app.headers] or [1]  # unknown: room for two digits
        states = ["not started", "broken", f"step {max(steps)} of {max(steps)}", f"done {max(steps)}/{max(steps)}"]
        columns = [("#", 2), ("Lesson", min(max(map(len, titles), default=6), self.title_room))]
        columns += [] if self.narrow else [("Level", 5)]
        columns.append(("Progress", max(map(len, states))))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for label, size in columns:
            table.add_column(label, width=max(size, len(label)))
        self.refresh_rows(cursor=self.selected or self.resume_at())

    def on_screen_resume(self) -> None:
        """Back from a lesson: the whole course again, the cursor on the lesson in progress."""
        if not self.returning:  # the first showing: fit() has just drawn the rows
            self.returning = True
            return
        self.query_one(Input).value = ""
        self.refresh_rows(cursor=self.resume_at())

    def resume_at(self) -> str | None:
        return resume_at(self.app.headers, self.app.store.summary(), self.app.store.last_lesson())

    def refresh_rows(self, cursor: str | None = None, typed: str | None = None) -> None:
        """The rows the filter selects: `typed`, as a Changed message gave it (the box
        itself may be empty by then: Enter hands its text over), else the box's text."""
        if not self.width:
            return  # no columns before the screen is fitted
        table = self.query_one(DataTable)
        cursor = cursor or self.selected
        words = (self.query_one(Input).value if typed is None else typed).lower().split()
        progress = self.app.store.summary()
        table.clear()
        for number, header in enumerate(self.app.headers, 1):
            haystack = " ".join([header.title, header.id, header.summary or "", *header.tags]).lower()
            if not all(w in haystack for w in words):
                continue
            done = progress.get(header.id)
            state = "broken" if header.id in self.app.broken else done.describe() if done else "not started"
            title = header.title
            if len(title) > self.title_room:
                title = title[: self.title_room - 1] + "…"
            cells = [f"{number:02}", title, *([] if self.narrow else [_level(header.level)])]
            cells.append(state)
            table.add_row(*(Text(c) for c in cells), key=header.id)  # Text: never read as markup
        for file in self.unloaded:
            if all(w in file.lower() for w in words):
                cells = ["--", Path(file).name, *([] if self.narrow else [""]), "broken"]
                table.add_row(*(Text(c) for c in cells), key=_FILE + file)
        if cursor is not None and cursor in table.rows:
            table.move_cursor(row=table.get_row_index(cursor))
        self.query_one("#course", Static).update(literal(self.course_line(), "dim"))
        self.show_details()

    def course_line(self) -> str:
        """Course progress, and the skills in one line."""
        return course_line(self.app.store, self.app.lessons, self.app.course_progress(), self.width - 4)

    @property
    def unloaded(self) -> dict[str, Problem]:
        return unloaded(self.app.headers, self.app.problems)

    def problem_of(self, key: str) -> Problem | None:
        """Why the lesson (or file) of a row is broken, or None."""
        if key.startswith(_FILE):
            return self.unloaded.get(key.removeprefix(_FILE))
        return self.app.broken.get(key)

    @property
    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def show_details(self) -> None:
        lesson_id = self.selected
        details = self.query_one("#details", Static)
        if lesson_id is None:
            details.update(literal("No lesson matches the filter (Esc clears it).", "dim"))
            return
        problem = self.problem_of(lesson_id)
        if problem is not None:
            where = Path(problem.file).name + (f":{problem.line}:{problem.col}" if problem.line else "")
            details.update(content([line(("Broken", "strong"), f" at {where}: {problem.message}")]))
            return
        header = self.app.header(lesson_id)
        lines = [line((header.title, "strong")), line(header.summary or "")]
        if header.tags:
            lines.append(line((f"tags: {', '.join(header.tags)}", "dim")))
        details.update(content(lines))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_rows(typed=event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter, after every key typed before it has filtered the rows (a fast typist
        or a paste sends the filter and Enter together)."""
        event.input.put_back(event.value)  # the filter stays as typed
        self.action_open()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_details()

    def action_move(self, rows: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + rows)))

    def action_open(self) -> None:
        if self.selected is None:
            return
        problem = self.problem_of(self.selected)
        if problem is not None:
            self.notify(f"This lesson is broken: {problem.message}", severity="error", markup=False)
            return
        self.app.open(self.selected)

    def action_continue(self) -> None:
        last = self.app.store.last_lesson()
        if last and last not in self.app.broken and any(header.id == last for header in self.app.headers):
            self.app.open(last)
        else:
            self.notify("No lesson started yet: pick one and press Enter.", markup=False)

    def action_practise(self) -> None:
        self.app.start_practice()

    def action_skills(self) -> None:
        self.app.when_built(lambda: self.app.push_screen(SkillsScreen()))

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""

    def action_reset(self) -> None:
        lesson_id = self.selected
        if lesson_id is None or lesson_id.startswith(_FILE):
            return
        title = self.app.header(lesson_id).title

        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.reset(lesson_id)
                self.refresh_rows()
                self.notify(f"Progress of “{title}” forgotten: it starts again from the first step.", markup=False)

        self.app.push_screen(Confirm(f"Restart “{title}” from the first step? Your answers in it are forgotten."), done)

    def action_reset_all(self) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.reset()
                self.refresh_rows()
                self.notify("All progress reset.", markup=False)

        self.app.push_screen(Confirm("Forget your progress in every lesson, and your skills?"), done)

    def commands(self):
        yield SystemCommand("Open lesson", "Open the highlighted lesson", self.action_open)
        yield SystemCommand("Continue", "Reopen the last lesson at its step", self.action_continue)
        yield SystemCommand("Practise", "Ten steps of finished lessons, weakest skills first", self.action_practise)
        yield SystemCommand("Skills", "Each skill of the course and how well you know it", self.action_skills)
        yield SystemCommand("Restart lesson", "Forget the progress of the highlighted lesson", self.action_reset)
        yield SystemCommand("Reset all progress", "Forget the progress of every lesson", self.action_reset_all)
