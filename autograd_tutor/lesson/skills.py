"""Skills: what a step practises.

A course names its skills in one file beside its lessons, `skills.yaml` (skill
name -> a one-line description). A lesson and a step may list skills; a step's
effective skills are its own list, else the skills its kind and the functions
it involves imply (`inferred`), else the lesson's. The learner model reads
`Step.skills`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..expr.ast import Bin, Call, Expr, Name, walk
from .files import SKILLS_FILE
from .problems import Problem
from .source import SourceError, read_file

if TYPE_CHECKING:
    from .computation import Computation
SKILL_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")

# What differentiating through each function practises (every function of the table).
FUNCTION_SKILLS: dict[str, tuple[str, ...]] = {
    **{f: ("derivative-table",) for f in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid")},
    **{f: ("derivative-table",) for f in ("softplus", "cosh", "sinh")},
    **{f: ("kinks",) for f in ("relu", "abs", "maximum", "minimum", "positive", "sign")},
    "clamp": ("saturation",),
    "sum": ("reductions",),
    "mean": ("reductions",),
    "bce": ("loss-functions",),
    "mse": ("loss-functions",),
    "bce_with_logits": ("loss-functions", "numerical-stability"),
    "transpose": ("matmul-backward",),
    "softmax": ("softmax-cross-entropy",),
    "log_softmax": ("softmax-cross-entropy",),
    "logsumexp": ("softmax-cross-entropy",),
    "cross_entropy": ("softmax-cross-entropy", "loss-functions"),
}
OPERATOR_SKILLS: dict[str, tuple[str, ...]] = {"**": ("power-rule",), "@": ("matmul-backward",)}

# What each run operation practises (by its key), and each predicted property.
OPERATION_SKILLS: dict[str, tuple[str, ...]] = {
    "forward": (),
    "backward": ("backward-call",),
    "zero_grad": ("zeroing-gradients",),
    "grad_to_none": ("zeroing-gradients",),
    "requires_grad": ("tracking-off",),
    "detach": ("tracking-off",),
    "retain_grad": ("leaf-tensors",),
    "set": (),
    "sgd": ("training-step",),
    "inplace": ("in-place-operations",),
    "set_data": ("in-place-operations",),
    "autograd_grad": ("higher-order-gradients",),
    "hook": ("hooks",),
}
PROPERTY_SKILLS: dict[str, tuple[str, ...]] = {
    "grad": ("backward-call",),
    "requires_grad": ("tracking-off",),
    "is_leaf": ("leaf-tensors",),
    "grad_fn": ("grad-fn",),
    "_version": ("in-place-operations",),
    "": (),
}


def inferred(kind: str, target: Any, comp: Computation) -> tuple[str, ...]:
    """The skills a step of this kind and target practises, from the graph."""
    found: list[str] = []
    if kind == "forward":
        found.append("forward-pass")
    elif kind in ("local", "backprop"):
        of, wrt = target
        found += ["chain-rule"] if kind == "local" else ["backprop-by-hand", "vector-jacobian-product"]
        found += _edge_skills(comp.nodes.get(of), wrt)
        if kind == "local" and (comp.shapes.get(of) or comp.shapes.get(wrt)):
            found.append("vector-gradients")
        if kind == "backprop" and comp.shapes.get(wrt) != comp.shapes.get(of) and comp.elementwise(of):
            found.append("broadcasting")
    elif kind == "gradient":
        paths = comp.paths(target) if comp.path_count(target) <= 64 else []
        found.append("chain-rule")
        if len(paths) > 1:
            found.append("multiple-paths")
        for edge in {e for path in paths for e in path}:
            found += _edge_skills(comp.nodes.get(edge[0]), edge[1])
        if comp.shapes.get(target):
            found.append("vector-gradients")
        if comp.grad_output is not None:
            found.append("vector-jacobian-product")
    elif kind == "run":
        for op in target:
            found += OPERATION_SKILLS.get(op.key, ())
            if op.key == "forward" and op.forward == "no_grad":
                found.append("tracking-off")
            if op.key == "backward" and op.backward == "retain_graph":
                found.append("graph-lifetime")
    elif kind == "predict":
        found += PROPERTY_SKILLS.get(str(target).partition(".")[2], ())
    return tuple(dict.fromkeys(found))


def _edge_skills(expr: Expr | None, wrt: str) -> list[str]:
    """The skills of ∂expr/∂wrt: the functions and operators on the way to `wrt`."""
    if expr is None:
        return []
    found: list[str] = []
    on_path = [e for e in walk(expr) if _mentions(e, wrt) and not isinstance(e, Name)]
    for e in on_path:
        if isinstance(e, Call):
            found += FUNCTION_SKILLS.get(e.func, ())
        elif isinstance(e, Bin):
            found += OPERATOR_SKILLS.get(e.op, ())
            if e.op == "*" and _mentions(e.left, wrt) and _mentions(e.right, wrt):
                found.append("product-rule")
    if on_path and all(isinstance(e, Bin) and e.op in "+-" for e in on_path):
        found.append("sum-passes-gradient")
    return found


def _mentions(expr: Expr, name: str) -> bool:
    return any(isinstance(e, Name) and e.id == name for e in walk(expr))


def effective(authored: tuple[str, ...], inferred: tuple[str, ...], lesson: tuple[str, ...]) -> tuple[str, ...]:
    """A step's own skills, else those its kind implies, else the lesson's."""
    return authored or inferred or lesson


# --- the skills file ------------------------------------------------------------


@dataclass(frozen=True)
class SkillsFile:
    file: str
    skills: dict[str, str]  # name -> description
    problems: tuple[Problem, ...] = ()


def skills_file(directory: str | Path) -> SkillsFile | None:
    """The skills file of a course directory, or None when it has none."""
    path = Path(directory) / SKILLS_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read(str(path), stamp)


@cache
def _read(file: str, stamp: int) -> SkillsFile:
    try:
        source = read_file(file)  # bounded, as a lesson is
    except SourceError as err:
        return SkillsFile(file, {}, (err.problem,))
    if not isinstance(source.data, dict):
        return SkillsFile(file, {}, (source.at((), "a skills file maps each skill name to a one-line description"),))
    skills: dict[str, str] = {}
    problems: list[Problem] = []
    for name, description in source.data.items():
        if not isinstance(name, str) or not SKILL_PATTERN.fullmatch(name):
            problems.append(source.at((name,), f"{name!r}: a skill name is lowercase words joined by -", key=True))
        elif not isinstance(description, str) or not description.strip():
            problems.append(source.at((name,), f"{name}: give a one-line description"))
        else:
            skills[name] = description.strip()
    return SkillsFile(file, skills, tuple(problems))
