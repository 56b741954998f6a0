"""Bayesian Knowledge Tracing: the standard four-parameter update.

A skill is either known or not. `known` is the probability that it is. Each
observation (one step answered, right or wrong on the first try) moves it by
Bayes' rule, then the learner may learn the skill at this opportunity. See
docs/mastery.md for why these few lines rather than a library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    prior: float  # P(L0): known before the first opportunity
    learn: float  # P(T): learnt at an opportunity, if not known before it
    slip: float  # P(S): a wrong answer although the skill is known
    guess: float  # P(G): a right answer although it is not


def update(known: float, correct: bool, p: Params) -> float:
    """P(known) after one observation: the posterior given the answer, then the chance to learn."""
    if correct:
        evidence, other = known * (1 - p.slip), (1 - known) * p.guess
    else:
        evidence, other = known * p.slip, (1 - known) * (1 - p.guess)
    posterior = evidence / (evidence + other)
    return posterior + (1 - posterior) * p.learn


def p_correct(known: float, p: Params) -> float:
    """The chance of a right first answer at the next opportunity."""
    return known * (1 - p.slip) + (1 - known) * p.guess
