"""`autograd-tutor report` over a lab's data directory written by several students' sessions."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from autograd_tutor.lesson.loader import load
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession

from .conftest import CHAIN, LESSONS

SQUARE = LESSONS / "square.yaml"


def play(data: Path, student: str, lesson_file: Path, script: list[tuple[str, str | None]], layout="lab") -> None:
    """A student's session, driven as the app drives it: every action saved at once."""
    lesson = load(lesson_file)
    store = ProgressStore.for_student(data, student) if layout == "lab" else ProgressStore(data, student)
    session = LessonSession(lesson, store.load(lesson.id))
    for action, text in script:
        if action == "answer":
            session.submit(text)
        elif action == "hint":
            session.hint()
        elif action == "reveal":
            session.reveal()
        elif action == "next":
            session.advance()
        store.save(session)
    store.close()


RIGHT = [("answer", "16"), ("next", None), ("answer", "sin(16)"), ("next", None), ("answer", "cos(y)"), ("next", None)]
RIGHT += [("answer", "2*x"), ("next", None)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("lab") / "data"
    # alice finishes the chain rule, one inner derivative dropped then revealed
    play(data, "alice", CHAIN, [*RIGHT, ("answer", "cos(x**2)"), ("hint", None), ("reveal", None), ("next", None)])
    # bob stops at step 3, after a wrong first answer
    play(
        data, "bob", CHAIN, [("answer", "15"), ("answer", "16"), ("next", None), ("answer", "sin(16)"), ("next", None)]
    )
    # dan drops the same factor, and starts the square lesson too
    play(data, "dan", CHAIN, [*RIGHT, ("answer", "cos(x**2)")])
    play(data, "dan", SQUARE, [("answer", "4"), ("next", None)])
    # carl used the desktop tutor's shared database in the same directory
    play(data, "carl", SQUARE, [("answer", "5")], layout="shared")
    # bob's own database claims alice's lesson 2: a database speaks only for its owner
    db = sqlite3.connect(data / "students" / "bob" / "progress.sqlite3")
    row = db.execute("SELECT * FROM progress WHERE student = 'bob'").fetchone()
    db.execute("INSERT INTO progress VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ("alice", "square", *row[2:]))
    db.commit()
    db.close()
    return data


def report(cli, data: Path, *args: str):
    result = cli("report", "--data-dir", data, "--lessons", LESSONS, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_json_report(cli, lab):
    data = json.loads(report(cli, lab, "--format", "json"))
    rows = {(r["student"], r["lesson"]): r for r in data["students"]}
    assert sorted(rows) == [
        ("alice", "chain-rule-sin-square"),
        ("bob", "chain-rule-sin-square"),
        ("carl", "square"),
        ("dan", "chain-rule-sin-square"),
        ("dan", "square"),
    ]
    alice = rows[("alice", "chain-rule-sin-square")]
    assert alice["status"] == "finished" and alice["score"] == "4/5"
    assert (alice["attempts"], alice["hints"], alice["reveals"]) == (1, 1, 1)
    assert alice["title"] == "Chain rule through sin(x²)"
    bob = rows[("bob", "chain-rule-sin-square")]
    assert bob["status"] == "step 3/5" and bob["score"] == "2/5" and bob["attempts"] == 1
    assert rows[("carl", "square")]["attempts"] == 1
    assert all(len(r["last_activity"]) == len("2026-01-01 12:00") for r in data["students"])

    chain = next(s for s in data["lessons"] if s["lesson"] == "chain-rule-sin-square")
    assert (chain["students"], chain["finished"], chain["attempts"]) == (3, 1, 3)
    top = chain["mistakes"][0]
    assert top == {"diagnosis": "missing_factor", "step": 5, "where": "step 5 (dz/dx)", "count": 2, "students": 2}
    assert [s["lesson"] for s in data["lessons"]] == ["chain-rule-sin-square", "square"]  # course order


def test_the_table_for_the_instructor(cli, lab):
    out = report(cli, lab)
    assert out.startswith("Students (4), by lesson\n")
    lines = out.splitlines()
    header = lines[1].split()
    assert header[:7] == ["student", "lesson", "status", "score", "attempts", "hints", "reveals"]
    assert any(line.split()[:4] == ["alice", "chain-rule-sin-square", "finished", "4/5"] for line in lines)
    assert any(line.split()[:5] == ["bob", "chain-rule-sin-square", "step", "3/5", "2/5"] for line in lines)
    assert "    2× missing_factor at step 5 (dz/dx) (2 students)" in lines
    summary = lines[lines.index("Lessons") + 2].split()
    assert summary == ["chain-rule-sin-square", "3", "1", "10/15", "3", "1", "1"]


def test_csv_rows_and_summary(cli, lab):
    rows = list(csv.DictReader(io.StringIO(report(cli, lab, "--format", "csv"))))
    assert [(r["student"], r["lesson"], r["status"]) for r in rows][:2] == [
        ("alice", "chain-rule-sin-square", "finished"),
        ("bob", "chain-rule-sin-square", "step 3/5"),
    ]
    assert rows[0]["mistakes"] == "missing_factor at step 5"
    summary = list(csv.DictReader(io.StringIO(report(cli, lab, "--format", "csv", "--summary"))))
    assert [(s["lesson"], s["students"], s["finished"]) for s in summary] == [
        ("chain-rule-sin-square", "3", "1"),
        ("square", "2", "0"),
    ]
    assert summary[0]["mistakes"].startswith("missing_factor at step 5 (dz/dx): 2")


def test_an_empty_lab_and_a_missing_directory(cli, tmp_path):
    out = report(cli, tmp_path)
    assert "(no progress recorded yet)" in out
    missing = cli("report", "--data-dir", tmp_path / "nope")
    assert missing.returncode == 1 and "no such directory" in missing.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as the instructor running the report")
def test_a_report_run_as_root_leaves_the_students_files_theirs(cli, tmp_path):
    """The student's database may need -shm/-wal files to be read; SQLite, as root, gives
    any it creates to the database's owner, so the student's tutor can still open it."""
    data = tmp_path / "data"
    play(data, "nob", CHAIN, [("answer", "16")])
    mine = data / "students" / "nob"
    nobody = 65534
    for path in (mine, *mine.iterdir()):
        os.chown(path, nobody, nobody)
    assert "step 1/5" in report(cli, data, "--format", "csv")
    assert {p.name: p.stat().st_uid for p in mine.iterdir()} == {
        name: nobody for name in ("progress.sqlite3", "progress.sqlite3-shm", "progress.sqlite3-wal")
    }


def test_a_mistake_the_lesson_lists_is_named_by_its_feedback():
    from autograd_tutor.lab.report import mistakes_of

    feedback = "You dropped the inner derivative 2x: the chain rule multiplies by ∂y/∂x = 2x too."
    state = {"records": [{"mistakes": []}, {"mistakes": [{"answer": "cos(x**2)", "diagnosis": "authored",
                                                          "feedback": feedback}]}]}  # fmt: skip
    found = mistakes_of(state, load(CHAIN))
    assert found == [
        {
            "step": 2,
            "where": "step 2 (value of z)",
            "diagnosis": "authored: You dropped the inner derivative 2x",
            "answer": "cos(x**2)",
        }
    ]
    assert mistakes_of(None, None) == [] and mistakes_of({"records": 5}, None) == []


def test_a_wrong_option_is_named_by_its_text_not_the_number_one_learner_saw():
    """Each learner sees a choose step's options in their own order: the report and the
    dashboard name the option, so that two students who chose it are counted together."""
    from autograd_tutor.lab.report import mistakes_of

    def state(number: str) -> dict:
        chosen = {"answer": number, "diagnosis": "authored", "feedback": "x is still 3.", "option": "x changed"}
        return {"records": [{"mistakes": [chosen]}]}

    ann, bob = mistakes_of(state("2"), None), mistakes_of(state("3"), None)
    assert ann[0]["answer"] == bob[0]["answer"] == "“x changed”"
