"""Variants (`variants: true`): each learner their own numbers, drawn from `sample`,
played by `check --variant K`, proved by `validate` on variants 0..19, remembered by
the saved state, with `{name}` in prose following the numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import lesson_text, load_fixture

from autograd_tutor.cli import main
from autograd_tutor.engine.sampling import variant_inputs
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate
from autograd_tutor.variants import COUNT, choose_variant, installation_seed


@pytest.fixture(scope="module")
def lesson():
    return load_fixture("variants")


def test_variant_zero_is_the_authored_lesson(lesson):
    assert {n: v.tolist() for n, v in variant_inputs(lesson.computation, lesson.id, 0).items()} == {
        "x": 2.0,
        "t": 1.0,
        "w": 0.5,
        "b": -1.0,
    }


def test_variants_draw_from_each_inputs_domain_reproducibly(lesson):
    comp = lesson.computation
    seen = {name: set() for name in comp.inputs}
    for k in range(1, COUNT):
        inputs = variant_inputs(comp, lesson.id, k)
        again = variant_inputs(comp, lesson.id, k)
        assert {n: v.tolist() for n, v in inputs.items()} == {n: v.tolist() for n, v in again.items()}
        assert -3 <= inputs["x"] <= 3  # {low: -3, high: 3}
        assert float(inputs["t"]) in (0.0, 1.0)  # a list
        assert float(inputs["b"]) in (-1.0, -0.5, 0.0, 0.5, 1.0)  # a grid
        assert -2 <= inputs["w"] <= 2 and float(inputs["w"]) == round(float(inputs["w"]), 1)  # default: one decimal
        for name, value in inputs.items():
            seen[name].add(float(value))
    assert all(len(values) > 2 for name, values in seen.items() if name != "t")


def test_variant_draws_keep_every_value_finite():
    lesson = lesson_text(
        """
        format: 1
        id: logs
        title: log needs a positive argument
        variants: true
        inputs:
          x: {value: 0.5, requires_grad: true}
        nodes:
          y: log(x)
        """
    )
    for k in range(1, COUNT):
        assert variant_inputs(lesson.computation, lesson.id, k)["x"] > 0


def test_a_session_plays_its_variant_and_the_prose_follows(lesson):
    session = LessonSession(lesson, variant=3)
    inputs = variant_inputs(lesson.computation, lesson.id, 3)
    assert session.variant == 3 and session.comp.inputs["w"] == inputs["w"]
    w = float(inputs["w"])
    assert f"With w = {w:g} and" in session.intro
    assert "{w} stays as written" in session.intro  # {{w}} writes {w}
    z = float(session.engine.truth.values["z"])
    assert session.question(0).grade(repr(z)).correct
    assert session.question(0).grade("w*x + b").correct
    session.index = 3
    assert session.prompt == f"What is dloss/dw at w = {w:g}?"


def test_each_learner_their_own_variant_and_a_new_one_on_restart(lesson):
    alice, bob = LessonSession(lesson, seed="alice"), LessonSession(lesson, seed="bob")
    assert 1 <= alice.variant < COUNT and 1 <= bob.variant < COUNT
    assert alice.variant == LessonSession(lesson, seed="alice").variant  # the same learner, the same numbers
    variants = {choose_variant(lesson, f"student{i}", 0) for i in range(40)}
    assert len(variants) > 10
    first = alice.variant
    restarted = [first]
    for _ in range(3):
        alice.restart()
        restarted.append(alice.variant)
    assert len(set(restarted)) > 1 and alice.round == 3


def test_progress_remembers_the_variant(lesson):
    session = LessonSession(lesson, seed="carol")
    session.restart()
    session.submit("w*x + b")
    state = json.loads(json.dumps(session.to_state()))
    resumed = LessonSession(lesson, state, seed="carol")
    assert (resumed.variant, resumed.round) == (session.variant, 1)
    assert resumed.records[0].status == "solved"


def test_authored_plays_the_written_numbers_even_after_a_restart(lesson, tmp_path):
    """`autograd-tutor --authored`: the store opens every lesson on variant 0, and a
    restart keeps it there; without it the same store gives the learner's own variant."""
    store = ProgressStore(tmp_path, "dana")
    assert store.open(lesson).variant != 0
    store.authored = True
    session = store.open(lesson)
    assert session.variant == 0 and session.prompt == LessonSession(lesson, variant=0).prompt
    session.restart()
    assert session.variant == 0
    played = LessonSession(lesson, seed="dana", variant=5)
    played.restart()
    assert played.variant == 5  # a variant asked for is kept


def test_a_lesson_without_variants_always_plays_the_authored_numbers():
    chain = load_fixture("chain")
    assert {LessonSession(chain, seed=s).variant for s in ("a", "b", "c")} == {0}


def test_check_plays_a_variant(tmp_path, capsys, lesson):
    answers = tmp_path / "answers.yaml"
    answers.write_text("- w*x + b\n- 2*(p - t)\n- p*(1 - p)\n- 2*(p - t)*p*(1 - p)*x\n")
    assert main(["check", lesson.file, "--answers", str(answers), "--variant", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["variant"] == 7 and report["correct"] == 4
    inputs = variant_inputs(lesson.computation, lesson.id, 7)
    x, w, b = (float(inputs[n]) for n in "xwb")
    assert report["steps"][0]["expected"] == pytest.approx(w * x + b)


def test_validate_proves_every_variant_and_names_the_one_that_fails(tmp_path):
    file = tmp_path / "labels.yaml"
    file.write_text(
        "format: 1\nid: labels\ntitle: A model answer written as the number of variant 0\nvariants: true\n"
        "inputs:\n  p: {value: 0.7, requires_grad: true, sample: {low: 0.2, high: 0.8}}\n"
        "  t: {value: 1.0, sample: fixed}\nnodes:\n  loss: bce(p, t)\n"
        "steps:\n  - local: [loss, p]\n    answer: '-1.4286'\n"
    )
    problems = validate([file])
    assert len(problems) == 1  # reported once, at its place, for the first variant that fails
    (problem,) = problems
    assert problem.line == 12 and problem.message.startswith("variant 1 (p = ")
    p = float(variant_inputs(load_fixture_from(file).computation, "labels", 1)["p"])
    assert f"torch says {-1 / p:.4f}".rstrip("0") in problem.message
    # without variants the same lesson is fine: t stays 1 as authored
    file.write_text(file.read_text().replace("variants: true\n", ""))
    assert validate([file]) == []


def load_fixture_from(path):
    from autograd_tutor.lesson.loader import load

    return load(path)


def test_the_installation_seed_is_kept(tmp_path):
    first = installation_seed(tmp_path)
    assert first == installation_seed(tmp_path) and len(first) >= 16
    assert installation_seed(tmp_path / "other") != first


def test_every_variant_of_the_fixture_validates(lesson):
    assert validate([lesson.file]) == []


def test_variant_truths_are_torchs_at_the_variants_values(lesson):
    import torch

    session = LessonSession(lesson, variant=11)
    v = {n: float(x) for n, x in session.comp.inputs.items()}
    w = torch.tensor(v["w"], dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(w * v["x"] + v["b"])
    loss = (p - v["t"]) ** 2
    loss.backward()
    assert np.isclose(session.engine.truth.gradients["w"], w.grad.item(), rtol=1e-12)


def test_a_value_in_code_is_written_as_python_that_torch_runs():
    """`torch.tensor({x}, requires_grad=True)` with x = 2.0 must not become
    `torch.tensor(2, ...)`, which torch refuses (an integer tensor cannot require grad);
    in prose the same value reads 2."""
    import torch

    session = LessonSession(load_fixture("chain"), variant=0)
    x = session.comp.inputs["x"]  # 4.0
    code = "x = torch.tensor({x}, requires_grad=True)"
    for written in (f"`{code}`", f"```python\n{code}\n```", f"Run this:\n\n    {code}\n"):
        line = next(part for part in session.text(written).replace("`", "\n").splitlines() if "torch" in part)
        scope = {"torch": torch}
        exec(line.strip(), scope)  # noqa: S102 - our own prose, filled in
        assert scope["x"].requires_grad and scope["x"].item() == float(x)
    assert session.text("x = {x}") == "x = 4"


def test_a_jacobian_is_found_finite_or_not_as_its_entries_are():
    """Drawing a variant checks every local factor is finite; a Jacobian is checked by one
    backward pass with an upstream of ones (each entry of that product sums a column),
    which must agree with the Jacobian itself, entry by entry."""
    from autograd_tutor.engine.graph import analyse
    from autograd_tutor.expr.evaluate import is_finite
    from autograd_tutor.lesson.files import BUNDLED
    from autograd_tutor.lesson.loader import library

    lessons, _ = library([BUNDLED])
    tensor_lessons = [load_fixture(name) for name in ("linear-layer", "softmax-ce", "vjp")]
    checked = 0
    for les in [*lessons, *tensor_lessons]:
        comp = les.computation
        analysis = analyse(comp, comp.inputs)
        for edge in comp.edges:
            assert analysis.local_finite(edge) == is_finite(analysis.local[edge]), (les.id, edge)
            checked += 1
    assert checked > 100
    root = lesson_text(
        """
        format: 1
        id: root-sum
        title: t
        inputs:
          a: {value: [[0.0, 1.0], [4.0, 9.0]], requires_grad: true}
        nodes:
          s: sum(sqrt(a), 0)
          L: sum(s)
        """
    )
    comp = root.computation
    analysis = analyse(comp, comp.inputs)
    assert not is_finite(analysis.local[("s", "a")]) and not analysis.local_finite(("s", "a"))
    moved = analyse(comp.at({"a": np.array([[1.0, 1.0], [4.0, 9.0]])}), {"a": np.array([[1.0, 1.0], [4.0, 9.0]])})
    assert moved.local_finite(("s", "a")) and is_finite(moved.local[("s", "a")])
