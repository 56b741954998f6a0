"""The learner model in the progress store: written with the step that made it, never twice,
and nothing lost on kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from autograd_tutor.mastery.bkt import update
from autograd_tutor.mastery.model import DEFAULT
from autograd_tutor.progress import MIGRATIONS, SCHEMA_VERSION, ProgressStore, read_store
from autograd_tutor.session import LessonSession

from .course import COURSE, lesson


@pytest.fixture
def store(tmp_path):
    store = ProgressStore(tmp_path)
    yield store
    store.close()


def test_each_first_try_is_counted_once(store):
    chain = lesson("chain")
    session = LessonSession(chain, store.load("chain"), seed=store.seed)
    store.save(session)  # opened: nothing observed
    assert store.mastery().skills == {}
    session.submit("x**2")
    store.save(session)
    session.submit("x**2")  # judged again, settled already
    store.save(session)
    session.advance()
    store.save(session)
    state = store.mastery().get("forward-pass")
    assert (state.seen, state.correct) == (1, 1)
    assert state.known == pytest.approx(update(DEFAULT.prior, True, DEFAULT))


def test_wrong_then_right_is_one_wrong_observation(store):
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    session.index = 1
    session.submit("sin(y)")
    store.save(session)
    session.submit("cos(y)")
    store.save(session)
    state = store.mastery().get("derivative-table")
    assert (state.seen, state.correct) == (1, 0)
    assert state.known == pytest.approx(update(DEFAULT.prior, False, DEFAULT))


def test_a_hint_or_a_reveal_counts_as_not_known(store):
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    session.index = 2
    session.hint()
    store.save(session)
    session.index = 3
    session.reveal()
    store.save(session)
    model = store.mastery()
    assert (model.get("power-rule").seen, model.get("power-rule").correct) == (1, 0)
    assert (model.get("chain-rule").seen, model.get("chain-rule").correct) == (1, 0)


def test_a_resumed_lesson_does_not_count_again(tmp_path, store):
    chain = lesson("chain")
    session = LessonSession(chain, seed="me")
    session.submit("x**2")
    store.save(session)
    again = ProgressStore(tmp_path)
    resumed = LessonSession(chain, again.load("chain"), seed="me")
    again.save(resumed)
    resumed.index = 2
    resumed.submit("2*x")
    again.save(resumed)
    model = again.mastery()
    again.close()
    assert model.get("forward-pass").seen == 1 and model.get("power-rule").seen == 1


def test_a_restarted_lesson_counts_anew(store):
    chain = lesson("chain")
    session = LessonSession(chain, seed="me")
    session.submit("x**2")
    store.save(session)
    session.restart()
    store.save(session)
    session.submit("x**2")
    store.save(session)
    assert store.mastery().get("forward-pass").seen == 2


def test_damaged_rows_read_as_the_prior(store):
    store.save(LessonSession(lesson("chain"), variant=0))  # the database is made on the first save
    db = sqlite3.connect(store.path)
    db.executemany(
        "INSERT INTO mastery VALUES (?, ?, ?, ?, ?, ?)",
        [("me", "a", "lots", 1, 1, None), ("me", "b", 7.0, 1, 1, None), ("me", "c", 0.5, 2, 9, 5.0)],
    )
    db.commit()
    db.close()
    model = store.mastery()
    assert set(model.skills) == {"c"}
    assert model.get("c").correct == 2  # never more right than seen
    assert model.get("a").known == DEFAULT.prior


def test_students_do_not_share_a_model(tmp_path):
    chain = lesson("chain")
    alice, bob = ProgressStore(tmp_path, "alice"), ProgressStore(tmp_path, "bob")
    session = LessonSession(chain, variant=0)
    session.submit("x**2")
    alice.save(session)
    assert alice.mastery().get("forward-pass").seen == 1
    assert bob.mastery().skills == {}
    alice.close()
    bob.close()


def test_reset_all_forgets_the_skills_too_and_a_lesson_reset_does_not(store):
    session = LessonSession(lesson("chain"), variant=0)
    session.submit("x**2")
    store.save(session)
    store.reset("chain")
    assert store.mastery().get("forward-pass").seen == 1  # what was shown stays known
    store.reset()
    assert store.mastery().skills == {}


# --- stores older tutors wrote ------------------------------------------------------------------


def _old_store(tmp_path, version: int) -> None:
    """A database as a tutor of progress format `version` left it, with one lesson done
    halfway (format 0: the tables of the first migration, before PRAGMA user_version)."""
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    session.submit("x**2")
    session.advance()
    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    for migration in MIGRATIONS[: max(version, 1)]:
        db.executescript(migration)
    db.execute(
        "INSERT INTO progress (student, lesson, state, step, steps, solved, asked, attempts, hints, reveals,"
        " finished, updated) VALUES ('me', 'chain', ?, 1, ?, 1, ?, 0, 0, 0, 0, 1.0)",
        (json.dumps(session.to_state()), len(chain.steps), sum(s.takes_answer for s in chain.steps)),
    )
    db.execute("INSERT INTO last_opened VALUES ('me', 'chain')")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_an_older_store_is_upgraded_and_keeps_its_progress(tmp_path, version):
    _old_store(tmp_path, version)
    store = ProgressStore(tmp_path)
    assert store.mastery().skills == {}  # the old progress observed nothing: the model starts at the prior
    session = LessonSession(lesson("chain"), store.load("chain"), variant=0)
    assert session.index == 1 and session.records[0].status == "solved"  # kept where it was
    session.submit(session.truth().text)
    assert store.save(session)
    # the step answered now is observed; the one answered before the upgrade is not counted
    skills = store.mastery().skills
    assert set(skills) == set(session.step.skills) and all(s.seen == 1 for s in skills.values())
    store.close()
    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    contents = read_store(tmp_path / "progress.sqlite3")
    assert [r.lesson for r in contents.rows] == ["chain"] and contents.skills["me"].skills


# --- kill -9 --------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from autograd_tutor.lesson.loader import load
    from autograd_tutor.progress import MIGRATIONS, SCHEMA_VERSION, ProgressStore, read_store
    from autograd_tutor.session import LessonSession

    square = load(Path(sys.argv[2]) / "01-square.yaml")
    store = ProgressStore(Path(sys.argv[1]))
    session = LessonSession(square, store.load("square"), seed="me")
    answers = {0: "x**2", 1: "2*x", 2: "2*x"}
    observed = 0
    while True:
        for index in range(3):
            session.index = index
            session.submit(answers[index])
            store.save(session)
            observed += 1
            print(observed, flush=True)  # reported only once the save has returned
        session.restart()
        store.save(session)
    """
)


@pytest.mark.parametrize("after", [1, 7, 23])
def test_nothing_reported_is_lost_on_kill_9(tmp_path, after):
    """A learner's process killed while saving: every observation it reported is in the
    store, at most the one being written when it died is extra, and the model agrees
    with the lesson's saved state (the two are written in one transaction)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(COURSE)], stdout=subprocess.PIPE, text=True
    )
    reported = 0
    deadline = time.monotonic() + 60
    while reported < after and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reported = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    assert reported == after

    store = ProgressStore(tmp_path)
    model = store.mastery()
    state = store.load("square")
    store.close()
    total = model.get("forward-pass").seen + model.get("power-rule").seen
    assert reported <= total <= reported + 1
    settled = sum(r["status"] == "solved" for r in state["records"])  # in the current play
    plays = (total - settled) // 3  # those finished before it
    assert total == 3 * plays + settled
    assert model.get("forward-pass").seen == plays + (settled >= 1)  # step 0
    assert model.get("power-rule").seen == 2 * plays + max(0, settled - 1)  # steps 1 and 2
