"""The computation graph as the learner may see it at a step, and drawn as a graph.

Two sources, labelled apart: torch's live state (each tensor's value, grad_fn,
requires_grad, is_leaf and `.grad`, as they are after the runs so far) and what
the learner found by hand (local factors on the edges, gradients d(output)/d(name)).

Nothing a step asks for is shown before that step is answered or revealed: a
fact is hidden at the current step while some open step asks for it and no
`run` step lies between the two (a run may change it; then it is another fact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.live import TensorFacts
from ..expr.display import format_value, to_text
from ..lesson.computation import Computation
from ..lesson.steps import Step
from ..session import LessonSession
from .spans import Line, Span, line

MAX_SHOWN = 4  # vector entries shown in the graph; the rest as "…n"

Key = tuple[str, str]  # (what is asked: "value", "grad", "gradient", "requires_grad", ..., name)
FLAGS = ("requires_grad", "is_leaf", "grad_fn")  # one asked hides all three: each tells of the others


@dataclass(frozen=True)
class NodeFacts:
    name: str
    expr: str | None  # "x²" for a node; None for an input
    output: bool
    value: str | None  # as shown; None while hidden
    grad: str | None  # torch's .grad ("None" when torch has none); None while hidden
    flags: str | None  # "leaf · requires grad", "PowBackward0", ...; None while hidden
    by_hand: str | None  # "dz/dy = -0.9577", found by the learner
    focus: bool


@dataclass(frozen=True)
class EdgeFacts:
    node: str
    arg: str
    factor: str | None  # as found: the local factor, or (backprop) the gradient flowing on; None while not
    asked: bool  # some step asks for it
    focus: bool
    backprop: bool = False  # asked as the gradient flowing through (backprop), not as a local factor

    @property
    def label(self) -> str:
        symbol = f"grad into {self.arg} via {self.node}" if self.backprop else f"∂{self.node}/∂{self.arg}"
        if self.factor is not None:
            return f"{symbol} = {self.factor}"
        return f"{symbol} = ?" if self.asked else symbol


@dataclass(frozen=True)
class GraphFacts:
    nodes: tuple[NodeFacts, ...]  # in drawing order: each input just before its first use
    edges: tuple[EdgeFacts, ...]
    loading: bool  # torch is not loaded yet: structure only


# --- what may be shown ---------------------------------------------------------------


def asked(step: Step) -> list[Key]:
    """The live facts a step asks for."""
    if step.kind == "forward":
        return [("value", step.target)]
    if step.kind == "predict":
        name, _, prop = step.target.partition(".")
        return [(prop or "value", name)]
    if step.kind == "gradient":
        return [("gradient", step.target)]  # hides a .grad that holds it
    return []


def _kind(key: Key) -> str:
    """Which kind of live fact a key is, as run operations declare what they change."""
    prop = key[0]
    if prop in ("value", "gradient"):
        return "value" if prop == "value" else "grad"
    return "grad" if prop == "grad" else "flags" if prop in FLAGS else "other"


def _open(session: LessonSession, index: int) -> bool:
    return session.steps[index].takes_answer and session.records[index].status in ("pending", "skipped")


def _epoch(session: LessonSession, index: int, shown_at: bool) -> int:
    """How many run steps have acted on the state: before step `index` is answered
    (as the step asks), or as the screen shows it at `index` (`shown_at`)."""
    runs = sum(s.kind == "run" for s in session.steps[:index])
    step = session.steps[index]
    if shown_at and step.kind == "run" and not _open(session, index):
        runs += 1
    return runs


def hidden(session: LessonSession, index: int | None = None) -> set[Key]:
    """The facts not to show at step `index`: each asked by an open step about this
    state or a later one (a grad_fn asked after backward() is the one on screen before
    it), unless a step about this state has already been answered or revealed."""
    index = session.index if index is None else index
    now = _epoch(session, index, shown_at=True)
    keys: set[Key] = set()
    known: set[Key] = set()
    runs = [step for step in session.steps if step.kind == "run"]
    for step in session.steps:
        epoch = _epoch(session, step.index, shown_at=False)
        if epoch == now and _open(session, step.index):
            keys.update(asked(step))
        elif epoch > now and _open(session, step.index):  # the same fact then, unless a run may change it
            changes = {kind for run in runs[now:epoch] for op in run.target for kind in op.changes}
            keys.update(key for key in asked(step) if _kind(key) not in changes)
        elif epoch == now and session.records[step.index].status in ("solved", "revealed"):
            known.update(asked(step))
    keys -= known
    keys -= {("gradient", name) for kind, name in known if kind == "grad"}  # .grad told: a gradient step gives nothing
    current = session.steps[index]
    if _open(session, index) and current.definition.asked_node(current.target) is not None:
        keys.update(("value", name) for name in session.hidden(index))  # as the grader counts them unseen
    return keys


# --- the graph's facts -------------------------------------------------------------------


def drawing_order(comp: Computation) -> list[str]:
    """Inputs and nodes, each input just before the first node that uses it (a
    depth-first walk from the output, a node's node arguments before its inputs),
    then whatever the output does not use."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in comp.nodes:
            args = comp.args(name)
            for arg in [a for a in args if a in comp.nodes] + [a for a in args if a not in comp.nodes]:
                visit(arg)
        order.append(name)

    visit(comp.output)
    for name in (*comp.inputs, *comp.nodes):
        visit(name)
    return order


def graph_facts(session: LessonSession, ready: bool) -> GraphFacts:
    comp, step = session.comp, session.step
    focus_name = _focus_name(step)
    focus_edge = tuple(step.target) if step.kind in ("local", "backprop") else None
    asked_edges = {tuple(s.target): s.kind for s in session.steps if s.kind in ("local", "backprop")}
    if not ready:
        nodes = tuple(
            NodeFacts(n, _expr(comp, n), n == comp.output, None, None, None, None, n == focus_name)
            for n in drawing_order(comp)
        )
        edges = tuple(
            EdgeFacts(n, a, None, (n, a) in asked_edges, (n, a) == focus_edge, asked_edges.get((n, a)) == "backprop")
            for n, a in comp.edges
        )
        return GraphFacts(nodes, edges, loading=True)
    facts = session.facts()
    live = facts.live
    secret = hidden(session)
    moved = _inputs_moved(comp, live)  # the learner's by-hand values are about other numbers
    nodes = []
    for name in drawing_order(comp):
        tensor = live[name]
        gradient = None if moved else facts.gradients.get(name)
        by_hand = None if gradient is None else f"d{comp.output}/d{name} = {format_value(gradient, MAX_SHOWN)}"
        nodes.append(
            NodeFacts(
                name,
                _expr(comp, name),
                name == comp.output,
                None if ("value", name) in secret else format_value(tensor.value, MAX_SHOWN),
                None if _grad_hidden(name, tensor, secret) else _grad(tensor),
                None if any((flag, name) in secret for flag in FLAGS) else flags(tensor),
                by_hand,
                name == focus_name,
            )
        )
    found = {} if moved else {edge: format_value(value, MAX_SHOWN) for edge, value in facts.factors.items()}
    for other, record in zip(session.steps, session.records):
        if other.kind == "backprop" and record.status in ("solved", "revealed"):
            found[tuple(other.target)] = session.truth(other.index, derivative=False).text
    edges = tuple(
        EdgeFacts(
            n,
            a,
            found.get((n, a)),
            (n, a) in asked_edges,
            (n, a) == focus_edge,
            asked_edges.get((n, a)) == "backprop",
        )
        for n, a in comp.edges
    )
    return GraphFacts(tuple(nodes), edges, loading=False)


def _inputs_moved(comp: Computation, live: dict[str, TensorFacts]) -> bool:
    """Whether a run step (set, an update, an in-place change) has given an input other
    numbers than the ones the lesson's math steps are about. (Within the rounding of the
    lesson's dtype: float16 keeps 10.1 as 10.1015625.)"""
    for name, authored in comp.inputs.items():
        now = np.asarray(live[name].value, dtype=float) if name in live else authored
        if now.shape != authored.shape or not np.allclose(now, authored, rtol=1e-3, atol=1e-6, equal_nan=True):
            return True
    return False


def flags(tensor: TensorFacts) -> str:
    """torch's flags in words: a non-leaf by its grad_fn, a leaf by whether it requires grad."""
    if not tensor.is_leaf:
        return tensor.grad_fn or "no grad_fn"
    return "leaf · requires grad" if tensor.requires_grad else "leaf"


def _grad_hidden(name: str, tensor: TensorFacts, secret: set[Key]) -> bool:
    """.grad is asked by a predict step; or it holds what a gradient step asks."""
    return ("grad", name) in secret or (("gradient", name) in secret and tensor.grad is not None)


def _grad(tensor: TensorFacts) -> str:
    return "None" if tensor.grad is None else format_value(tensor.grad, MAX_SHOWN)


def _expr(comp: Computation, name: str) -> str | None:
    return to_text(comp.nodes[name]) if name in comp.nodes else None


def _focus_name(step: Step) -> str | None:
    if step.kind in ("forward", "gradient"):
        return step.target
    if step.kind == "predict":
        return step.target.partition(".")[0]
    return None


# --- drawn as a graph ------------------------------------------------------------------


def draw(graph: GraphFacts, width: int) -> tuple[list[Line], int]:
    """The graph as lines of text, top (inputs) to bottom (output): each value on a
    lane of its own, edges joining the lanes of a node's arguments into the node,
    each edge labelled with its local factor. Returns the lines and the row of the
    focus (the node or edge the current step is about), or 0."""
    order = [n.name for n in graph.nodes]
    position = {name: i for i, name in enumerate(order)}
    consumers: dict[str, list[str]] = {name: [] for name in order}
    for edge in graph.edges:
        consumers[edge.arg].append(edge.node)
    edges_into: dict[str, list[EdgeFacts]] = {}
    for edge in graph.edges:
        edges_into.setdefault(edge.node, []).append(edge)
    lanes: list[str | None] = []  # the value each lane carries down, None where free
    lines: list[Line] = []
    focus_row = 0

    def later_users(name: str, after: str) -> bool:
        return any(position[user] > position[after] for user in consumers[name])

    for node in graph.nodes:
        incoming = edges_into.get(node.name, [])
        ends = {e.arg: not later_users(e.arg, node.name) for e in incoming}
        ending = [lanes.index(e.arg) for e in incoming if ends[e.arg]]
        if ending:
            column = min(ending)
        elif None in lanes:
            column = lanes.index(None)
        else:
            lanes.append(None)
            column = len(lanes) - 1
        joining = False  # a line already runs down the column into the node
        for edge in incoming:
            source = lanes.index(edge.arg)
            art = _edge_art(_active(lanes, column if joining else None), source, column, ends[edge.arg])
            if ends[edge.arg] and source != column:
                lanes[source] = None
            joining = True
            if edge.focus:
                focus_row = len(lines)
            style = "focus" if edge.focus else ("hand" if edge.factor is not None else "dim")
            lines.extend(_with_text(art, [Span(edge.label, style)], width, _art(_active(lanes, column))))
        while len(lanes) > column + 1 and lanes[-1] is None:
            lanes.pop()
        if node.focus:
            focus_row = len(lines)
        head = [Span(node.name, "focus" if node.focus else "strong")]
        if node.expr is not None:
            head.append(Span(f" = {node.expr}"))
        if node.output:
            head.append(Span("  output", "dim"))
        art = _art(_active(lanes), {column: "●" if node.expr is not None else "◆"})
        lanes[column] = node.name if consumers[node.name] else None
        while lanes and lanes[-1] is None:
            lanes.pop()
        below = _art(_active(lanes)).ljust(len(art))  # the details line up under the name
        lines.extend(_with_text(art, head, width, below))
        for chunks in _details(node, graph.loading):
            lines.extend(_chunked(below, chunks, width))
    if graph.loading:
        lines.append((Span("torch is loading…", "dim"),))
    return lines, focus_row


def _active(lanes: list[str | None], also: int | None = None) -> list[bool]:
    return [name is not None or k == also for k, name in enumerate(lanes)]


def _art(active: list[bool], overrides: dict[int, str] | None = None) -> str:
    cells = ["│" if on else " " for on in active]
    for column, char in (overrides or {}).items():
        cells[column] = char
    return "".join(c + " " for c in cells)


def _edge_art(active: list[bool], source: int, target: int, ends: bool) -> str:
    """One edge from the lane at `source` into the node about to be drawn at `target`."""
    if source == target:
        return _art(active)
    cells = ["│" if on else " " for on in active]
    low, high = sorted((source, target))
    for k in range(low + 1, high):
        cells[k] = "┼" if active[k] else "─"
    rightwards = target > source
    cells[source] = ("└" if rightwards else "┘") if ends else ("├" if rightwards else "┤")
    if rightwards:
        cells[target] = "┤" if active[target] else "┐"
    else:
        cells[target] = "├" if active[target] else "┌"
    return "".join(c + ("─" if low <= k < high else " ") for k, c in enumerate(cells))


def _details(node: NodeFacts, loading: bool) -> list[list[Line]]:
    """Detail lines, each a list of chunks that wrap as wholes: data and .grad (torch's),
    torch's flags, and the gradient found by hand."""
    if loading:
        return []
    unknown = "grad_fn ?" if node.expr is not None else "requires_grad ?"
    rows = [
        [
            line(("data ", "dim"), (node.value, "value") if node.value is not None else ("?", "dim")),
            line(("  .grad ", "dim"), (node.grad, "grad") if node.grad is not None else ("?", "dim")),
            line(("  ", ""), (node.flags, "") if node.flags is not None else (unknown, "dim")),
        ]
    ]
    if node.by_hand:
        rows.append([line(("by hand ", "dim"), (node.by_hand, "hand"))])
    return rows


def _with_text(art: str, text: list[Span] | Line, width: int, follow: str) -> list[Line]:
    """`art` then `text`, wrapped at spaces within `width`; wrapped lines start with `follow`."""
    pieces = _wrap_spans(list(text), max(width - max(len(art), len(follow)), 8))
    return [(Span(art if i == 0 else follow, "edge"), *piece) for i, piece in enumerate(pieces)]


def _chunked(art: str, chunks: list[Line], width: int) -> list[Line]:
    """Chunks after `art`, as many on a line as fit (leading spaces dropped at a break);
    a chunk too long for a line of its own is wrapped at spaces."""
    room = max(width - len(art), 8)
    rows: list[list[Span]] = [[]]
    for chunk in chunks:
        size = sum(len(s.text) for s in chunk)
        if rows[-1] and sum(len(s.text) for s in rows[-1]) + size > room:
            rows.append([])
        if not rows[-1]:
            chunk = (Span(chunk[0].text.lstrip(" "), chunk[0].style), *chunk[1:])
        rows[-1].extend(chunk)
    out: list[Line] = []
    for row in rows:
        out.extend(_with_text(art, row, width, art))
    return out


def _wrap_spans(spans: list[Span], room: int) -> list[list[Span]]:
    """Spans split into lines of at most `room` characters, breaking at spaces."""
    rows: list[list[Span]] = [[]]
    used = 0
    for span in spans:
        words = span.text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            if used + len(piece) > room and used > 0:
                rows.append([])
                used = 0
                piece = piece.lstrip(" ")
            while len(piece) > room:  # a word longer than the room: cut it
                rows[-1].append(Span(piece[:room], span.style))
                rows.append([])
                piece = piece[room:]
            if piece:
                rows[-1].append(Span(piece, span.style))
                used += len(piece)
    return rows


# --- in words (for --plain and screen readers) ---------------------------------------------


def step_names(session: LessonSession) -> list[str]:
    """The tensors the current step is about: a node and its arguments for forward,
    local and backprop steps, the path down to the target for a gradient, the tensor asked about by a
    prediction, and every tensor after a run."""
    comp, step = session.comp, session.step
    if step.kind == "forward":
        return [*comp.args(step.target), step.target]
    if step.kind in ("local", "backprop"):
        return [*comp.args(step.target[0]), step.target[0]]
    if step.kind == "gradient":
        on_paths = {name for path in comp.paths(step.target) for edge in path for name in edge}
        return [n for n in drawing_order(comp) if n in on_paths or n == step.target]
    if step.kind == "predict":  # a tensor a run step made (a hook's argument, a grad() result) is not drawn
        name = step.target.partition(".")[0]
        return [name] if name in drawing_order(comp) else []
    if step.kind == "run":
        return drawing_order(comp)
    return []


def in_words(graph: GraphFacts, names: list[str]) -> list[str]:
    """One sentence per tensor: torch's facts, then what was found by hand."""
    nodes = {n.name: n for n in graph.nodes}
    sentences = []
    for name in names:
        node = nodes[name]
        head = name if node.expr is None else f"{name} = {node.expr}"
        if node.output:
            head += " (the output)"
        if graph.loading:
            sentences.append(f"{head}.")
            continue
        parts = [
            f"value {node.value if node.value is not None else 'not shown yet'}",
            f"torch's .grad {node.grad if node.grad is not None else 'not shown yet'}",
            node.flags if node.flags is not None else "its flags not shown yet",
        ]
        if node.by_hand:
            parts.append(f"found by hand {node.by_hand}")
        sentences.append(f"{head}: " + "; ".join(parts) + ".")
    for edge in graph.edges:
        if edge.node in names and edge.factor is not None:
            sentences.append(f"Found by hand: {edge.label}.")
    return sentences
