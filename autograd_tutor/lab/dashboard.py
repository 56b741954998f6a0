"""`autograd-tutor dashboard`: who is stuck, right now, and what to re-teach.

Two views, keyboard only, at 80x24 and bigger: Students (stuck first: many wrong answers
or a long time on one step) and Lessons (how many started and finished each, and at the
step where most of its students are, the most common wrong answers with their
diagnoses). It updates as answers are saved (`watch.changes`) and re-reads only the
stores that changed; a clock ticks the times on steps without reading anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Footer, Static

from .classroom import Classroom, LessonNow, StudentNow, Thresholds

MARK = {
    "stuck": Text("STUCK", style="bold red"),
    "working": Text("ok", style="green"),
    "away": Text("away", style="dim"),
    "done": Text("done", style="cyan"),
}


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02}"


class Dashboard(App):
    TITLE = "autograd-tutor dashboard"
    CSS = """
    #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    ContentSwitcher, #students, #lessons { height: 1fr; }
    DataTable { height: 1fr; }
    #student-detail, #lesson-detail { height: 7; border-top: solid $primary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("tab", "switch", "Students/Lessons", priority=True),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        classroom: Classroom,
        limits: Thresholds,
        *,
        clock: Callable[[], float] = time.time,
        watch: bool = True,
    ):
        super().__init__()
        self.classroom = classroom
        self.limits = limits
        self.clock = clock
        self.watching = watch
        self.shown: list[StudentNow] = []
        self.lesson_rows: list[LessonNow] = []
        self.updated = 0.0
        self.note = ""

    def compose(self) -> ComposeResult:
        yield Static(id="top")
        with ContentSwitcher(initial="students"):
            with Vertical(id="students"):
                yield DataTable(id="student-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="student-detail")
            with Vertical(id="lessons"):
                yield DataTable(id="lesson-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="lesson-detail")
        yield Footer()

    def on_mount(self) -> None:
        students = self.query_one("#student-table", DataTable)
        students.add_columns("", "student", "lesson", "step", "time", "wrong", "hints", "shown", "done")
        lessons = self.query_one("#lesson-table", DataTable)
        lessons.add_columns("lesson", "started", "finished", "most are at", "there")
        self.classroom.load_all()
        self.refresh_view()
        self.set_interval(5, self.refresh_view)  # the times on steps; nothing is read
        if self.watching:
            self.run_worker(self.follow(), exclusive=True, group="watch")

    async def follow(self) -> None:
        """Re-read the stores the file system says changed; where it says nothing (no
        inotify), re-read every store every few seconds, and say so."""
        import asyncio

        from .watch import changes

        try:
            async for keys in changes(self.classroom.data_dir):
                if self.classroom.changed(keys):
                    self.refresh_view()
        except Exception as err:  # no change notifications here
            self.note = f"no change notices ({str(err)[:40]}): re-reading every store every 3 s"
            while True:
                self.classroom.load_all()
                self.refresh_view()
                await asyncio.sleep(3)

    # --- drawing -----------------------------------------------------------------------------------

    def refresh_view(self) -> None:
        now = self.clock()
        self.updated = now
        self.shown = self.classroom.students(now, self.limits)
        self.lesson_rows = self.classroom.lessons()
        stuck = sum(s.state(now, self.limits) == "stuck" for s in self.shown)
        clock = time.strftime("%H:%M:%S", time.localtime(now))
        top = Text.assemble(
            ("autograd-tutor dashboard", "bold"),
            f" · {len(self.shown)} students · ",
            (f"{stuck} stuck", "bold red" if stuck else ""),
            f" · {clock}",
        )
        if self.classroom.problems:
            top.append(f" · {len(self.classroom.problems)} stores unreadable", "yellow")
        if self.note:
            top.append(f" · {self.note}", "yellow")
        self.query_one("#top", Static).update(top)
        self._fill_students(now)
        self._fill_lessons()

    def _fill_students(self, now: float) -> None:
        table = self.query_one("#student-table", DataTable)
        keep = self._cursor_key(table)
        table.clear()
        for s in self.shown:
            state = s.state(now, self.limits)
            table.add_row(
                MARK[state],
                Text(s.student[:10]),
                Text(s.lesson[:18]),
                f"{s.step + 1}/{s.steps}",
                ago(now - s.since),
                str(s.attempts_here),
                str(s.hints),
                str(s.reveals),
                str(s.lessons_finished),
                key=s.student,
            )
        self._restore_cursor(table, keep)
        self._student_detail()

    def _fill_lessons(self) -> None:
        table = self.query_one("#lesson-table", DataTable)
        keep = self._cursor_key(table)
        table.clear()
        for lesson in self.lesson_rows:
            table.add_row(
                Text(lesson.lesson[:26]),
                str(lesson.started),
                str(lesson.finished),
                Text(lesson.busiest or "-"),
                str(lesson.there),
                key=lesson.lesson,
            )
        self._restore_cursor(table, keep)
        self._lesson_detail()

    @staticmethod
    def _cursor_key(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @staticmethod
    def _restore_cursor(table: DataTable, key: str | None) -> None:
        if key is not None and key in table.rows:
            table.move_cursor(row=table.get_row_index(key), animate=False)

    def _student_detail(self) -> None:
        table = self.query_one("#student-table", DataTable)
        key = self._cursor_key(table)
        student = next((s for s in self.shown if s.student == key), None)
        text = Text()
        if student is None:
            text.append("No progress saved yet: students appear here as they answer.", "dim")
        else:
            text.append(student.student, "bold")
            text.append(f" — {student.title}, {student.where}, {ago(self.updated - student.since)} on it\n")
            if not student.mistakes_here:
                text.append("no wrong answer on this step", "dim")
            for m in student.mistakes_here[-4:]:
                text.append(f"  {m['answer'] or '?'}", "bold")
                text.append(f" — {m['diagnosis']}\n", "dim")
        self.query_one("#student-detail", Static).update(text)

    def _lesson_detail(self) -> None:
        table = self.query_one("#lesson-table", DataTable)
        key = self._cursor_key(table)
        lesson = next((x for x in self.lesson_rows if x.lesson == key), None)
        text = Text()
        if lesson is None:
            text.append("No lesson started yet.", "dim")
        else:
            text.append(lesson.title, "bold")
            if lesson.busiest is None:
                text.append(" — everyone who started it has finished.")
            else:
                text.append(f" — {lesson.there} at {lesson.busiest}. Most common wrong answers there:\n")
                if not lesson.wrong:
                    text.append("  none yet", "dim")
                for answer, diagnosis, count in lesson.wrong[:4]:
                    text.append(f"  {count}× ")
                    text.append(answer or "?", "bold")
                    text.append(f" — {diagnosis}\n", "dim")
        self.query_one("#lesson-detail", Static).update(text)

    # --- keys --------------------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "student-table":
            self._student_detail()
        else:
            self._lesson_detail()

    def action_switch(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "lessons" if switcher.current == "students" else "students"
        self.query_one(f"#{switcher.current} DataTable", DataTable).focus()


def run_dashboard(data_dir: Path, lesson_paths: list[str] | None, limits: Thresholds) -> int:
    from ..lesson.files import BUNDLED
    from ..lesson.loader import library

    lessons, _problems = library(lesson_paths or [BUNDLED])
    classroom = Classroom(data_dir.resolve(), {lesson.id: lesson for lesson in lessons})
    Dashboard(classroom, limits).run()
    return 0
