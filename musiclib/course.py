"""Run the whole course headless: execute every notebook in order, write the results.

``musiclib course`` (and ``make course``) calls :func:`run_course`. Each notebook runs in a
fresh Jupyter kernel with the chosen profile and dataset in its environment; the executed
copy (``.ipynb``) and an HTML rendering land in ``build/course/``. The run stops at the
first failing notebook and names the cell and its error. At the end it writes
``build/course/results.md`` and ``results.csv``: how long each notebook took, and the
results of every experiment for the run's dataset, profile and seed (notebook 07's table).

The terminal shows only the runner's progress lines. A kernel's own stdout and stderr (what
its process writes outside the notebook) go to ``build/course/<notebook>.kernel.log``, kept
only when not empty; TensorFlow's C++ log lines stay out of the notebooks and that log
(``TF_CPP_MIN_LOG_LEVEL`` in the kernel's environment, and :mod:`musiclib.tf_log`, which
``import musiclib`` installs in a kernel).

Taught in ``README.md`` (running the course for a class).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import safe_write
from .config import ENV_DATASET, ENV_PROFILE, ENV_SEED, Settings, project_root
from .config import settings as default_settings
from .errors import MusiclibError


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    cells: int
    error: str = ""  # one line: "cell 7: ValueError: ..." when failed


class NotebookFailed(MusiclibError):
    """A notebook of the course raised an error; the message names the cell."""


def find_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """The course's notebooks in order: ``NN_*.ipynb`` sorted by number."""
    folder = Path(folder) if folder else _notebooks_dir()
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    if not found:
        raise MusiclibError(f"{folder}: no course notebooks (NN_name.ipynb) found")
    return found


def _notebooks_dir() -> Path:
    root = project_root()
    if root is None:
        raise MusiclibError(
            "the course notebooks live in the source checkout; run from it or pass --notebooks DIR"
        )
    return root / "notebooks"


@contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for kernels started inside the block, then restore them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _error_line(cell_index: int, err: Exception) -> str:
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    text = " ".join(f"{ename}: {evalue}".split())
    return f"cell {cell_index}: {text[:400]}"


def _run_cells(client, nb, code_cells: list[int], on_cell, log) -> str:
    """Execute the code cells in order; return "" or the one-line error of the failing cell.

    The kernel process writes its own stdout/stderr to ``log`` (an open file), not to the
    terminal: ipykernel already forwards what the notebook's code writes into the notebook.
    """
    with client.setup_kernel(stdout=log, stderr=log):
        for done, index in enumerate(code_cells, start=1):
            try:
                client.execute_cell(nb.cells[index], index)
            except Exception as err:  # CellExecutionError, timeouts, a dead kernel
                return _error_line(index, err)
            if on_cell:
                on_cell(done, len(code_cells))
    return ""


def execute_notebook(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    timeout: int = 900,
    on_cell: Callable[[int, int], None] | None = None,
) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel; write ``.ipynb`` and ``.html``.

    The kernel's working folder is the notebook's folder. Outputs are written even when a
    cell fails, so the error can be read in the executed copy.

    Parameters
    ----------
    path : path
        The notebook.
    out_dir : path
        Where the executed copy and its HTML go.
    timeout : int
        Seconds one cell may take.
    on_cell : callable, optional
        Called as ``on_cell(done, total)`` after each code cell.
    """
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    path = Path(path)
    out_dir = Path(out_dir)
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    start = time.perf_counter()
    # The kernel talks over local sockets in a private folder rather than TCP ports: no open
    # ports on a classroom machine, and no "running over TCP without encryption" warning.
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / f"{path.stem}.kernel.log"
    with tempfile.TemporaryDirectory(prefix="musiclib-kernel-") as sockets, open(log_path, "wb") as log:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "k"))
        client = NotebookClient(
            nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            error = _run_cells(client, nb, code_cells, on_cell, log)
        finally:
            # nbclient shuts down only kernels it created itself
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    if log_path.stat().st_size == 0:
        log_path.unlink()
    elif error:
        error += f" (the kernel's own output: {log_path})"
    seconds = time.perf_counter() - start
    safe_write.write_text(out_dir / path.name, nbformat.writes(nb))
    html, _ = HTMLExporter().from_notebook_node(nb)
    safe_write.write_text(out_dir / f"{path.stem}.html", html)
    return NotebookRun(
        notebook=path.name,
        status="failed" if error else "ok",
        seconds=round(seconds, 1),
        cells=len(code_cells),
        error=error,
    )


# what results.md shows of each experiment row (results.csv keeps every column)
RESULT_COLUMNS = [
    "experiment", "source", "n_test_recordings", "folds", "test_accuracy_recording",
    "test_accuracy_recording_ci_low", "test_accuracy_recording_ci_high", "test_accuracy_segment",
    "test_accuracy_recording_vote", "macro_f1", "parameters", "train_seconds", "reported_accuracy",
]


def _experiment_tables(settings: Settings) -> pd.DataFrame:
    """One dataset's rows: every one-split experiment (:func:`musiclib.experiments.summary`)
    and every K-fold run kept under ``build/results/folds`` (:func:`~musiclib.experiments.stored_folds`),
    with ``data`` and ``comparable`` (:func:`~musiclib.experiments.mark_comparable`)."""
    from .experiments import folds_as_rows, folds_table, mark_comparable, stored_folds, summary

    one_split = summary(settings)
    if len(one_split):
        one_split = mark_comparable(one_split)
    folds = stored_folds(settings)
    k_folds = mark_comparable(folds_as_rows(folds_table(folds))) if folds else pd.DataFrame()
    parts = [t for t in (one_split, k_folds) if len(t)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["experiment"])


def _markdown(table: pd.DataFrame, columns) -> str:
    shown = table[[c for c in columns if c in table]].copy()
    return shown.round(3).to_markdown(index=False)


def write_results(runs: Sequence[NotebookRun], settings: Settings, out_dir: Path, *,
                  dataset_chosen: bool = True) -> Path:
    """Write ``results.md`` and ``results.csv`` (the experiments) plus ``notebooks.csv``.

    The experiments are those of the run's dataset, profile and seed — the tables notebook
    07 shows — or, when the run named no dataset and each notebook used its own default,
    of both built-in datasets (a ``dataset`` column tells them apart). Every row says what
    it was measured on: ``n_test_recordings``, ``folds`` (1 for the single split of
    :func:`musiclib.experiments.run`; K for a run of
    :func:`musiclib.experiments.run_folds`, whose accuracy is the mean over every test
    recording of the K folds) and the 95% interval of the recording accuracy
    (``test_accuracy_recording_ci_low`` / ``_ci_high``, a percentile bootstrap over test
    recordings); the baselines (``logreg_clip``, ``forest_clip``) are rows like any other.
    ``comparable`` marks the rows measured on the same data with the same number of test
    recordings; the others (``data`` = ``imbalanced``: notebook 04's variant) get a table of
    their own in ``results.md``. Other tables the notebooks wrote under ``build/results/``
    (the scikit-learn baselines of notebooks 02-03) follow.
    """
    from .config import BUILT_IN_DATASETS

    notebooks = pd.DataFrame([r.__dict__ for r in runs])
    safe_write.write_csv(notebooks, out_dir / "notebooks.csv")
    if dataset_chosen:
        datasets = [settings.dataset]
        which = f"dataset `{settings.dataset}`"
    else:
        datasets = list(BUILT_IN_DATASETS)
        which = "each notebook's own dataset (" + ", ".join(f"`{d}`" for d in BUILT_IN_DATASETS) + ")"
    tables = {d: _experiment_tables(settings.replace(dataset=d)) for d in datasets}
    tables = {d: t.assign(dataset=d) for d, t in tables.items() if len(t)}
    if tables:
        experiments = pd.concat(tables.values(), ignore_index=True)
        experiments = experiments[["dataset"] + [c for c in experiments.columns if c != "dataset"]]
    else:
        experiments = pd.DataFrame(columns=["dataset", *RESULT_COLUMNS, "split", "data", "comparable"])
    safe_write.write_csv(experiments, out_dir / "results.csv")
    lines = [
        "# Course run",
        "",
        f"profile `{settings.profile.name}`, {which}, seed {settings.seed}, "
        f"python {sys.version.split()[0]}",
        "",
        "## Notebooks",
        "",
        notebooks.to_markdown(index=False) if len(notebooks) else "(none run)",
        "",
        "## Experiments",
        "",
        "Split by recording. `test_accuracy_recording` is the share of test recordings classified right, "
        "with its 95% interval (`ci_low` to `ci_high`: a percentile bootstrap over the test recordings); "
        "`folds` 1 is one split (70 / 15 / 15), K is K folds by recording, every recording tested once "
        "(the mean over all of them). `reported_accuracy` is the source's own number, on other data "
        "and mostly a leaky split: for orientation only.",
    ]
    if not tables:
        lines += ["", "No experiment has a result for this dataset, profile and seed yet."]
    for dataset, table in tables.items():
        one = table[table["folds"].fillna(1).astype(int) == 1] if "folds" in table else table
        many = table.drop(index=one.index)
        sections = [
            ("one split by recording, comparable rows (same data, same test recordings)",
             one[one["comparable"]]),
            ("one split by recording, measured on other data or another number of test recordings: "
             "not comparable with the rows above", one[~one["comparable"]]),
            ("K folds by recording (mean over every test recording, 95% interval)", many[many["comparable"]]),
            ("K folds by recording, on other data or another number of test recordings", many[~many["comparable"]]),
        ]
        for heading, rows in sections:
            if len(rows):
                extra = ["data"] if heading.startswith(("one split by recording, measured", "K folds by recording, on")) else []
                lines += ["", f"### `{dataset}`: {heading}", "", _markdown(rows, RESULT_COLUMNS + extra)]
    results_dir = Path(settings.results_dir)
    for path in sorted(results_dir.glob("*.csv")) if results_dir.is_dir() else []:
        if path.name == "experiments.csv":
            continue
        table = pd.read_csv(path)
        if len(table):
            lines += ["", f"## {path.stem}", "", table.round(3).to_markdown(index=False)]
    safe_write.write_text(out_dir / "results.md", "\n".join(lines) + "\n")
    return out_dir / "results.md"


def run_course(
    *,
    settings: Settings | None = None,
    notebooks: Sequence[str | os.PathLike] | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    timeout: int = 900,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    dataset_chosen: bool = True,
) -> list[NotebookRun]:
    """Execute the course's notebooks in order; stop at the first failure.

    Parameters
    ----------
    settings : Settings, optional
        Profile, dataset and seed passed to every notebook through the environment.
    dataset_chosen : bool
        False: the user named no dataset, so each notebook uses its own default (the
        synthetic styles, or the composers for 05-07) and ``MUSICLIB_DATASET`` is left empty.
    notebooks : list of paths, optional
        Run only these (default: every ``NN_*.ipynb`` in ``notebooks_dir``).
    out_dir : path, optional
        Default ``settings.build_dir / "course"``.

    Returns
    -------
    list of NotebookRun
        One per notebook attempted; the last one has ``status == "failed"`` if any failed.
    """
    from tqdm.std import tqdm  # only ever drawn on a terminal

    s = settings or default_settings()
    paths = [Path(p) for p in notebooks] if notebooks else find_notebooks(notebooks_dir)
    out = Path(out_dir) if out_dir else s.build_dir / "course"
    out.mkdir(parents=True, exist_ok=True)
    env = {ENV_PROFILE: s.profile.name, ENV_DATASET: s.dataset if dataset_chosen else "", ENV_SEED: str(s.seed),
           # read by TensorFlow when a kernel imports it (see musiclib.tf_log)
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    runs: list[NotebookRun] = []
    # A live bar where a person watches a terminal; plain lines in logs and CI.
    live = progress and sys.stderr.isatty()
    with _environment(env):
        for k, path in enumerate(paths, start=1):
            if progress and not live:
                echo(f"[{k}/{len(paths)}] {path.name:<34} running ...")
            bar = tqdm(total=1, desc=f"[{k}/{len(paths)}] {path.stem}", unit="cell",
                       disable=not live, leave=False)

            def on_cell(done: int, total: int, bar=bar) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            run = execute_notebook(path, out, timeout=timeout, on_cell=on_cell)
            bar.close()
            runs.append(run)
            if run.status == "ok":
                echo(f"[{k}/{len(paths)}] {path.name:<34} ok      {run.seconds:7.1f} s")
            else:
                echo(f"[{k}/{len(paths)}] {path.name:<34} FAILED  {run.seconds:7.1f} s")
                echo(f"{path}: {run.error}")
                echo(f"the executed copy with the traceback: {out / path.name}")
                break
    results = write_results(runs, s, out, dataset_chosen=dataset_chosen)
    echo(f"results: {results}")
    return runs
