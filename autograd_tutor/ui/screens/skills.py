"""The skills view: each skill of the course, how likely it is that the learner has it,
and practice that starts with the weakest (rows from `present.mastery`)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ...mastery.schedule import first_skill
from ...present.mastery import SkillRow, descriptions, skill_rows, skills_lines, skills_note
from ..look import literal
from ..widgets.footer import TutorFooter
from ..widgets.title import TitleBar
from .responsive import NARROW, ResponsiveScreen

PRACTICE_KEY = "ctrl+t"  # in the catalogue and here (the lesson's hint key: no answer box here)
SKILLS_KEY = "ctrl+o"  # in the catalogue (the lesson's intro key)


def _short(key: str) -> str:
    return key.replace("ctrl+", "^")


def course_line(store, lessons, course: str, room: int) -> str:
    """The catalogue's course line, with as much of the skills as fits in `room` columns."""
    finished = {lesson for lesson, p in store.summary().items() if p.finished}
    for skills in skills_lines(store.mastery(), lessons, finished, _short(SKILLS_KEY)):
        if len(course) + 3 + len(skills) <= room:
            return f"{course} · {skills}"
    return course


class SkillsScreen(ResponsiveScreen):
    BINDINGS = [
        Binding(PRACTICE_KEY, "practise", "Practise"),
        Binding("enter", "practise", show=False, priority=True),
        Binding("escape", "lessons", "Lessons"),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar("skills")
        yield DataTable(id="skills", cursor_type="row", zebra_stripes=True)
        yield Static(id="skill-detail", markup=False)
        yield Static(id="skills-note", markup=False)
        yield TutorFooter()

    rows: list[SkillRow] = []
    first: str | None = None  # the skill practice starts with

    def on_mount(self) -> None:
        store, lessons = self.app.store, self.app.lessons
        self.descriptions = descriptions(lessons)
        model = store.mastery()
        finished = {lesson for lesson, p in store.summary().items() if p.finished}
        self.first = first_skill(lessons, finished, model, time.time())
        self.rows = skill_rows(lessons, model, self.first, _short(PRACTICE_KEY))
        self.query_one(DataTable).set_class(self.app.ansi_color, "ansi")
        self.lay_out()
        self.query_one("#skills-note", Static).update(literal(skills_note(self.rows, self.first), "dim"))

    def fit(self, width: int) -> None:
        if self.rows:
            self.lay_out(width)

    def lay_out(self, width: int | None = None) -> None:
        """The table for the width: below NARROW the columns' headings and marks are shorter."""
        narrow = (width or self.app.size.width) < NARROW
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns("Skill", "Mastery", "Right" if narrow else "Right first try", "")
        for row in self.rows:
            mark = row.mark.split(" (")[0].replace("practise", "").strip() if narrow else row.mark
            table.add_row(Text(row.skill), Text(row.mastery), Text(row.right), Text(mark), key=row.skill)
        if self.first is not None:
            table.move_cursor(row=table.get_row_index(self.first))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        skill = str(event.row_key.value)
        about = self.descriptions.get(skill, "")
        self.query_one("#skill-detail", Static).update(literal(f"{skill}: {about}" if about else skill))

    def action_practise(self) -> None:
        if self.is_current:
            self.app.pop_screen()
            self.app.start_practice()

    def action_lessons(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Practise", "Ten steps of finished lessons, weakest skills first", self.action_practise)
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
