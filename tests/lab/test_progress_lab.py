"""The lab's progress layout (one database per student, in a 0700 directory of their own)
and many writers at once, as separate processes, with no lost write."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from autograd_tutor.progress import ProgressStore, student_dir, valid_student

from .conftest import CHAIN


@pytest.mark.parametrize("name", ["alice", "Bob_2", "j.doe", "x-y", "a" * 64, "0", "_tmp"])
def test_valid_student_names(name):
    assert valid_student(name)


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "-rf", "a/b", "../alice", "a b", "é", "a" * 65, "a\n"])
def test_invalid_student_names_are_never_paths(tmp_path, name):
    assert not valid_student(name)
    with pytest.raises(ValueError):
        student_dir(tmp_path, name)
    with pytest.raises(ValueError):
        ProgressStore.for_student(tmp_path, name)
    assert not (tmp_path / "students").exists() or not any((tmp_path / "students").iterdir())


def test_one_private_directory_per_student(tmp_path):
    store = ProgressStore.for_student(tmp_path, "alice")
    store.close()
    directory = tmp_path / "students" / "alice"
    assert store.path == directory / "progress.sqlite3"
    assert directory.stat().st_mode & 0o777 == 0o700
    directory.chmod(0o755)  # loosened by hand: tightened again on the next start
    ProgressStore.for_student(tmp_path, "alice").close()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_a_symlink_in_place_of_a_students_directory_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "students").mkdir()
    (tmp_path / "students" / "bob").symlink_to(elsewhere)
    with pytest.raises(PermissionError):
        ProgressStore.for_student(tmp_path, "bob")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory owned by someone else needs root")
def test_a_directory_squatted_by_another_user_is_refused(tmp_path):
    squatted = tmp_path / "students" / "bob"
    squatted.mkdir(parents=True)
    os.chown(squatted, 65534, 65534)  # nobody made it first
    with pytest.raises(PermissionError):
        ProgressStore.for_student(tmp_path, "bob")


WRITER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from autograd_tutor.lesson.loader import load
    from autograd_tutor.progress import ProgressStore
    from autograd_tutor.session import LessonSession

    data, layout, student, lesson_file, rounds = sys.argv[1:]
    lesson = load(lesson_file)
    if layout == "lab":
        store = ProgressStore.for_student(Path(data), student)
    else:
        store = ProgressStore(Path(data), student)
    session = LessonSession(lesson)
    print("ready", flush=True)
    go = Path(data) / "go"
    for _ in range(600):  # all start writing at the same moment (bounded: 60 s)
        if go.exists():
            break
        time.sleep(0.1)
    for _ in range(int(rounds)):
        session.record.hints += 1  # one more thing to remember, saved at once
        store.save(session)
    store.close()
    print("done")
    """
)


def test_many_writers_at_once_lose_nothing(tmp_path):
    """Eight processes write at the same moment: four students in the lab layout (two of
    them from two processes at once, as with two open sessions, on two lessons) and four
    in one shared database. Every row ends with every write."""
    rounds = 40
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    second = lessons / "chain-2.yaml"
    second.write_text(CHAIN.read_text().replace("id: chain-rule-sin-square", "id: chain-rule-2"))
    jobs = [
        ("lab", "ann", CHAIN),
        ("lab", "ann", second),
        ("lab", "ben", CHAIN),
        ("lab", "ben", second),
        *[("shared", f"s{i}", CHAIN) for i in range(4)],
    ]
    data = tmp_path / "data"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data), layout, student, str(lesson), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for layout, student, lesson in jobs
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    (data / "go").touch()
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert out.strip() == "done"

    for student in ("ann", "ben"):
        db = sqlite3.connect(data / "students" / student / "progress.sqlite3")
        rows = db.execute("SELECT student, lesson, hints FROM progress ORDER BY lesson").fetchall()
        assert rows == [(student, "chain-rule-2", rounds), (student, "chain-rule-sin-square", rounds)]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
    db = sqlite3.connect(data / "progress.sqlite3")
    rows = db.execute("SELECT student, hints FROM progress ORDER BY student").fetchall()
    assert rows == [(f"s{i}", rounds) for i in range(4)]
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
