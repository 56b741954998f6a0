"""The progress store: its layout and migrations, merging two windows of one student,
and what happens when the database cannot be used (damaged, newer, full, read-only)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tutor.lesson.loader import load
from autograd_tutor.progress import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ProgressError,
    ProgressStore,
    merge_states,
    read_store,
)
from autograd_tutor.session import LessonSession

LESSONS = Path(__file__).parent / "lessons"
CHAIN = LESSONS / "chain.yaml"
COMMAND = Path(sys.executable).parent / "autograd-tutor"

# The layout of the first release, before PRAGMA user_version was kept.
VERSION_0 = """
CREATE TABLE progress (student TEXT NOT NULL, lesson TEXT NOT NULL, state TEXT NOT NULL, step INTEGER NOT NULL,
    steps INTEGER NOT NULL, solved INTEGER NOT NULL, asked INTEGER NOT NULL, attempts INTEGER NOT NULL,
    hints INTEGER NOT NULL, reveals INTEGER NOT NULL, finished INTEGER NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (student, lesson));
CREATE TABLE last_opened (student TEXT PRIMARY KEY, lesson TEXT NOT NULL);
"""


@pytest.fixture(scope="module")
def lesson():
    return load(CHAIN)


def solved_first_step(lesson) -> LessonSession:
    session = LessonSession(lesson)
    assert session.submit("16").correct  # y = x**2 at x = 4
    session.advance()
    return session


def row(path: Path, *columns: str) -> tuple:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT {', '.join(columns)} FROM progress").fetchone()
    finally:
        db.close()


# --- layout and migrations -------------------------------------------------------------------------


def test_a_database_of_the_first_release_is_migrated_and_keeps_everything(tmp_path, lesson):
    path = tmp_path / "progress.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(VERSION_0)
    state = solved_first_step(lesson).to_state()
    db.execute(
        "INSERT INTO progress VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        ("me", lesson.id, json.dumps(state), 1, 5, 1, 5, 0, 0, 0, 0, 1000.0),
    )
    db.commit()
    db.close()

    store = ProgressStore(tmp_path, "me")
    assert store.load(lesson.id) == state
    assert store.summary()[lesson.id].solved == 1
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 2
    db.close()
    (found,) = read_store(path).rows
    assert (found.student, found.solved, found.step_since) == ("me", 1, 1000.0)  # no step_since yet: `updated`


def test_a_database_from_a_newer_version_is_refused_and_left_alone(tmp_path, lesson):
    ProgressStore(tmp_path).close()
    path = tmp_path / "progress.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(ProgressError, match="written by a newer autograd-tutor.*Upgrade autograd-tutor"):
        ProgressStore(tmp_path)
    with pytest.raises(ProgressError, match="newer"):
        read_store(path)
    store = ProgressStore(tmp_path, fallback=True)  # the learner can still play, told why
    assert store.in_memory and store.failed and "will not be saved" in store.problem
    assert store.save(solved_first_step(lesson))  # into memory
    store.close()
    assert path.read_bytes() == before


def test_a_damaged_database_is_named_with_what_to_do(tmp_path, lesson):
    (tmp_path / "progress.sqlite3").write_bytes(b"this is not a database, just bytes " * 200)
    with pytest.raises(ProgressError, match=r"progress.sqlite3 is damaged .*Move it away"):
        ProgressStore(tmp_path)
    store = ProgressStore(tmp_path, fallback=True)
    assert store.in_memory and "damaged" in store.problem
    assert store.summary() == {}
    store.close()


def test_a_full_disk_is_reported_once_and_saving_resumes_when_there_is_room(tmp_path, lesson):
    store = ProgressStore(tmp_path)
    said: list[str] = []
    store.on_problem = said.append
    session = solved_first_step(lesson)
    assert store.save(session)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    session.records[1].mistakes.extend({"answer": "x" * 2000, "diagnosis": "", "feedback": ""} for _ in range(20))
    assert not store.save(session)
    assert not store.save(session)
    assert said == [store.problem] and "is full" in store.problem and store.failed
    store._db.execute("PRAGMA max_page_count = 1000000")
    assert store.save(session)
    assert store.problem is None and not store.failed
    store.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only mount needs root")
def test_a_read_only_data_directory_lets_the_learner_see_and_play(tmp_path, lesson):
    data = tmp_path / "ro"
    data.mkdir()
    store = ProgressStore(data, "me")
    store.save(solved_first_step(lesson))
    store.close()
    subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(data)], check=True)
        store = ProgressStore(data, "me", fallback=True)
        assert store.in_memory and "will not be saved" in store.problem
        assert store.summary()[lesson.id].solved == 1  # where they were, read from the disk
        store.close()
    finally:
        subprocess.run(["umount", str(data)], check=True)


def test_the_tutor_says_why_and_exits_1_when_progress_cannot_be_saved(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "progress.sqlite3").write_bytes(b"garbage " * 1000)
    result = subprocess.run(
        [str(COMMAND), str(CHAIN), "--plain", "--data-dir", str(data)],
        input="16\nq\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "is damaged" in result.stderr and "will not be saved" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "right" in result.stdout.lower() or "correct" in result.stdout.lower()  # and it kept playing


# --- two windows of one student --------------------------------------------------------------------


def test_a_hint_in_one_window_does_not_undo_steps_solved_in_another(tmp_path, lesson):
    """The red team's case: window B opened the lesson, window A solved two steps, then B
    took a hint. Saving merges: both steps stay solved, and the hint is counted."""
    a, b = ProgressStore(tmp_path, "ann"), ProgressStore(tmp_path, "ann")
    in_b = LessonSession(lesson, b.load(lesson.id))
    in_a = LessonSession(lesson, a.load(lesson.id))
    assert in_a.submit("16").correct
    in_a.advance()
    a.save(in_a)
    in_a.reveal()
    in_a.advance()
    a.save(in_a)
    assert a.summary()[lesson.id].solved == 1
    in_a.submit("cos(y)")  # ∂z/∂y: solved
    a.save(in_a)
    assert a.summary()[lesson.id].solved == 2
    in_b.hint()
    b.save(in_b)
    got = b.summary()[lesson.id]
    assert (got.solved, got.hints, got.reveals) == (2, 1, 1)
    in_b.submit("5")  # a wrong value of y in B: added, not replacing A's record
    b.save(in_b)
    state = a.load(lesson.id)
    assert [r["status"] for r in state["records"][:3]] == ["solved", "revealed", "solved"]
    assert [m["answer"] for m in state["records"][0]["mistakes"]] == ["5"]
    assert a.summary()[lesson.id].attempts == 1
    a.close()
    b.close()


def test_a_restart_in_one_window_starts_the_lesson_over(tmp_path, lesson):
    store = ProgressStore(tmp_path)
    session = LessonSession(lesson, store.load(lesson.id))
    session.submit("16")
    store.save(session)
    session.restart()
    store.save(session)
    assert store.summary()[lesson.id].solved == 0
    store.close()


def test_records_are_merged_by_step_identity_never_by_position(lesson):
    """Window B plays a version of the lesson with its steps in another order."""
    a = solved_first_step(lesson).to_state()
    fresh = LessonSession(lesson).to_state()
    b = {**fresh, "steps": fresh["steps"][::-1], "records": fresh["records"][::-1]}
    b["records"][0] = {**b["records"][0], "hints": 1}  # B took a hint on what is its first step
    merged = merge_states(a, fresh, b)
    by_identity = {json.dumps(s): r for s, r in zip(merged["steps"], merged["records"])}
    assert by_identity[json.dumps(a["steps"][0])]["status"] == "solved"
    assert by_identity[json.dumps(b["steps"][0])]["hints"] == 1
    assert merged["steps"] == b["steps"]


def test_a_step_solved_in_another_window_keeps_the_option_it_was_solved_with(lesson):
    fresh = LessonSession(lesson).to_state()
    a = json.loads(json.dumps(fresh))
    a["records"][0] |= {"status": "solved", "answer": "2", "option": "backward() ran twice"}
    b = json.loads(json.dumps(fresh))
    b["records"][0] |= {"hints": 1}
    merged = merge_states(a, fresh, b)
    assert merged["records"][0]["answer"] == "2" and merged["records"][0]["option"] == "backward() ran twice"


def test_two_windows_that_read_an_older_state_count_each_hint_and_mistake_once(tmp_path, lesson):
    """Progress saved by the previous version (state version 2) read by two windows of this
    one: what each adds is counted once, though the first save writes it in the new format."""
    first = ProgressStore(tmp_path)
    session = first.open(lesson)
    session.submit("15")  # wrong: one mistake
    session.hint()
    first.save(session)
    first.close()
    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    (raw,) = db.execute("SELECT state FROM progress").fetchone()
    old = json.loads(raw) | {"version": 2}
    for record in old["records"]:
        record.pop("option")
    db.execute("UPDATE progress SET state = ?", (json.dumps(old),))
    db.commit()
    db.close()
    a, b = ProgressStore(tmp_path), ProgressStore(tmp_path)
    in_a, in_b = a.open(lesson), b.open(lesson)
    in_a.submit("14")  # a second mistake, in A
    a.save(in_a)
    b.save(in_b)  # B did nothing since it read the old state
    state = a.load(lesson.id)
    assert state["version"] == LessonSession(lesson).to_state()["version"]
    assert state["records"][0]["hints"] == 1 and len(state["records"][0]["mistakes"]) == 2
    a.close()
    b.close()


def test_a_step_the_lesson_no_longer_has_keeps_its_record(lesson):
    a = solved_first_step(lesson).to_state()
    b = LessonSession(lesson).to_state()
    gone = a["steps"][0]
    b = {**b, "steps": b["steps"][1:], "records": b["records"][1:]}  # an edited lesson without step 1
    merged = merge_states(a, None, b)
    assert merged["steps"][-1] == gone and merged["records"][-1]["status"] == "solved"
    assert merged["steps"][: len(b["steps"])] == b["steps"]


# --- kill -9 at any moment ------------------------------------------------------------------------

WRITER = """
import random, sys, time
from pathlib import Path
from autograd_tutor.lesson.loader import load
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession

data, lesson_file = sys.argv[1:]
lesson = load(lesson_file)
store = ProgressStore.for_student(Path(data), "soak")
session = LessonSession(lesson, store.load(lesson.id))
print("ready", flush=True)
while True:
    n = len(session.records[0].mistakes) + 1
    session.records[0].mistakes.append({"answer": str(n), "diagnosis": "", "feedback": ""})
    assert store.save(session), store.problem
    print(n, flush=True)  # reported as saved
    time.sleep(random.random() * 0.01)
"""


def test_kill_9_at_random_moments_loses_nothing_reported_saved(tmp_path):
    """A writer saves one more wrong answer each time and reports it; it is killed with
    SIGKILL at random moments (in the middle of transactions too) and started again, until
    100 saves were reported. After every kill the database is intact and holds at least
    every save reported; at the end, exactly those plus at most one per kill."""
    import random
    import signal
    import time

    rng = random.Random(14)
    data = tmp_path / "data"
    reported = 0
    for kills in range(1, 201):  # bounded; ends much sooner
        if reported >= 100:
            break
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data), str(CHAIN)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.random() * 0.15)
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        lines = [line for line in out.split() if line.isdigit()]
        reported = max([reported, *map(int, lines)])
        path = data / "students" / "soak" / "progress.sqlite3"
        if not path.exists():  # killed before its first save: the store is made then
            assert reported == 0
            continue
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
        rows = read_store(path).rows
        if not rows:
            assert reported == 0
            continue
        (found,) = rows
        assert found.attempts >= reported, f"a save reported done was lost after kill {kills}"
        assert found.attempts <= reported + kills
        answers = [m["answer"] for m in found.state["records"][0]["mistakes"]]
        assert answers == [str(i + 1) for i in range(found.attempts)]  # nothing lost, nothing twice
    assert reported >= 100
