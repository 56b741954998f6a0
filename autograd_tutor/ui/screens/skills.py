"""The skills view: each skill of the course, how likely it is that the learner has it,
and practice that starts with the weakest."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...lesson.skills import skills_file
from ...mastery.model import LearnerModel, bar, course_skills
from ...mastery.practice import Practice
from ..widgets.title import TitleBar

PRACTICE_KEY = "ctrl+t"
SKILLS_KEY = "ctrl+o"


def descriptions(lessons) -> dict[str, str]:
    """Each skill's one-line description, from the skills files beside the lessons."""
    found: dict[str, str] = {}
    for directory in dict.fromkeys(Path(lesson.file).parent for lesson in lessons):
        skills = skills_file(directory)
        found.update(skills.skills if skills else {})
    return found


def skills_line(model: LearnerModel, lessons, practice: Practice) -> str:
    """One line for the catalogue: `Skills: 2/9 mastered, practise chain-rule (19%) (^o)`."""
    skills = course_skills(lessons)
    if not skills:
        return ""
    mastered = sum(model.get(s).mastered for s in skills)
    text = f"Skills: {mastered}/{len(skills)} mastered"
    first = next(iter(practice.ranked()), None)
    if first is not None:
        text += f", practise {first} ({model.known(first):.0%})"
    return text + f" ({SKILLS_KEY.replace('ctrl+', '^')})"


class SkillsScreen(Screen):
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
        yield Footer()

    def on_mount(self) -> None:
        store, lessons = self.app.store, self.app.lessons
        self.descriptions = descriptions(lessons)
        model = store.mastery()
        low = next(iter(store.start_practice(lessons).ranked()), None)  # the skill practice starts with
        table = self.query_one(DataTable)
        table.add_columns("Skill", "Mastery", "Right first try", "")
        for skill in course_skills(lessons):
            state = model.get(skill)
            shown = bar(state.known) if state.seen else "not met yet"
            right = f"{state.correct}/{state.seen}" if state.seen else ""
            mark = f"◀ practise ({PRACTICE_KEY})" if skill == low else ("mastered" if state.mastered else "")
            table.add_row(Text(skill), Text(shown), Text(right), Text(mark), key=skill)
        if low is not None:
            table.move_cursor(row=table.get_row_index(low))
        note = "Mastery is the chance you know a skill, from your first tries (hints and reveals count as not yet)."
        if not table.row_count:
            note = "These lessons name no skills."
        elif low is None:
            note += " Finish a lesson to practise its skills."
        self.query_one("#skills-note", Static).update(note)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        skill = event.row_key.value
        self.query_one("#skill-detail", Static).update(f"{skill}: {self.descriptions.get(skill, '')}".rstrip(": "))

    def action_practise(self) -> None:
        self.app.pop_screen()
        self.app.start_practice()

    def action_lessons(self) -> None:
        self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Practise", "Ten steps of finished lessons, weakest skills first", self.action_practise)
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
