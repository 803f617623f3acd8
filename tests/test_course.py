"""The headless course runner: executes notebooks in order, stops at the first failure."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import musiclib as ml
from musiclib import cli


def _write(path, *sources):
    nb = new_notebook(cells=[new_markdown_cell("# " + path.stem)] + [new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def course_dir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _write(folder / "00_first.ipynb", "import os\nprofile = os.environ['MUSICLIB_PROFILE']", "print('profile', profile)")
    _write(folder / "01_second.ipynb", "x = 1", "raise ValueError('the answer is missing')", "print('never')")
    _write(folder / "02_third.ipynb", "print('not reached')")
    (folder / "notes.ipynb").write_text("{}")  # not a course notebook: no number
    return folder


def test_find_notebooks_in_order(course_dir):
    assert [p.name for p in ml.course.find_notebooks(course_dir)] == [
        "00_first.ipynb", "01_second.ipynb", "02_third.ipynb"]


def test_stops_at_first_failure_naming_cell_and_error(course_dir, tmp_path, capsys):
    out = tmp_path / "out"
    settings = ml.config.settings(profile="tiny")
    runs = ml.course.run_course(settings=settings, notebooks_dir=course_dir, out_dir=out, progress=False)
    assert [(r.notebook, r.status) for r in runs] == [("00_first.ipynb", "ok"), ("01_second.ipynb", "failed")]
    assert runs[1].error.startswith("cell 2: ValueError: the answer is missing")
    printed = capsys.readouterr().out
    assert "01_second.ipynb: cell 2: ValueError: the answer is missing" in printed

    executed = nbformat.read(out / "00_first.ipynb", as_version=4)
    assert "profile tiny" in executed.cells[2].outputs[0]["text"]  # the profile reached the kernel
    assert (out / "00_first.html").stat().st_size > 1000
    failed = nbformat.read(out / "01_second.ipynb", as_version=4)
    assert failed.cells[2].outputs[0]["output_type"] == "error"
    assert not (out / "02_third.ipynb").exists()

    table = pd.read_csv(out / "notebooks.csv")
    assert list(table["status"]) == ["ok", "failed"]
    assert "## Notebooks" in (out / "results.md").read_text()
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_results_table_shows_this_runs_experiments_and_other_tables(tmp_path):
    settings = ml.config.settings(profile="tiny")
    settings.results_dir.mkdir(parents=True)
    rows = pd.DataFrame([
        {"experiment": "cnn_mfcc", "dataset": "synthetic", "profile": "tiny", "seed": 0, "split": "by recording",
         "balance": "none", "test_accuracy_segment": 0.5, "test_accuracy_recording": 0.6},
        {"experiment": "cnn_mfcc", "dataset": "synthetic", "profile": "full", "seed": 0, "split": "by recording",
         "balance": "none", "test_accuracy_segment": 0.9, "test_accuracy_recording": 0.9},  # another profile
    ])
    rows.to_csv(settings.results_dir / "experiments.csv", index=False)
    pd.DataFrame([{"model": "random_forest", "test_accuracy": 0.7}]).to_csv(
        settings.results_dir / "02_spectral_features.csv", index=False)
    runs = [ml.course.NotebookRun("00_x.ipynb", "ok", 1.0, 3)]
    text = ml.course.write_results(runs, settings, tmp_path).read_text()
    table = pd.read_csv(tmp_path / "results.csv")
    assert table["experiment"].tolist() == ["cnn_mfcc"] and table["test_accuracy_recording"].tolist() == [0.6]
    assert table["reported_accuracy"].tolist() == [0.7397]
    assert "## 02_spectral_features" in text and "random_forest" in text


def _row(experiment, accuracy, n, **more):
    return {"experiment": experiment, "dataset": "synthetic", "profile": "tiny", "seed": 0, "split": "by recording",
            "balance": ml.experiments.get(experiment).balance or "none", "folds": 1, "fold": 0,
            "test_accuracy_segment": accuracy, "test_accuracy_recording": accuracy,
            "test_accuracy_recording_ci_low": accuracy - 0.2, "test_accuracy_recording_ci_high": accuracy + 0.1,
            "n_test_recordings": n, **more}


def test_results_carry_n_folds_intervals_baselines_and_mark_other_data(tmp_path):
    """Every row says its n test recordings, folds and interval; a baseline is a row; the
    rows of notebook 04's imbalanced variant (other data, other n) are not called comparable;
    the K-fold runs kept under build/results/folds are summarised with theirs."""
    settings = ml.config.settings(profile="tiny")
    settings.results_dir.mkdir(parents=True)
    pd.DataFrame([_row("logreg_clip", 0.7, 16), _row("cnn_mfcc", 0.8, 16),
                  _row("cnn2_mfcc_unbalanced", 0.5, 9)]).to_csv(settings.results_dir / "experiments.csv", index=False)
    # two K-fold runs as run_folds keeps them: per-recording predictions and per-fold rows
    folds = settings.results_dir / "folds"
    folds.mkdir()
    for name, right in (("logreg_clip", [1, 1, 0, 1]), ("cnn_mfcc", [1, 0, 0, 1])):
        recordings = pd.DataFrame({"fold": [0, 0, 1, 1], "group": list("abcd"), "y_true": [0, 1, 0, 1]})
        recordings["y_pred"] = [t if r else 1 - t for t, r in zip(recordings["y_true"], right)]
        recordings["y_pred_vote"] = recordings["y_pred"]
        recordings["segments"], recordings["segments_correct"] = 2, [2 * r for r in right]
        recordings.to_csv(folds / f"{name}-k2-abc.csv", index=False)
        pd.DataFrame([_row(name, 0.5, 2, folds=2, fold=k, split="2 folds by recording", train_seconds=1.0)
                      for k in (0, 1)]).to_csv(folds / f"{name}-k2-abc.rows.csv", index=False)
    pd.DataFrame([_row("cnn_mfcc", 0.5, 2, folds=2, fold=0)]).assign(profile="fast").to_csv(
        folds / "cnn_mfcc-k2-other.rows.csv", index=False)  # another profile: left out
    pd.read_csv(folds / "cnn_mfcc-k2-abc.csv").to_csv(folds / "cnn_mfcc-k2-other.csv", index=False)

    text = ml.course.write_results([ml.course.NotebookRun("07_x.ipynb", "ok", 1.0, 3)], settings, tmp_path).read_text()
    table = pd.read_csv(tmp_path / "results.csv")
    for column in ("n_test_recordings", "folds", "test_accuracy_recording_ci_low", "test_accuracy_recording_ci_high",
                   "comparable", "data"):
        assert column in table, column
    one = table[table["folds"] == 1].set_index("experiment")
    assert one.loc[["logreg_clip", "cnn_mfcc"], "comparable"].all()
    assert not one.loc["cnn2_mfcc_unbalanced", "comparable"] and one.loc["cnn2_mfcc_unbalanced", "data"] == "imbalanced"
    k = table[table["folds"] == 2].set_index("experiment")
    assert sorted(k.index) == ["cnn_mfcc", "logreg_clip"]  # the other profile's run is not here
    assert k.loc["logreg_clip", "test_accuracy_recording"] == 0.75 and k.loc["cnn_mfcc", "test_accuracy_recording"] == 0.5
    assert (k["n_test_recordings"] == 4).all() and (k["split"] == "2 folds by recording").all()
    assert (k["test_accuracy_recording_ci_low"] <= k["test_accuracy_recording"]).all()
    assert (k["test_accuracy_recording"] <= k["test_accuracy_recording_ci_high"]).all()
    comparable = text.index("one split by recording, comparable rows")
    other = text.index("not comparable with the rows above")
    assert comparable < text.index("cnn2_mfcc_unbalanced") and other < text.index("cnn2_mfcc_unbalanced")
    assert "K folds by recording (mean over every test recording" in text and "ci_low" in text


def test_cli_course_exit_status(course_dir, tmp_path, capsys):
    out = tmp_path / "cli-out"
    ok = cli.main(["course", "--notebooks", str(course_dir), "--only", "00", "--out", str(out), "-q"])
    assert ok == 0 and (out / "results.md").exists()
    failed = cli.main(["course", "--notebooks", str(course_dir), "--out", str(out), "-q"])
    assert failed == 1
    assert "1 notebooks ok, 1 failed" in capsys.readouterr().out
    assert cli.main(["course", "--notebooks", str(course_dir), "--only", "99", "-q"]) == 2


def test_kernels_start_quiet_no_tensorflow_lines_in_notebook_or_terminal(tmp_path, capsys, monkeypatch):
    """A notebook that imports musiclib, then Keras, and fits one epoch: TensorFlow's C++ log
    lines reach neither the executed notebook nor the runner's terminal; stderr that is not
    TensorFlow's still reaches the notebook."""
    from musiclib.tf_log import is_tf_log_line

    # as in `make course`: ipykernel forwards fd 2 only where pytest does not run the kernel
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _write(folder / "00_keras.ipynb",
           "import os, sys\nimport musiclib as ml",
           "import keras\nimport numpy as np\n"
           "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
           "model.compile('adam', 'mse')\n"
           "history = model.fit(np.zeros((8, 3)), np.zeros((8, 2)), epochs=1, verbose=0)",
           "print('a Python warning', file=sys.stderr)\nos.write(2, b'a C library warning\\n')\n"
           "import time\ntime.sleep(0.5)")
    out = tmp_path / "out"
    runs = ml.course.run_course(settings=ml.config.settings(profile="tiny"), notebooks_dir=folder, out_dir=out)
    assert [r.status for r in runs] == ["ok"], runs[0].error
    printed = capsys.readouterr()
    assert printed.err == "" and all(line.startswith(("[1/1]", "results:")) for line in printed.out.splitlines())

    executed = nbformat.read(out / "00_keras.ipynb", as_version=4)
    stderr = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                     for o in c.outputs if o.get("name") == "stderr")
    assert not [line for line in stderr.splitlines() if is_tf_log_line(line)], stderr
    assert "a Python warning" in stderr and "a C library warning" in stderr
    log = out / "00_keras.kernel.log"  # the kernel's own output: ipykernel's echo of fd 2
    assert not log.exists() or not [line for line in log.read_text().splitlines() if is_tf_log_line(line)]
