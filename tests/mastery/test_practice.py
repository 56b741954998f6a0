"""The practice scheduler: real steps of finished lessons, weakest skills first, interleaved,
fresh variants, spaced review; each item judged exactly as in its lesson."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from autograd_tutor.mastery.model import DEFAULT, LearnerModel, SkillState
from autograd_tutor.mastery.practice import Practice
from autograd_tutor.mastery.schedule import DAY, REVIEW_WEIGHT, candidates, need
from autograd_tutor.session import LessonSession

from .course import course, lesson

NOW = 1_000_000_000.0
ALL = {"square", "chain", "accumulate"}


def practice(model: LearnerModel, finished=ALL, played=None, size=10, seed="s") -> Practice:
    return Practice.start_for(list(course()), set(finished), played or {}, model, seed=seed, now=NOW, size=size)


def play_all(p: Practice, right: bool = True) -> list:
    """Answer every item at once with the model answer (or a wrong one), recording each."""
    items = []
    while (item := p.next()) is not None:
        items.append(item)
        item.session.submit(item.step.answer if right else "12345")
        seen = p.pending()
        assert seen is not None and seen.correct is right
        p.recorded(seen, NOW)
        assert p.pending() is None  # recorded once
    return items


def test_candidates_are_the_steps_with_skills_of_finished_lessons():
    found = candidates(list(course()), {"chain", "accumulate"})
    assert {c.lesson.id for c in found} == {"chain", "accumulate"}
    assert all(c.step.takes_answer for c in found)
    kinds = Counter(c.step.kind for c in found)
    assert kinds == {"forward": 1, "local": 2, "gradient": 1, "predict": 2, "run": 1}  # not the runs without a question


def test_nothing_to_practise_without_a_finished_lesson():
    p = practice(LearnerModel(), finished=set())
    assert p.finished and p.next() is None


def test_the_weakest_skill_comes_first_and_most():
    model = LearnerModel(
        {
            "chain-rule": SkillState(0.1, 4, 0, NOW),
            "power-rule": SkillState(0.97, 6, 6, NOW),
            "forward-pass": SkillState(0.96, 3, 3, NOW),
            "derivative-table": SkillState(0.96, 3, 3, NOW),
            "grad-accumulation": SkillState(0.5, 2, 1, NOW),
            "graph-lifetime": SkillState(0.96, 3, 3, NOW),
        }
    )
    items = play_all(practice(model), right=False)  # wrong answers keep the weak skills weak
    assert len(items) == 10
    assert items[0].skill == "chain-rule"
    counts = Counter(item.skill for item in items)
    assert counts["chain-rule"] == max(counts.values())
    mastered = ("power-rule", "forward-pass", "derivative-table", "graph-lifetime")
    assert counts["grad-accumulation"] > max(counts[s] for s in mastered)


def test_items_alternate_between_lessons():
    items = play_all(practice(LearnerModel()))
    lessons = [item.lesson.id for item in items]
    assert all(a != b for a, b in zip(lessons, lessons[1:]))


def test_a_single_lesson_still_gives_a_practice():
    items = play_all(practice(LearnerModel(), finished={"chain"}, size=6))
    assert len(items) == 6 and {i.lesson.id for i in items} == {"chain"}
    assert len({i.step.index for i in items[:4]}) == 4  # every step once before any comes back


def test_variants_are_fresh():
    items = play_all(practice(LearnerModel(), played={"chain": 7, "square": 3}, size=12))
    for lesson_id, played in (("chain", 7), ("square", 3)):
        variants = [i.variant for i in items if i.lesson.id == lesson_id]
        assert variants and played not in variants and 0 not in variants
        assert len(set(variants)) == len(variants)
        numbers = [float(i.session.comp.inputs["x"]) for i in items if i.lesson.id == lesson_id]
        mine = LessonSession(lesson(lesson_id), variant=played).comp.inputs["x"]
        assert len(set(numbers)) == len(numbers) and float(mine) not in numbers  # new numbers each time
    assert all(i.variant == 0 for i in items if i.lesson.id == "accumulate")  # no variants: as authored


def test_a_skill_not_seen_for_a_while_comes_back():
    assert need(SkillState(0.9, 5, 5, NOW), NOW) == pytest.approx(0.1)
    assert need(SkillState(0.9, 5, 5, NOW - 7 * DAY), NOW) == pytest.approx(0.1 + REVIEW_WEIGHT)
    assert need(SkillState(0.9, 5, 5, NOW - 30 * DAY), NOW) == pytest.approx(0.1 + REVIEW_WEIGHT)
    assert need(SkillState(), NOW) == pytest.approx(1 - DEFAULT.prior)  # never seen: nothing to review
    fresh = {s: SkillState(0.85, 5, 5, NOW) for s in ("forward-pass", "derivative-table", "chain-rule")}
    model = LearnerModel({**fresh, "power-rule": SkillState(0.9, 5, 5, NOW - 10 * DAY)})
    first = practice(model, finished={"square", "chain"}).next()
    assert first.skill == "power-rule"


def test_an_item_is_judged_exactly_as_in_its_lesson():
    p = practice(LearnerModel({"chain-rule": SkillState(0.05, 1, 0, NOW)}), finished={"chain"})
    item = p.next()
    assert (item.lesson.id, item.step.kind, item.skill) == ("chain", "gradient", "chain-rule")
    played = LessonSession(lesson("chain"), variant=item.variant)
    played.index = item.step.index
    for answer in ("2*x*cos(x**2)", "cos(x**2)", "2*x*cos(x)", "-1", "2 x"):
        a, b = item.session.check(answer), played.check(answer)
        assert (a.status, a.diagnosis, a.feedback) == (b.status, b.diagnosis, b.feedback)
    assert item.session.check("2*x*cos(x)").diagnosis == "outer_argument"


def test_a_predict_item_has_the_live_state_of_its_lesson():
    model = LearnerModel({s: SkillState(0.99, 9, 9, NOW) for s in ("graph-lifetime",)})
    p = practice(model, finished={"accumulate"}, size=2)
    item = p.next()
    assert item.skill == "grad-accumulation" and item.step.kind == "predict"
    expected = {1: "4", 3: "8"}[item.step.index]  # after one backward(), or two
    assert item.session.submit(expected).correct
    assert not item.session.check(str(int(expected) // 2 or 8)).correct
    story = [r.code for r in item.story()]
    assert story.count("y.backward()") == (1 if item.step.index == 1 else 2)


def test_a_hint_before_the_first_answer_is_recorded_as_not_known():
    p = practice(LearnerModel(), finished={"square"})
    item = p.next()
    assert p.pending() is None  # nothing tried yet
    item.session.hint()
    seen = p.pending()
    assert seen is not None and not seen.correct
    p.recorded(seen, NOW)
    item.session.submit(item.step.answer)
    assert p.pending() is None
    moved = p.moved()
    assert [m.skill for m in moved] == [item.skill] and moved[0].after < moved[0].before


def test_the_same_seed_and_time_give_the_same_practice():
    a = [(i.lesson.id, i.step.index, i.variant) for i in play_all(practice(LearnerModel()))]
    b = [(i.lesson.id, i.step.index, i.variant) for i in play_all(practice(LearnerModel()))]
    assert a == b
    c = practice(LearnerModel(), seed="other")
    c.rng = random.Random("other")
    assert [(i.lesson.id, i.step.index, i.variant) for i in play_all(c)] != a
