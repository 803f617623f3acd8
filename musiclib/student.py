"""Student versions of the course notebooks: solutions out, placeholders in.

The instructor notebooks mark worked solutions with the markers nbgrader uses::

    ### BEGIN SOLUTION
    duration_s = y.shape[0] / SR
    ### END SOLUTION

and checks that only the instructor version should run with::

    ### BEGIN HIDDEN TESTS
    assert feedback.right, feedback
    ### END HIDDEN TESTS

:func:`student_notebook` removes hidden tests, and replaces each solution region with a
placeholder: in a code cell a ``# YOUR CODE HERE`` line plus ``name = ...`` for every name
the solution defined that the rest of the notebook reads (so later cells, and the check
that follows, run and report "no answer yet" instead of a ``NameError``); in a markdown
cell the text :data:`TEXT_STUB`. Everything else is kept. ``musiclib course student --out
DIR`` calls :func:`write_student_versions`.

Why not nbgrader itself: its ``generate_assignment`` replaces a solution with ``raise
NotImplementedError()``, so a student notebook stops at its first exercise, and it needs
per-cell metadata, a course folder layout and a database. This module implements the two
marker pairs only, and keeps nbgrader's spelling, so a course that grades with nbgrader can
mark the same cells in its toolbar and generate its own student version.
"""

from __future__ import annotations

import ast
import copy
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .errors import MusiclibError

SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_TESTS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
CODE_STUB = "# YOUR CODE HERE: replace each ... with your answer, then run this cell."
TEXT_STUB = "*YOUR ANSWER HERE* — double-click this cell to write your answer."

_MARKER = re.compile(r"^\s*#+\s*(BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS)\s*$")


class MarkerError(MusiclibError):
    """Solution or hidden-test markers that do not pair up; the message names the cell."""


def marker(line: str) -> str | None:
    """The marker a line holds (``"BEGIN SOLUTION"``, ...), or None.

    A marker line is one or more ``#``, then the marker words, alone on the line: in code a
    comment, in markdown a heading, as nbgrader writes them.
    """
    found = _MARKER.match(line)
    return found.group(1) if found else None


def _regions(lines: list[str], pair: tuple[str, str], where: str) -> list[tuple[int, int]]:
    """Index pairs (begin line, end line) of each region; raises MarkerError if unpaired."""
    begin, end = pair
    regions, start = [], None
    for i, line in enumerate(lines):
        found = marker(line)
        if found == begin:
            if start is not None:
                raise MarkerError(f"{where}: line {i + 1}: {begin} inside another {begin}")
            start = i
        elif found == end:
            if start is None:
                raise MarkerError(f"{where}: line {i + 1}: {end} without {begin}")
            regions.append((start, i))
            start = None
    if start is not None:
        raise MarkerError(f"{where}: line {start + 1}: {begin} without {end}")
    return regions


def _cut(lines: list[str], pair: tuple[str, str], where: str, replace) -> list[str]:
    """Replace every region of ``pair`` (markers included) by ``replace(region_lines, after)``."""
    out, done = [], 0
    for start, stop in _regions(lines, pair, where):
        out += lines[done:start]
        out += replace(lines[start + 1 : stop], lines[stop + 1 :], lines[start])
        done = stop + 1
    return out + lines[done:]


def has_markers(source: str) -> bool:
    """True when a cell's source holds any solution or hidden-test marker."""
    return any(marker(line) for line in source.splitlines())


def _without_magics(code: str) -> str:
    # IPython lines (%magic, !shell) are not Python; they cannot define or read names we stub.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(_without_magics(code))
    except SyntaxError:
        return None


def names_defined(code: str) -> list[str]:
    """Names a piece of code binds in its own (notebook-global) scope, in order of binding."""
    tree = _parse(code)
    if tree is None:
        return []
    found: list[str] = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(node.name)
            return  # their bodies are another scope
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return list(dict.fromkeys(found))


def names_read(code: str) -> set[str]:
    """Every name a piece of code reads (anywhere, nested scopes included)."""
    tree = _parse(code)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def student_source(source: str, cell_type: str, *, defined_before: Sequence[str] = (),
                   later_code: str = "", where: str = "") -> str:
    """One cell's source for the student version.

    Parameters
    ----------
    source : str
        The instructor cell.
    cell_type : str
        ``"code"`` or ``"markdown"``.
    defined_before : sequence of str
        Names earlier cells define; a solution that rebinds one of them does not get a stub
        for it (``name = ...`` would destroy the value the notebook had).
    later_code : str
        The code of every later code cell, to find which names the stubs must keep defined.
    where : str
        ``"<notebook> cell N"`` for error messages.
    """
    lines = source.splitlines()
    _regions(lines, SOLUTION, where)  # unpaired markers are reported with the cell's own line numbers
    lines = _cut(lines, HIDDEN_TESTS, where, lambda region, after, begin: [])
    if cell_type != "code":
        return "\n".join(_cut(lines, SOLUTION, where, lambda region, after, begin: [TEXT_STUB]))

    known = set(defined_before)

    def stub(region: list[str], after: list[str], begin: str) -> list[str]:
        indent = begin[: len(begin) - len(begin.lstrip())]
        solution = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in region)
        needed = names_read("\n".join(line[len(indent):] for line in after) + "\n" + later_code)
        names = [n for n in names_defined(solution) if n in needed and n not in known]
        return [indent + CODE_STUB] + [f"{indent}{name} = ..." for name in names]

    return "\n".join(_cut(lines, SOLUTION, where, stub))


def student_notebook(nb, name: str = "notebook"):
    """A copy of a notebook (nbformat node) with solutions replaced and hidden tests removed.

    Outputs and execution counts are cleared; every other cell and all metadata are kept.
    """
    student = copy.deepcopy(nb)
    cells = student.cells
    code = ["".join(c.source) if c.cell_type == "code" else "" for c in cells]
    defined: list[str] = []
    for i, cell in enumerate(cells):
        original = "".join(cell.source)
        if has_markers(original):
            cell.source = student_source(
                original, cell.cell_type, defined_before=defined,
                later_code="\n".join(code[i + 1 :]), where=f"{name} cell {i}")
        if cell.cell_type == "code":
            # Names the instructor cell defines (solutions included) count as defined from here on:
            # a later solution that rebinds them must not get a stub.
            defined += names_defined(_unmarked(original))
            cell.outputs = []
            cell.execution_count = None
    return student


def _unmarked(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not marker(line))


def solutions(nb) -> list[str]:
    """The text of every solution region of a notebook, without markers (for checks and tests)."""
    found = []
    for i, cell in enumerate(nb.cells):
        lines = "".join(cell.source).splitlines()
        for start, stop in _regions(lines, SOLUTION, f"cell {i}"):
            found.append("\n".join(lines[start + 1 : stop]))
    return found


def write_student_versions(
    out_dir: str | os.PathLike,
    *,
    notebooks: Sequence[str | os.PathLike] | None = None,
    notebooks_dir: str | os.PathLike | None = None,
) -> list[Path]:
    """Write the student version of every course notebook into ``out_dir``.

    Each file is written to a temporary name and renamed, so an interrupted run leaves no
    half-written notebook. Refuses to write into the folder of the instructor notebooks.

    Returns
    -------
    list of Path
        The student notebooks, in course order.
    """
    import nbformat

    from . import safe_write
    from .course import find_notebooks

    paths = [Path(p) for p in notebooks] if notebooks else find_notebooks(notebooks_dir)
    out = Path(out_dir).expanduser().resolve()
    if any(p.resolve().parent == out for p in paths):
        raise MusiclibError(f"{out}: this is the folder of the instructor notebooks; choose another --out")
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        student = student_notebook(nb, name=path.name)
        nbformat.validate(student)
        safe_write.write_text(out / path.name, nbformat.writes(student))
        written.append(out / path.name)
    return written
