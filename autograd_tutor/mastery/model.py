"""The learner model: for each skill, how likely it is that the learner has it.

Every step that takes an answer is one opportunity for each of its skills. Its
observation is the first-try result: right when the first answer judged was
right, with no hint asked before it; wrong when the first answer was wrong, or
a hint or a reveal came first. Later answers to the same step add nothing (the
learner has seen feedback by then). Each observation moves each of the step's
skills by the BKT update (`bkt.py`) and is written at once (`store.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .bkt import Params, update

if TYPE_CHECKING:
    from ..lesson.loader import Lesson
    from ..lesson.steps import Step

DEFAULT = Params(prior=0.3, learn=0.15, slip=0.1, guess=0.2)
TWO_WAY_GUESS = 0.5  # a step answered with one of two words (ok/error, True/False)
MASTERED = 0.95  # the usual BKT threshold: about three right first tries in a row from the prior


@dataclass(frozen=True)
class SkillState:
    known: float = DEFAULT.prior  # P(the skill is known)
    seen: int = 0  # observations
    correct: int = 0  # of them right on the first try
    last_seen: float | None = None  # when the last one was made (seconds since the epoch)

    @property
    def mastered(self) -> bool:
        return self.known >= MASTERED


@dataclass(frozen=True)
class Observation:
    """One opportunity: a step's skills and whether its first try was right."""

    skills: tuple[str, ...]
    correct: bool
    guess: float  # the chance of a right answer without the skill, for this step
    lesson: str
    step: Any  # the step's identity


@dataclass(frozen=True)
class Move:
    skill: str
    before: float
    after: float


class LearnerModel:
    """A learner's skills. An unseen skill is at the prior."""

    def __init__(self, skills: dict[str, SkillState] | None = None):
        self.skills: dict[str, SkillState] = dict(skills or {})

    def get(self, skill: str) -> SkillState:
        return self.skills.get(skill, SkillState())

    def known(self, skill: str) -> float:
        return self.get(skill).known

    def observe(self, observation: Observation, now: float) -> None:
        params = replace(DEFAULT, guess=observation.guess)
        for skill in observation.skills:
            state = self.get(skill)
            self.skills[skill] = SkillState(
                update(state.known, observation.correct, params),
                state.seen + 1,
                state.correct + observation.correct,
                now,
            )

    def copy(self) -> LearnerModel:
        return LearnerModel(self.skills)

    def moved(self, since: LearnerModel, skills: Iterable[str] | None = None) -> list[Move]:
        """The skills observed since `since` (of `skills`, if given), the largest change first."""
        names = self.skills if skills is None else skills
        moves = [Move(s, since.known(s), self.known(s)) for s in names if self.get(s).seen > since.get(s).seen]
        return sorted(moves, key=lambda m: (-abs(m.after - m.before), m.skill))


# --- which skills a step practises, and how its first try went ----------------------------------------


def course_skills(lessons: Iterable[Lesson]) -> list[str]:
    """Every skill the lessons' questions practise, in the order the course first asks for it."""
    asked = (step for lesson in lessons for step in lesson.steps if step.takes_answer)
    return list(dict.fromkeys(s for step in asked for s in step.skills))


def guess_of(step: Step) -> float:
    """BKT's guess for this step: the chance of a right answer by luck. A choice among n
    options with k right is k/n; a two-way answer (ok/error, True/False) 1/2; at most 1/2."""
    if step.kind == "choose":
        return min(TWO_WAY_GUESS, len(step.target.correct) / len(step.target.options))
    two_way = step.kind == "run" or (
        step.kind == "predict" and str(step.target).endswith((".requires_grad", ".is_leaf"))
    )
    return TWO_WAY_GUESS if two_way else DEFAULT.guess


def outcome(record: Any) -> bool | None:
    """The first-try result of a step record (a dict as saved): None while there is none yet."""
    if not isinstance(record, dict):
        return None
    mistakes, hints, status = record.get("mistakes"), record.get("hints"), record.get("status")
    helped = (isinstance(mistakes, list) and bool(mistakes)) or (isinstance(hints, int) and hints > 0)
    if helped or status == "revealed":
        return False
    return True if status == "solved" else None


def observation(lesson: Lesson, step: Step, record: Any) -> Observation | None:
    """The step's observation, once its record has a first-try result and the step has skills."""
    correct = outcome(record)
    if correct is None or not step.skills or not step.takes_answer:
        return None
    return Observation(step.skills, correct, guess_of(step), lesson.id, step.identity)


def new_observations(lesson: Lesson, stored: dict | None, state: dict) -> list[Observation]:
    """What a save of `state` observes that the `stored` state of the same play had not:
    the steps whose first-try result is known now and was not then. Steps are matched
    by identity; a stored state of another play (variant, round) counts as nothing."""
    before = _by_identity(stored) if _same_play(stored, state) else {}
    now = _by_identity(state)
    found = []
    for step in lesson.steps:
        key = _key(step.identity)
        if outcome(before.get(key)) is None:
            seen = observation(lesson, step, now.get(key))
            if seen is not None:
                found.append(seen)
    return found


def _same_play(stored: Any, state: dict) -> bool:
    """The same lesson, variant and round (states saved before variants had neither: 0)."""
    if not isinstance(stored, dict) or stored.get("lesson") != state.get("lesson"):
        return False
    return all(stored.get(k, 0) == state.get(k, 0) for k in ("variant", "round"))


def _by_identity(state: dict) -> dict[str, Any]:
    steps, records = state.get("steps"), state.get("records")
    if not isinstance(steps, list) or not isinstance(records, list):
        return {}
    return {_key(identity): record for identity, record in zip(steps, records)}


def _key(identity: Any) -> str:
    return json.dumps(identity, sort_keys=True)


def bar(p: float, width: int = 10) -> str:
    """A probability as the app and the report show it: `███████░░░  71%`."""
    filled = round(p * width)
    return "█" * filled + "░" * (width - filled) + f" {p:4.0%}"
