"""The end of a lesson: the score (first-try solves apart), a short recap, the
mistakes made, and the lesson as PyTorch code built from what the lesson really
did — every `run` operation, each value torch gave back as a comment — which
the learner can save as a script or a Jupyter notebook."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..expr.display import format_block, format_value, shape_text
from ..lesson.code import notebook, op_code, tensor_code
from ..session import LessonSession
from .text import markdown_to_plain

Cell = tuple[str, str]  # (a heading for the cell, its code)
CODE_WIDTH = 79  # a value wider than this beside its print goes under it


@dataclass(frozen=True)
class Mistake:
    step: int  # 1-based
    answer: str
    feedback: str


@dataclass(frozen=True)
class SummaryView:
    lesson_id: str
    title: str
    score: str  # "Score 4/5: 3 at the first try, 1 after a mistake · 1 revealed · 2 hints"
    recap: str  # Markdown
    mistakes: tuple[Mistake, ...]
    cells: tuple[Cell, ...]  # the lesson in PyTorch

    @property
    def code(self) -> str:
        return "\n\n".join(code for _, code in self.cells) + "\n"


def summary_view(session: LessonSession) -> SummaryView:
    return SummaryView(
        session.lesson.id,
        session.lesson.title,
        score_text(session),
        recap(session),
        tuple(
            Mistake(step.index + 1, _answered(session, step.index, m), m["feedback"] or "not what torch computes")
            for step, record in zip(session.steps, session.records)
            for m in record.mistakes
        ),
        tuple(code_cells(session)),
    )


def _answered(session: LessonSession, index: int, mistake: dict) -> str:
    """A wrong answer as it reads now: a choose step's by its option's number in the order
    shown, or the option's words when the lesson no longer has it."""
    option = mistake.get("option")
    return session.answer_now(index, mistake["answer"], option) or session.text(option) or mistake["answer"]


def score_text(session: LessonSession) -> str:
    t = session.totals()
    later = t.solved - t.first_try
    parts = [f"Score {t.solved}/{t.asked}: {t.first_try} at the first try"]
    if later:
        parts[0] += f", {later} after a mistake"
    for count, word in ((t.revealed, "revealed"), (t.skipped, "skipped")):
        if count:
            parts.append(f"{count} {word}")
    parts.append(f"{t.hints} hint{'s' * (t.hints != 1)}")
    return " · ".join(parts)


def recap(session: LessonSession) -> str:
    """The lesson's authored `recap`, else the first sentence of each explanation the learner has read."""
    if session.lesson.spec.recap:
        return session.text(session.lesson.spec.recap).strip()
    points = []
    for step, record in zip(session.steps, session.records):
        if step.explain and record.status in ("solved", "revealed", "shown"):
            points.append("- " + _first_sentence(session.text(step.explain)))
    return "\n".join(points)


def _first_sentence(markdown: str) -> str:
    paragraph = " ".join(markdown.strip().split("\n\n")[0].split())
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z`*(])", paragraph)
    return paragraph[: match.start()] if match else paragraph


def code_cells(session: LessonSession) -> list[Cell]:
    """The lesson as notebook cells: the tensors and forward pass, then each `run`
    step's operations with what the `predict` steps after it read from torch. A
    lesson with no run step gets one backward() and the gradients it gives."""
    comp = session.comp
    if not any(step.kind == "run" for step in session.steps):
        engine = session.engine
        lines = []
        for text in notebook(comp).rstrip("\n").splitlines():  # the values the learner found, with each print
            grads = (n for n, flag in comp.requires_grad.items() if flag and text.startswith(f"print({n}.grad)"))
            name = next(grads, None)
            lines += [text] if name is None else printed(f"print({name}.grad)", engine.native.gradients[name])
        return [("The lesson in PyTorch", "\n".join(lines))]
    setup = ["import torch", "", *(tensor_code(comp, n) for n in comp.inputs), *comp.forward_code()]
    if any("math." in text for text in setup):
        setup = ["import math", *setup]
    cells: list[tuple[str, list[str]]] = [("The tensors and the forward pass", setup)]
    for step in session.steps:
        if step.kind == "run":
            cells.append((f"Step {step.index + 1}", _run_code(session, step.index)))
        elif step.kind == "predict":
            truth = session.truth(step.index, derivative=False)
            cells[-1][1].extend(printed(f"print({step.target})", truth.expected, truth.text))
    return [(title, "\n".join(lines)) for title, lines in cells]


def printed(code: str, value: object, text: str | None = None) -> list[str]:
    """`code` with what it prints as a comment: beside it when that fits in CODE_WIDTH,
    else a vector or matrix whole under it, a row to a line. `text`: the value as
    shown, when `value` is not a number or an array."""
    shown = format_value(value) if text is None else text
    array = _array(value)
    if len(code) + 4 + len(shown) <= CODE_WIDTH or array is None:
        return [f"{code}  # {shown}"]
    return [f"{code}  # {shape_text(array)}:", *(f"# {row}" for row in format_block(array))]


def _array(value: object) -> np.ndarray | None:
    """`value` as a vector or matrix of numbers, or None (a number, a word, an error)."""
    if not isinstance(value, np.ndarray | list) or any(isinstance(v, bool | str) for v in np.ravel(value)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim in (1, 2) else None


def _run_code(session: LessonSession, index: int) -> list[str]:
    """A run step's code; an operation that raised is wrapped so the script goes on."""
    comp = session.comp
    result = session.run_result(index)
    lines: list[str] = []
    for op, outcome in zip(session.steps[index].target, result.results):
        code = op_code(op, comp)
        if outcome.error:
            kind, _, message = outcome.error.partition(": ")
            lines += ["try:", *("    " + c for c in code), f"except {kind} as err:", f"    print(err)  # {message}"]
        else:
            lines += code
    return lines


# --- saving -------------------------------------------------------------------------------


def script(view: SummaryView) -> str:
    """The lesson as a Python script: the recap as comments, then the code."""
    head = [f"# {view.title}", "#"]
    for text in markdown_to_plain(view.recap, 76).splitlines():
        head.append(f"# {text}".rstrip())
    body = [f"# {title}\n{code}" for title, code in view.cells]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def jupyter(view: SummaryView) -> str:
    """The lesson as a Jupyter notebook (nbformat 4)."""
    import nbformat
    from nbformat import v4

    cells = [v4.new_markdown_cell(f"# {view.title}\n\n{view.recap}".strip())]
    for title, code in view.cells:
        cells += [v4.new_markdown_cell(f"**{title}**"), v4.new_code_cell(code)]
    book = v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(book)
    return nbformat.writes(book)


FORMATS = {"py": script, "ipynb": jupyter}


def save(view: SummaryView, directory: Path, kind: str) -> Path:
    """Write the lesson's code into `directory` as `<lesson id>.py` or `.ipynb`, never
    over an existing file (`-2`, `-3`, … are added). Returns the path written."""
    text = FORMATS[kind](view)
    for n in range(1, 1000):
        path = directory / f"{view.lesson_id}{'' if n == 1 else f'-{n}'}.{kind}"
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
            return path.resolve()
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory / view.lesson_id}.{kind} and 998 more exist already")
