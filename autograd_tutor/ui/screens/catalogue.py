"""The catalogue: the course in order, with progress; type to filter.

A lesson with an error is listed as broken, with its first problem, and does not
open: files that do not load at all (after the course), and lessons that load but
fail `validate`'s checks (marked once torch has checked them).
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from ...lesson.loader import unloaded
from ...lesson.problems import Problem
from ..widgets.title import TitleBar
from .confirm import Confirm
from .skills import PRACTICE_KEY, SKILLS_KEY, skills_line

_FILE = "file:"  # the row key of a file that does not load


def _level(level: int | None) -> str:
    return "●" * level + "○" * (5 - level) if level else ""


class CatalogueScreen(Screen):
    BINDINGS = [
        Binding("enter", "open", "Open", priority=True),
        Binding("ctrl+n", "continue", "Continue"),
        Binding("ctrl+r", "reset", "Reset lesson"),
        Binding("ctrl+y", "reset_all", "Reset all"),
        Binding(PRACTICE_KEY, "practise", "Practise"),
        Binding(SKILLS_KEY, "skills", "Skills", show=False),  # named in the course line
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("pagedown", "move(10)", show=False, priority=True),
        Binding("pageup", "move(-10)", show=False, priority=True),
        Binding("escape", "clear_filter", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Input(placeholder="type to filter lessons", id="filter")
        yield Static(id="course", markup=False)
        yield DataTable(id="lessons", cursor_type="row", zebra_stripes=True)
        yield Static(id="details")
        yield Static(id="problems", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Lesson", "Level", "Progress")
        table.can_focus = False
        problems = self.app.problems
        if problems:
            noun = "problem" if len(problems) == 1 else "problems"
            text = f"{len(problems)} {noun} in the lesson files (run `autograd-tutor validate`):\n"
            self.query_one("#problems", Static).update(text + "\n".join(str(p) for p in problems[:3]))
        self.refresh_rows()
        self.show_course()
        search = self.query_one(Input)
        search.cursor_blink = self.app.blink
        search.focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()
        self.show_course()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected
        words = self.query_one(Input).value.lower().split()
        progress = self.app.store.summary()
        table.clear()
        for number, lesson in enumerate(self.app.lessons, 1):
            spec = lesson.spec
            haystack = " ".join([spec.title, spec.id, spec.summary or "", *spec.tags]).lower()
            if not all(w in haystack for w in words):
                continue
            done = progress.get(lesson.id)
            state = "broken" if lesson.id in self.app.broken else done.describe() if done else "not started"
            table.add_row(f"{number:02}", spec.title, _level(spec.level), state, key=lesson.id)
        for file in self.unloaded:
            if all(w in file.lower() for w in words):
                table.add_row("--", Path(file).name, "", "broken", key=_FILE + file)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self.show_details()

    def show_course(self) -> None:
        """Course progress, and the skills in one line."""
        lessons, progress = self.app.lessons, self.app.store.summary()
        done = sum(p.finished for lesson_id, p in progress.items() if any(x.id == lesson_id for x in lessons))
        text = f"Course: {done}/{len(lessons)} done"
        practice = self.app.store.start_practice(lessons)
        skills = skills_line(self.app.store.mastery(), lessons, practice)
        self.query_one("#course", Static).update(text + (f" · {skills}" if skills else ""))

    @property
    def unloaded(self) -> dict[str, Problem]:
        return unloaded(self.app.lessons, self.app.problems)

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
            details.update("No lesson matches the filter.")
            return
        problem = self.problem_of(lesson_id)
        if problem is not None:
            where = Path(problem.file).name + (f":{problem.line}:{problem.col}" if problem.line else "")
            details.update(f"[b]Broken[/b] at {escape(where)}: {escape(problem.message)}")
            return
        spec = self.app.lesson(lesson_id).spec
        tags = f"\n[dim]tags: {escape(', '.join(spec.tags))}[/dim]" if spec.tags else ""
        details.update(f"[b]{escape(spec.title)}[/b]\n{escape(spec.summary or '')}{tags}")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_rows()

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
            self.notify(f"This lesson is broken: {escape(problem.message)}", severity="error")
            return
        self.app.open(self.selected)

    def action_continue(self) -> None:
        last = self.app.store.last_lesson()
        if last and last not in self.app.broken and any(lesson.id == last for lesson in self.app.lessons):
            self.app.open(last)
        else:
            self.notify("No lesson started yet: pick one and press Enter.")

    def action_practise(self) -> None:
        self.app.start_practice()

    def action_skills(self) -> None:
        from .skills import SkillsScreen

        self.app.push_screen(SkillsScreen())

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""

    def action_reset(self) -> None:
        lesson_id = self.selected
        if lesson_id is None or lesson_id.startswith(_FILE):
            return
        title = self.app.lesson(lesson_id).title

        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.reset(lesson_id)
                self.refresh_rows()
                self.notify(f"Progress of “{title}” reset.")

        self.app.push_screen(Confirm(f"Forget your progress in “{title}”?"), done)

    def action_reset_all(self) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.reset()
                self.refresh_rows()
                self.notify("All progress reset.")

        self.app.push_screen(Confirm("Forget your progress in every lesson?"), done)

    def commands(self):
        yield SystemCommand("Open lesson", "Open the highlighted lesson", self.action_open)
        yield SystemCommand("Continue", "Reopen the last lesson at its step", self.action_continue)
        yield SystemCommand("Practise", "Ten steps of finished lessons, weakest skills first", self.action_practise)
        yield SystemCommand("Skills", "Each skill of the course and how well you know it", self.action_skills)
        yield SystemCommand("Reset lesson", "Forget the progress of the highlighted lesson", self.action_reset)
        yield SystemCommand("Reset all progress", "Forget the progress of every lesson", self.action_reset_all)
