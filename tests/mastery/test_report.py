"""`report` shows each student's mastery per skill and the class's weakest skills."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from conftest import run_cli

from autograd_tutor.mastery.bkt import update
from autograd_tutor.mastery.model import DEFAULT
from autograd_tutor.progress import MIGRATIONS, ProgressStore
from autograd_tutor.session import LessonSession

from .course import COURSE, lesson

RIGHT = update(DEFAULT.prior, True, DEFAULT)  # 0.7098
WRONG = update(DEFAULT.prior, False, DEFAULT)  # 0.1932


def _answer(store: ProgressStore, lesson_id: str, index: int, answer: str) -> None:
    session = LessonSession(lesson(lesson_id), store.load(lesson_id), seed=store.student)
    session.index = index
    session.submit(answer)
    store.save(session)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """alice: chain rule right; bob and carol: wrong. Everyone: the forward pass right."""
    data = tmp_path_factory.mktemp("lab")
    for student, chain in (("alice", "2*x*cos(x**2)"), ("bob", "cos(x**2)"), ("carol", "2*x")):
        store = ProgressStore.for_student(data, student)
        _answer(store, "chain", 0, "x**2")
        _answer(store, "chain", 3, chain)
        store.close()
    # a row for someone else in carol's own database does not speak for them
    db = sqlite3.connect(data / "students" / "carol" / "progress.sqlite3")
    db.execute("INSERT INTO mastery VALUES ('alice', 'chain-rule', 0.01, 50, 0, 1.0)")
    db.commit()
    db.close()
    return data


def report(lab, *options: str) -> str:
    result = run_cli("report", "--data-dir", lab, "--lessons", COURSE, *options)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_has_each_students_skills_and_the_class_weakest(lab):
    data = json.loads(report(lab, "--format", "json"))
    mine = {(r["student"], r["skill"]): r for r in data["skills"]}
    assert mine[("alice", "chain-rule")]["mastery"] == pytest.approx(RIGHT, abs=1e-4)
    assert mine[("bob", "chain-rule")]["mastery"] == pytest.approx(WRONG, abs=1e-4)
    assert (mine[("alice", "chain-rule")]["seen"], mine[("alice", "chain-rule")]["correct"]) == (1, 1)
    assert [(r["student"], r["skill"]) for r in data["skills"]][:2] == [
        ("alice", "forward-pass"),
        ("alice", "chain-rule"),
    ]
    weakest = data["weakest_skills"]
    assert [c["skill"] for c in weakest] == ["chain-rule", "forward-pass"]
    assert weakest[0]["mean"] == pytest.approx((RIGHT + 2 * WRONG) / 3, abs=1e-4)
    assert weakest[0]["struggling"] == ["bob", "carol"] and weakest[0]["students"] == 3
    assert data["students"]  # the lessons part is still there


def test_csv_of_the_skills(lab):
    rows = list(csv.DictReader(io.StringIO(report(lab, "--skills", "--format", "csv"))))
    assert len(rows) == 6 and rows[0].keys() >= {"student", "skill", "mastery", "seen", "right_first_try"}
    summary = list(csv.DictReader(io.StringIO(report(lab, "--skills", "--summary", "--format", "csv"))))
    assert [r["skill"] for r in summary] == ["chain-rule", "forward-pass"]
    assert summary[0]["struggling"] == "bob carol" and summary[1]["mastered"] == "0"


def test_the_table(lab):
    text = report(lab)
    assert "Students (3), by lesson" in text and "Skills, by student" in text
    lines = text.splitlines()
    weakest = lines.index("The class's weakest skills")
    assert lines[weakest + 2].startswith("chain-rule") and "bob carol" in lines[weakest + 2]
    assert "█" in lines[weakest + 2] and "37%" in lines[weakest + 2]
    only = report(lab, "--skills", "--summary")
    assert "Skills, by student" not in only and "Students (" not in only and "chain-rule" in only


@pytest.mark.parametrize("version", [0, 2])
def test_a_store_from_before_the_learner_model(tmp_path, version):
    """A store an older tutor wrote (format 0: before versioning; 2: before the learner
    model), read as it is: no skills, no problem, and nothing written to it."""
    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    for migration in MIGRATIONS[: max(version, 1)]:
        db.executescript(migration)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    data = json.loads(report(tmp_path, "--format", "json"))
    assert data["skills"] == [] and data["weakest_skills"] == [] and data["problems"] == []
    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == version
    db.close()
