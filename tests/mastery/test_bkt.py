"""The BKT update against values worked out by hand (docs/mastery.md shows the same sums)."""

from __future__ import annotations

import pytest

from autograd_tutor.mastery.bkt import Params, p_correct, update
from autograd_tutor.mastery.model import DEFAULT, TWO_WAY_GUESS

P = Params(prior=0.3, learn=0.15, slip=0.1, guess=0.2)


def test_the_default_parameters_are_the_documented_ones():
    assert DEFAULT == P
    assert TWO_WAY_GUESS == 0.5


def test_a_right_answer_from_the_prior():
    # posterior = 0.3·0.9 / (0.3·0.9 + 0.7·0.2) = 0.27/0.41; then + (1 − 0.27/0.41)·0.15 = 29.1/41
    assert update(0.3, True, P) == pytest.approx(29.1 / 41, abs=1e-12)
    assert update(0.3, True, P) == pytest.approx(0.709756, abs=1e-6)


def test_a_wrong_answer_from_the_prior():
    # posterior = 0.3·0.1 / (0.3·0.1 + 0.7·0.8) = 0.03/0.59; then + (1 − 0.03/0.59)·0.15 = 11.4/59
    assert update(0.3, False, P) == pytest.approx(11.4 / 59, abs=1e-12)
    assert update(0.3, False, P) == pytest.approx(0.193220, abs=1e-6)


def test_three_right_first_tries_in_a_row_reach_mastery():
    known = 0.3
    for expected in (0.709756, 0.929191, 0.985846):
        known = update(known, True, P)
        assert known == pytest.approx(expected, abs=1e-6)
    assert known >= 0.95  # MASTERED


def test_a_two_way_question_moves_less_when_right():
    two_way = Params(0.3, 0.15, 0.1, 0.5)
    # 0.27 / (0.27 + 0.7·0.5) = 27/62; + (35/62)·0.15 = 32.25/62
    assert update(0.3, True, two_way) == pytest.approx(32.25 / 62, abs=1e-12)
    assert update(0.3, True, two_way) < update(0.3, True, P)


def test_a_slip_from_near_mastery():
    # 0.95·0.1 / (0.095 + 0.05·0.8) = 0.095/0.135; + (0.04/0.135)·0.15 = 0.101/0.135
    assert update(0.95, False, P) == pytest.approx(0.101 / 0.135, abs=1e-12)


def test_the_chance_of_a_right_answer():
    assert p_correct(0.3, P) == pytest.approx(0.3 * 0.9 + 0.7 * 0.2)
    assert p_correct(1.0, P) == pytest.approx(0.9)
    assert p_correct(0.0, P) == pytest.approx(0.2)


@pytest.mark.parametrize("correct", [True, False])
def test_the_estimate_stays_a_probability(correct):
    for known in (0.0, 1e-9, 0.5, 1 - 1e-9, 1.0):
        assert 0.0 <= update(known, correct, P) <= 1.0


def test_the_worked_numbers_in_the_docs():
    from pathlib import Path

    text = (Path(__file__).parent.parent.parent / "docs" / "mastery.md").read_text(encoding="utf-8")
    shown = {line.split(":")[0].strip("- "): line.rsplit("**", 2)[-2] for line in text.splitlines() if "→ **" in line}
    assert shown == {
        "right": f"{update(0.3, True, P):.4f}",
        "wrong": f"{update(0.3, False, P):.4f}",
        "right on a two-way step": f"{update(0.3, True, Params(0.3, 0.15, 0.1, 0.5)):.4f}",
        "three right first tries in a row": f"{update(update(update(0.3, True, P), True, P), True, P):.4f}",
    }
