"""Practice: a short run of steps from finished lessons, chosen for the weakest skills.

Each item is a real step of a real lesson, played by `LessonSession` at that step
(so a `predict` or `run` step has the live state the lesson's earlier steps made)
and judged exactly as in the lesson. The next item is chosen when it is needed,
from the model as it stands after the answers so far:

- each skill's need is how far it is from known, 1 − P(known), plus a review
  bonus that grows over days without seeing it (see `schedule.py`);
- skills take turns in proportion to their need: the next item goes to the skill
  with the highest need / (1 + items it already had in this practice), so the
  weakest skill comes first and gets the most items;
- items alternate between lessons: a step from another lesson than the last
  item's is preferred, and a step not yet given in this practice;
- a lesson with variants is played on numbers the learner has not had: not those
  of their saved progress, nor of an item already given in this practice.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from ..engine.live import OpResult
from ..engine.sampling import variant_inputs
from ..lesson.loader import Lesson
from ..lesson.steps import Step
from ..session import LessonSession
from ..variants import COUNT
from .model import LearnerModel, Move, Observation, observation
from .schedule import Candidate, candidates, rank

SIZE = 10  # items in one practice


@dataclass
class Item:
    lesson: Lesson
    step: Step
    skill: str  # the skill it was chosen for
    variant: int
    session: LessonSession  # at the step, on the item's variant
    recorded: bool = False  # its observation is in the store

    @property
    def record(self) -> dict:
        return asdict(self.session.records[self.step.index])

    def story(self) -> list[OpResult]:
        """What the lesson's earlier `run` steps did to the live state (torch's own code,
        errors and warnings): a `predict` or `run` item is asked about that state."""
        earlier = [s.index for s in self.lesson.steps[: self.step.index] if s.kind == "run"]
        return [r for i in earlier for r in self.session.run_result(i).results]


@dataclass
class Practice:
    """One practice: `next()` gives items until SIZE were given or nothing is left."""

    pool: list[Candidate]
    model: LearnerModel  # updated as observations are recorded
    played: dict[str, int]  # lesson id -> the variant of the learner's saved progress
    seed: str  # the learner's (for LessonSession)
    now: float
    rng: random.Random
    size: int = SIZE
    finished_lessons: int = 0  # how many lessons the pool was drawn from
    items: list[Item] = field(default_factory=list)
    start: LearnerModel = field(init=False)  # the model before the first item
    _numbers: dict[str, list] = field(default_factory=dict)  # lesson id -> input values the learner had

    def __post_init__(self) -> None:
        self.start = self.model.copy()

    @classmethod
    def start_for(
        cls,
        lessons: list[Lesson],
        finished: set[str],
        played: dict[str, int],
        model: LearnerModel,
        *,
        seed: str,
        now: float,
        size: int = SIZE,
    ) -> Practice:
        rng = random.Random(f"{seed}/practice/{now}")
        return cls(candidates(lessons, finished), model.copy(), played, seed, now, rng, size, len(finished))

    @property
    def empty(self) -> str | None:
        """Why there is nothing to practise, or None when there is."""
        if self.pool:
            return None
        if not self.finished_lessons:
            return "Nothing to practise yet: practice draws on the lessons you have finished."
        return "The lessons you have finished name no skills to practise."

    @property
    def skills(self) -> list[str]:
        """The skills the pool practises, in course order."""
        return list(dict.fromkeys(s for c in self.pool for s in c.skills))

    @property
    def item(self) -> Item | None:
        return self.items[-1] if self.items else None

    @property
    def finished(self) -> bool:
        return len(self.items) >= self.size or not self.pool

    def next(self) -> Item | None:
        """The next item, or None when the practice is over."""
        if self.finished:
            return None
        skill, chosen = self._choose()
        variant = self._variant(chosen.lesson)
        session = LessonSession(chosen.lesson, None, variant=variant, seed=self.seed)
        session.index = chosen.step.index  # the lesson's earlier steps count as passed, as in the lesson
        item = Item(chosen.lesson, chosen.step, skill, session.variant, session)
        self.items.append(item)
        return item

    def pending(self) -> Observation | None:
        """The current item's observation, once its first try is known and until it is recorded."""
        item = self.item
        if item is None or item.recorded:
            return None
        return observation(item.lesson, item.step, item.record)

    def recorded(self, seen: Observation, when: float) -> None:
        """The store has `seen`: the model moves as the stored one did."""
        self.model.observe(seen, when)
        if self.item is not None:
            self.item.recorded = True

    def moved(self) -> list[Move]:
        """The skills this practice moved, the largest change first."""
        return self.model.moved(self.start)

    # --- choosing ---------------------------------------------------------------------------------

    def ranked(self) -> list[str]:
        """The pool's skills in the order they get the next item: need / (1 + items had)."""
        return rank(self.skills, self.model, self.now, Counter(item.skill for item in self.items))

    def _choose(self) -> tuple[str, Candidate]:
        ranked = self.ranked()
        last = self.items[-1].lesson.id if self.items else None
        for skill in ranked:  # the neediest skill with a step in another lesson than the last item's
            options = [c for c in self.pool if skill in c.skills and c.lesson.id != last]
            if options:
                return skill, self._pick(options)
        skill = ranked[0]
        return skill, self._pick([c for c in self.pool if skill in c.skills])

    def _pick(self, options: list[Candidate]) -> Candidate:
        uses = Counter((item.lesson.id, item.step.index) for item in self.items)
        fewest = min(uses[(c.lesson.id, c.step.index)] for c in options)
        return self.rng.choice([c for c in options if uses[(c.lesson.id, c.step.index)] == fewest])

    def _variant(self, lesson: Lesson) -> int:
        """A variant whose numbers the learner has not had: not those of their saved progress,
        nor of an earlier item of this practice (two variants may draw the same numbers)."""
        if not lesson.spec.variants:
            return 0  # only the authored numbers are proven for this lesson
        had = self._numbers.setdefault(lesson.id, [])
        played = self.played.get(lesson.id)
        if not had and played is not None:
            had.append(variant_inputs(lesson.computation, lesson.id, played))
        used = {played} | {i.variant for i in self.items if i.lesson.id == lesson.id}
        fresh = [k for k in range(1, COUNT) if k not in used]
        self.rng.shuffle(fresh)
        for k in fresh:
            numbers = variant_inputs(lesson.computation, lesson.id, k)
            if numbers is not None and not any(_same(numbers, other) for other in had):
                had.append(numbers)
                return k
        return fresh[0] if fresh else self.rng.choice([k for k in range(1, COUNT) if k != played])


def _same(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
