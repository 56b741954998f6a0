"""Skills: the skills file, located warnings for unknown names, and the skills
steps get from their kind and the functions involved."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import lesson_text

from autograd_tutor.expr.functions import FUNCTIONS
from autograd_tutor.lesson.loader import library, load
from autograd_tutor.lesson.ops import OPERATIONS
from autograd_tutor.lesson.skills import (
    FUNCTION_SKILLS,
    OPERATION_SKILLS,
    OPERATOR_SKILLS,
    PROPERTY_SKILLS,
    skills_file,
)
from autograd_tutor.validate import validate

COURSE = Path(__file__).parent.parent / "lessons"

CHAIN = """
format: 1
id: chain
title: Chain
skills: [chain-rule]
inputs:
  x: {value: 4.0, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
"""
PATHS = """
format: 1
id: paths
title: Paths
inputs:
  x: {value: 1.5, requires_grad: true}
  v: {value: [1.0, 2.0], requires_grad: true}
nodes:
  a: x*x
  b: sin(x)
  y: a + b + mean(v*v)
"""


def skills_of(text: str) -> dict:
    return {(s.kind, str(s.target_json())): s.skills for s in lesson_text(text).steps}


def test_automatic_steps_get_skills_from_their_kind_and_functions():
    found = skills_of(CHAIN)
    assert found[("forward", "y")] == ("forward-pass",)
    assert found[("local", "['z', 'y']")] == ("chain-rule", "derivative-table")
    assert found[("local", "['y', 'x']")] == ("chain-rule", "power-rule")
    assert found[("gradient", "x")][0] == "chain-rule"
    assert set(found[("gradient", "x")]) == {"chain-rule", "derivative-table", "power-rule"}


def test_several_paths_products_sums_and_vectors():
    found = skills_of(PATHS)
    assert "multiple-paths" in found[("gradient", "x")]
    assert "product-rule" in found[("local", "['a', 'x']")]
    assert found[("local", "['y', 'a']")] == ("chain-rule", "sum-passes-gradient")
    assert set(found[("gradient", "v")]) >= {"reductions", "vector-gradients", "product-rule"}


def test_a_steps_own_skills_win_and_the_lessons_fill_in():
    text = (
        CHAIN
        + """steps:
  - forward: y
    skills: [floating-point]
  - run: [backward, {hook: y}, {sgd: {lr: 0.1}}]
  - predict: x.is_leaf
  - choose: Why?
    options: [{text: a, correct: true}, {text: b, feedback: f}]
"""
    )
    steps = lesson_text(text).steps
    assert steps[0].skills == ("floating-point",)
    assert steps[1].skills == ("backward-call", "hooks", "training-step")
    assert steps[2].skills == ("leaf-tensors",)
    assert steps[3].skills == ("chain-rule",)  # nothing to infer: the lesson's


def test_unknown_skill_names_are_located_warnings_with_a_suggestion(tmp_path):
    (tmp_path / "skills.yaml").write_text("chain-rule: Multiply.\nhooks: See.\n")
    lesson = tmp_path / "01-chain.yaml"
    lesson.write_text(
        CHAIN.replace("[chain-rule]", "[chain-rule, chain-rul]") + "steps:\n  - forward: y\n    skills: [hook]\n"
    )
    problems = [str(p) for p in validate([tmp_path])]
    assert problems == [
        f"{lesson}:5:22: warning: skill 'chain-rul' is not in skills.yaml (did you mean 'chain-rule'?)",
        f"{lesson}:13:14: warning: skill 'hook' is not in skills.yaml (did you mean 'hooks'?)",
    ]
    (tmp_path / "skills.yaml").unlink()  # no skills file: any name goes
    assert validate([tmp_path]) == []


def test_the_skills_file_is_not_a_lesson_and_its_problems_are_located(tmp_path):
    (tmp_path / "skills.yaml").write_text("chain-rule: Multiply.\nBad Name: x\nempty: ''\n")
    (tmp_path / "01-chain.yaml").write_text(CHAIN)
    lessons, problems = library([tmp_path])
    assert [lesson.id for lesson in lessons] == ["chain"]
    assert [(p.line, p.message) for p in problems] == [
        (2, "'Bad Name': a skill name is lowercase words joined by -"),
        (3, "empty: give a one-line description"),
    ]


def test_every_function_operation_and_property_implies_skills_of_the_course():
    course = skills_file(COURSE)
    assert course is not None and not course.problems
    assert set(FUNCTION_SKILLS) == set(FUNCTIONS)
    assert set(OPERATION_SKILLS) == set(OPERATIONS)
    implied = {
        s
        for table in (FUNCTION_SKILLS, OPERATOR_SKILLS, OPERATION_SKILLS, PROPERTY_SKILLS)
        for v in table.values()
        for s in v
    }
    implied |= {"forward-pass", "chain-rule", "backprop-by-hand", "multiple-paths", "product-rule"}
    implied |= {"sum-passes-gradient", "vector-gradients", "broadcasting", "vector-jacobian-product", "graph-lifetime"}
    assert implied <= set(course.skills)


@pytest.mark.parametrize("name", [p.name for p in sorted(COURSE.glob("*.yaml")) if p.name != "skills.yaml"])
def test_every_bundled_lesson_names_known_skills(name):
    course = skills_file(COURSE)
    lesson = load(COURSE / name)
    assert set(lesson.skills) <= set(course.skills)
