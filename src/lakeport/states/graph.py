"""A state machine as a graph, drawn for people: an indented text flow for terminals and a standalone SVG.

Pure functions over a definition (no service, no I/O), so the CLI (``lakeport sfn graph``) and the web console
draw the same picture. :func:`build` turns a definition into a :class:`Graph` (states, and edges for ``Next``,
each Choice rule, ``Default`` and each ``Catch``; Parallel branches and Map processors as nested graphs);
:func:`render_text` and :func:`render_svg` draw it; :func:`statuses_from_history` colours it from an execution's
history (succeeded, failed, in progress, not reached).

The SVG layout is a layered one computed here: within each scope (the machine, a branch, a processor) states
are placed in layers by their longest path from ``StartAt`` (edges that go back, such as a polling loop, are set
aside and drawn up the right-hand side), ordered within a layer by the average position of their parents, and
centred; a Parallel or Map box holds its branches side by side.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lakeport.states.definition import load

__all__ = [
    "Edge",
    "Graph",
    "Node",
    "build",
    "render_svg",
    "render_text",
    "rule_text",
    "statuses_from_history",
    "to_dict",
]

SUCCEEDED = "succeeded"
FAILED = "failed"
IN_PROGRESS = "in progress"
NOT_REACHED = "not reached"

NEXT, CHOICE, DEFAULT, CATCH = "next", "choice", "default", "catch"


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch
    label: str = ""


@dataclass
class Node:
    name: str
    type: str
    detail: str = ""  # the resource, the wait, the error: what the state does, in a few words
    retry: str = ""  # the Retry field, in a few words
    terminal: bool = False  # End, Succeed, Fail
    branches: list[Graph] = field(default_factory=list)  # Parallel branches, or a Map's processor


@dataclass
class Graph:
    start: str
    nodes: dict[str, Node]
    edges: list[Edge]

    def outgoing(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.source == name]

    def all_nodes(self) -> Iterable[Node]:
        """Every state, nested ones included."""
        for node in self.nodes.values():
            yield node
            for branch in node.branches:
                yield from branch.all_nodes()


# ---- building


def build(definition: str | bytes | dict[str, Any]) -> Graph:
    """The graph of a definition (JSON text or dict). Targets that are not states are kept (drawn as missing)."""
    return _scope(load(definition))


def _scope(machine: dict[str, Any]) -> Graph:
    states = machine.get("States") or {}
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = str(state.get("Type", "?"))
        node = Node(name, kind, _detail(state), _retry_text(state.get("Retry")))
        node.terminal = bool(state.get("End")) or kind in ("Succeed", "Fail")
        if kind == "Parallel":
            node.branches = [_scope(b) for b in state.get("Branches") or [] if isinstance(b, dict)]
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            node.branches = [_scope(processor)] if isinstance(processor, dict) else []
        nodes[name] = node
        if kind == "Choice":
            for rule in state.get("Choices") or []:
                if isinstance(rule, dict) and "Next" in rule:
                    edges.append(Edge(name, str(rule["Next"]), CHOICE, rule_text(rule)))
            if "Default" in state:
                edges.append(Edge(name, str(state["Default"]), DEFAULT, "Default"))
        elif "Next" in state:
            edges.append(Edge(name, str(state["Next"]), NEXT))
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, dict) and "Next" in catcher:
                errors = ", ".join(str(e) for e in catcher.get("ErrorEquals") or [])
                edges.append(Edge(name, str(catcher["Next"]), CATCH, f"catch {errors}"))
    return Graph(str(machine.get("StartAt", "")), nodes, edges)


def _short_resource(resource: str) -> str:
    parts = resource.split(":")
    if resource.startswith("arn:") and len(parts) > 5 and parts[2] == "states":
        return ":".join(p for p in parts[5:] if p)
    if resource.startswith("arn:") and len(parts) > 6 and parts[2] == "lambda":
        return "lambda " + ":".join(parts[6:])
    return resource


def _detail(state: dict[str, Any]) -> str:
    kind = state.get("Type")
    if kind == "Task":
        return _short_resource(str(state.get("Resource", "")))
    if kind == "Wait":
        for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"):
            if key in state:
                return f"{key} {state[key]}"
    if kind == "Fail":
        return str(state.get("Error") or state.get("ErrorPath") or "")
    if kind == "Map" and "ItemsPath" in state:
        return f"items {state['ItemsPath']}"
    return ""


def _retry_text(retriers: Any) -> str:
    if not isinstance(retriers, list) or not retriers:
        return ""
    parts = []
    for retrier in retriers:
        if not isinstance(retrier, dict):
            continue
        errors = ",".join(str(e) for e in retrier.get("ErrorEquals") or [])
        parts.append(f"{errors} ×{retrier.get('MaxAttempts', 3)}")
    return "retry " + "; ".join(parts)


_OPERATORS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}
_TESTS = {"IsNull": "null", "IsPresent": "present", "IsNumeric": "numeric", "IsString": "a string"}
_TESTS |= {"IsBoolean": "a boolean", "IsTimestamp": "a timestamp"}
MAX_RULE = 60


def rule_text(rule: dict[str, Any], *, limit: int = MAX_RULE) -> str:
    """A Choice rule in a few words: ``$.state == "READY" and $.n > 3`` (cut to ``limit`` characters)."""
    text = _rule(rule)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rule(rule: Any) -> str:
    if not isinstance(rule, dict):
        return "?"
    if "And" in rule or "Or" in rule:
        word = " and " if "And" in rule else " or "
        subs = [_rule(r) for r in rule.get("And", rule.get("Or")) or []]
        return "(" + word.join(subs) + ")" if len(subs) > 1 else "".join(subs)
    if "Not" in rule:
        return f"not {_rule(rule['Not'])}"
    variable = str(rule.get("Variable", "?"))
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment"):
            continue
        if key in _TESTS:
            return f"{variable} is {'' if value else 'not '}{_TESTS[key]}"
        if key == "BooleanEquals" or key == "BooleanEqualsPath":
            return f"{variable} == {value if key.endswith('Path') else json.dumps(value)}"
        path = key.endswith("Path")
        bare = key.removesuffix("Path")
        for suffix, symbol in _OPERATORS.items():
            if bare.endswith(suffix) and bare[: -len(suffix)] in ("String", "Numeric", "Timestamp"):
                shown = value if path else json.dumps(value)
                return f"{variable} {symbol} {shown}"
    return variable


# ---- execution colours


def statuses_from_history(events: Iterable[dict[str, Any]], execution_status: str | None = None) -> dict[str, str]:
    """Each state's status in an execution: succeeded, failed, in progress (entered, not yet left, while the
    execution runs) or not reached (absent). A state that failed and was caught counts as failed."""
    entered: dict[str, int] = {}
    exited: dict[str, int] = {}
    failed: set[str] = set()
    open_states: list[str] = []
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            name = str((event.get("stateEnteredEventDetails") or {}).get("name"))
            entered[name] = entered.get(name, 0) + 1
            open_states.append(name)
        elif kind.endswith("StateExited"):
            name = str((event.get("stateExitedEventDetails") or {}).get("name"))
            exited[name] = exited.get(name, 0) + 1
            if name in open_states:
                open_states.reverse()
                open_states.remove(name)  # the innermost one of that name
                open_states.reverse()
        elif (kind.endswith("Failed") or kind.endswith("TimedOut")) and not kind.startswith("Execution"):
            if kind.startswith("MapIteration"):
                continue
            if open_states:
                failed.add(open_states[-1])
    running = execution_status in (None, "RUNNING")
    out: dict[str, str] = {}
    for name, count in entered.items():
        if name in failed:
            out[name] = FAILED
        elif count > exited.get(name, 0):
            out[name] = IN_PROGRESS if running else FAILED
        else:
            out[name] = SUCCEEDED
    return out


# ---- JSON


def to_dict(graph: Graph) -> dict[str, Any]:
    """The graph as JSON (for ``--output json`` and the web console)."""
    return {
        "startAt": graph.start,
        "states": [
            {
                "name": n.name,
                "type": n.type,
                "detail": n.detail,
                "retry": n.retry,
                "end": n.terminal,
                "branches": [to_dict(b) for b in n.branches],
            }
            for n in graph.nodes.values()
        ],
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind, "label": e.label} for e in graph.edges],
    }


# ---- text


def _order(graph: Graph) -> list[str]:
    """States in the order a reader follows them: depth-first from StartAt along Next and Choice edges before
    Catch edges (the main path first), then any state not reached that way."""
    seen: list[str] = []
    stack = [graph.start] if graph.start in graph.nodes else []
    while stack:
        name = stack.pop()
        if name in seen or name not in graph.nodes:
            continue
        seen.append(name)
        edges = sorted(graph.outgoing(name), key=lambda e: e.kind == CATCH)
        stack.extend(e.target for e in reversed(edges))
    return seen + [n for n in graph.nodes if n not in seen]


def render_text(graph: Graph, statuses: dict[str, str] | None = None) -> str:
    """An indented flow: each state with its type, then its edges (``→`` next, ``?`` choice, ``✗`` catch)."""
    lines = [f"▶ start → {graph.start}"]
    _text_scope(graph, "", lines, statuses)
    return "\n".join(lines) + "\n"


def _text_scope(graph: Graph, indent: str, lines: list[str], statuses: dict[str, str] | None) -> None:
    for name in _order(graph):
        node = graph.nodes[name]
        head = f"{indent}{name}  ({node.type}{': ' + node.detail if node.detail else ''})"
        if statuses is not None:
            head += f"  [{statuses.get(name, NOT_REACHED)}]"
        lines.append(head)
        if node.retry:
            lines.append(f"{indent}  ↻ {node.retry}")
        for i, branch in enumerate(node.branches, 1):
            what = f"branch {i}" if node.type == "Parallel" else "each item"
            lines.append(f"{indent}  ┆ {what}: start → {branch.start}")
            _text_scope(branch, indent + "  ┆   ", lines, statuses)
        for edge in graph.outgoing(name):
            missing = "" if edge.target in graph.nodes else "  (not a state!)"
            if edge.kind == NEXT:
                lines.append(f"{indent}  → {edge.target}{missing}")
            elif edge.kind == CATCH:
                lines.append(f"{indent}  ✗ {edge.label} → {edge.target}{missing}")
            else:
                lines.append(f"{indent}  ? {edge.label} → {edge.target}{missing}")
        if node.terminal:
            lines.append(f"{indent}  ■ end")


# ---- SVG layout

CHAR_W = 6.6  # average width of a 12px sans-serif character
BOLD_W = 7.4  # the same, bold (state names)
MAX_LABEL = 40  # characters of an edge label drawn
LINE_H = 15
PAD = 9
MIN_W = 110.0
GAP_X = 34.0
GAP_Y = 58.0
INNER = 14.0
BACK_LANE = 14.0
SLOT_W = 12.0  # the room an edge takes where it passes through a layer
MARGIN = 24.0
START_SPACE = 44.0


@dataclass
class _Box:
    node: Node
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    layer: int = 0
    inner: list[tuple[_Layout, float, float]] = field(default_factory=list)  # branch layouts and their offsets


@dataclass
class _Layout:
    graph: Graph
    boxes: dict[str, _Box]
    back: set[tuple[str, str]]
    width: float = 0.0
    height: float = 0.0
    routes: dict[int, list[tuple[float, float, float]]] = field(default_factory=dict)  # edge → (x, top, bottom)


def _lines(node: Node) -> list[str]:
    lines = [node.name, node.type + (f" · {node.detail}" if node.detail else "")]
    return [*lines, node.retry] if node.retry else lines


def _back_edges(graph: Graph) -> set[tuple[str, str]]:
    """Edges that close a cycle (found by depth-first search from StartAt, then from any unvisited state)."""
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    roots = [graph.start, *graph.nodes] if graph.start in graph.nodes else list(graph.nodes)
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, list[str]]] = [(root, [e.target for e in graph.outgoing(root)])]
        state[root] = 1
        while stack:
            name, targets = stack[-1]
            if not targets:
                state[name] = 2
                stack.pop()
                continue
            target = targets.pop(0)
            if target not in graph.nodes:
                continue
            if state.get(target) == 1:
                back.add((name, target))
            elif target not in state:
                state[target] = 1
                stack.append((target, [e.target for e in graph.outgoing(target)]))
    return back


def _layers(graph: Graph, back: set[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the roots over the forward edges."""
    forward = [
        (e.source, e.target) for e in graph.edges if e.target in graph.nodes and (e.source, e.target) not in back
    ]
    incoming = {n: 0 for n in graph.nodes}
    for _, target in forward:
        incoming[target] += 1
    layer = {n: 0 for n in graph.nodes}
    ready = [n for n in graph.nodes if incoming[n] == 0]
    while ready:
        name = ready.pop(0)
        for source, target in forward:
            if source == name:
                layer[target] = max(layer[target], layer[name] + 1)
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return layer


def _layout(graph: Graph) -> _Layout:
    boxes: dict[str, _Box] = {}
    for name, node in graph.nodes.items():
        lines = _lines(node)
        text_w = max(len(lines[0]) * BOLD_W, *(len(line) * CHAR_W for line in lines[1:])) + 2 * PAD
        if node.branches:
            inner = [_layout(b) for b in node.branches]
            inner_w = sum(b.width for b in inner) + GAP_X * (len(inner) - 1) + 2 * INNER
            header = len(_lines(node)) * LINE_H + PAD + INNER
            box = _Box(node, max(text_w, inner_w, MIN_W), header + max(b.height for b in inner) + INNER)
            x = (box.w - inner_w) / 2 + INNER
            for sub in inner:
                box.inner.append((sub, x, header))
                x += sub.width + GAP_X
        else:
            box = _Box(node, max(text_w, MIN_W), len(_lines(node)) * LINE_H + 2 * PAD - 4)
        boxes[name] = box
    back = _back_edges(graph)
    layer_of = _layers(graph, back)
    rows: dict[int, list[str]] = {}
    for name in _order(graph):
        boxes[name].layer = layer_of[name]
        rows.setdefault(layer_of[name], []).append(name)
    # An edge that skips layers passes through a narrow slot in each layer between (so it goes around boxes).
    chains: dict[int, list[str]] = {}
    parents: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for index, edge in enumerate(graph.edges):
        if edge.target not in graph.nodes or edge.source not in graph.nodes or (edge.source, edge.target) in back:
            continue
        previous = edge.source
        for layer in range(layer_of[edge.source] + 1, layer_of[edge.target]):
            slot = f"\x00{index}.{layer}"
            chains.setdefault(index, []).append(slot)
            rows[layer].append(slot)
            parents[slot] = [previous]
            previous = slot
        parents[edge.target].append(previous)
    width = {key: boxes[key].w if key in boxes else SLOT_W for row in rows.values() for key in row}
    position: dict[str, float] = {}
    for index in sorted(rows):  # order each layer by the average place of its parents in the layers above
        for i, key in enumerate(rows[index]):
            above = [position[p] for p in parents[key] if p in position and (p not in boxes or layer_of[p] < index)]
            position[key] = sum(above) / len(above) if above else float(i)
        rows[index].sort(key=lambda k: position[k])
        for i, key in enumerate(rows[index]):
            position[key] = float(i)
    widths = {i: sum(width[k] for k in row) + GAP_X * (len(row) - 1) for i, row in rows.items()}
    content_w = max(widths.values(), default=0.0)
    y = 0.0
    slots: dict[str, tuple[float, float, float]] = {}
    for index in sorted(rows):
        x = (content_w - widths[index]) / 2
        row_h = max((boxes[k].h for k in rows[index] if k in boxes), default=0.0)
        for key in rows[index]:
            if key in boxes:
                boxes[key].x, boxes[key].y = x, y
            else:
                slots[key] = (x + SLOT_W / 2, y, y + row_h)
            x += width[key] + GAP_X
        y += row_h + GAP_Y
    routes = {index: [slots[k] for k in chain] for index, chain in chains.items()}
    lanes = len(back) * BACK_LANE + (BACK_LANE if back else 0)
    return _Layout(graph, boxes, back, content_w + lanes, max(y - GAP_Y, 0.0), routes)


# ---- SVG drawing

_FILL = {
    SUCCEEDED: ("#e3f4e6", "#2e7d32"),
    FAILED: ("#fbe4e6", "#c62828"),
    IN_PROGRESS: ("#e2efff", "#1565c0"),
    NOT_REACHED: ("#f3f3f3", "#9e9e9e"),
}
_PLAIN = ("#ffffff", "#4a5568")
_STYLE = """
text.name { font-weight: bold; }
text { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 12px; fill: #1a202c; }
text.type { font-size: 11px; fill: #4a5568; }
text.retry { font-size: 11px; fill: #975a16; }
text.label { font-size: 10.5px; fill: #2d3748; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
text.catch { fill: #c53030; }
path.edge { fill: none; stroke: #4a5568; stroke-width: 1.3; }
path.catch { stroke: #c53030; stroke-dasharray: 5 3; }
path.back { stroke: #6b46c1; }
rect.compound { stroke-dasharray: 6 3; }
"""


def render_svg(graph: Graph, statuses: dict[str, str] | None = None, *, title: str | None = None) -> str:
    """A standalone SVG document of the graph (states coloured by ``statuses`` when given)."""
    layout = _layout(graph)
    width = layout.width + 2 * MARGIN
    height = layout.height + 2 * MARGIN + START_SPACE + (20 if title else 0)
    top = MARGIN + START_SPACE + (20 if title else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">',
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4a5568"/></marker>',
        '<marker id="arrow-catch" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#c53030"/></marker>',
        f"<style>{_STYLE}</style>",
        "</defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    if title:
        out.append(f'<text x="{MARGIN}" y="{MARGIN + 4}" font-weight="bold">{escape(title)}</text>')
    start = layout.boxes.get(graph.start)
    if start is not None:
        cx = MARGIN + start.x + start.w / 2
        cy = top - START_SPACE + 10
        out.append(f'<circle class="start" cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="#2d3748"/>')
        out.append(_path(f"M {cx:.1f} {cy + 7:.1f} L {cx:.1f} {top + start.y:.1f}", "edge"))
    _draw(layout, MARGIN, top, out, statuses)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _path(d: str, cls: str) -> str:
    marker = "arrow-catch" if "catch" in cls else "arrow"
    return f'<path class="{cls}" d="{d}" marker-end="url(#{marker})"/>'


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _label(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _draw(layout: _Layout, ox: float, oy: float, out: list[str], statuses: dict[str, str] | None) -> None:
    for name, box in layout.boxes.items():
        x, y = ox + box.x, oy + box.y
        fill, stroke = _PLAIN if statuses is None else _FILL[statuses.get(name, NOT_REACHED)]
        status = "" if statuses is None else f" data-status={quoteattr(statuses.get(name, NOT_REACHED))}"
        cls = "state compound" if box.node.branches else "state"
        radius = 14 if box.node.type in ("Succeed", "Fail") else 6
        out.append(
            f'<rect class="{cls}" data-state={quoteattr(name)} data-type={quoteattr(box.node.type)}{status} '
            f'x="{x:.1f}" y="{y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{radius}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
        )
        lines = _lines(box.node)
        out.append(_label(x + box.w / 2, y + PAD + 10, lines[0], "name"))
        out.append(_label(x + box.w / 2, y + PAD + 10 + LINE_H, lines[1], "type"))
        if len(lines) > 2:
            out.append(_label(x + box.w / 2, y + PAD + 10 + 2 * LINE_H, lines[2], "retry"))
        for sub, dx, dy in box.inner:
            _draw(sub, x + dx, y + dy, out, statuses)
    _draw_edges(layout, ox, oy, out)


def _draw_edges(layout: _Layout, ox: float, oy: float, out: list[str]) -> None:
    boxes = layout.boxes
    lane = layout.width - len(layout.back) * BACK_LANE
    seen: dict[tuple[str, str], int] = {}
    labelled: dict[str, int] = {}
    totals = Counter((e.source, e.target) for e in layout.graph.edges)
    for index, edge in enumerate(layout.graph.edges):
        source, target = boxes.get(edge.source), boxes.get(edge.target)
        if source is None or target is None:
            continue
        pair = (edge.source, edge.target)
        nth = seen.get(pair, 0)
        seen[pair] = nth + 1
        cls = "edge catch" if edge.kind == CATCH else "edge"
        label_cls = "label catch" if edge.kind == CATCH else "label"
        if pair in layout.back:
            lane += BACK_LANE
            x1, y1 = ox + source.x + source.w, oy + source.y + source.h / 2 + 6 * nth
            x2, y2 = ox + target.x + target.w, oy + target.y + target.h / 2 - 6 * nth
            lx = ox + lane
            d = f"M {x1:.1f} {y1:.1f} L {lx:.1f} {y1:.1f} L {lx:.1f} {y2:.1f} L {x2:.1f} {y2:.1f}"
            out.append(_path(d, cls + " back"))
            if edge.label:
                out.append(_label(x1 + 6, y1 - 5, _short(edge.label), label_cls, "start"))  # on the way out
            continue
        shift = (nth - (totals[pair] - 1) / 2) * 14
        x1, y1 = ox + source.x + source.w / 2 + shift, oy + source.y + source.h
        x2, y2 = ox + target.x + target.w / 2 + shift, oy + target.y
        points = [(x1, y1)]
        for x, top, bottom in layout.routes.get(index, []):
            points += [(ox + x, oy + top), (ox + x, oy + bottom)]
        points.append((x2, y2))
        d = f"M {x1:.1f} {y1:.1f}"
        for i in range(1, len(points)):
            (ax, ay), (bx, by) = points[i - 1], points[i]
            if i % 2:  # from one layer down to the next: a curve
                bend = max((by - ay) / 2, 12.0)
                d += f" C {ax:.1f} {ay + bend:.1f} {bx:.1f} {by - bend:.1f} {bx:.1f} {by:.1f}"
            else:  # through a layer, beside its boxes
                d += f" L {bx:.1f} {by:.1f}"
        out.append(_path(d, cls))
        if edge.label:  # in the gap below the source, one line per labelled edge leaving it
            (ax, ay), (bx, by) = points[0], points[1]
            row = labelled.get(edge.source, 0)
            labelled[edge.source] = row + 1
            t = min(0.25 + 0.2 * row, 0.85)
            out.append(_label(ax + (bx - ax) * t, ay + 14 + 13 * row, _short(edge.label), label_cls))
