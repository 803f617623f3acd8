from pathlib import Path

import pytest

import musiclib as ml
from musiclib.errors import MusiclibError


def test_defaults_come_from_environment(isolated_settings, monkeypatch):
    s = ml.config.settings()
    assert s.profile.name == "tiny"
    assert s.dataset == "synthetic" and s.is_synthetic
    assert s.data_dir == (isolated_settings / "data").resolve()
    assert s.build_dir == (isolated_settings / "build").resolve()
    assert s.seed == 0 and s.sample_rate == 22050
    assert s.synthetic_dir == s.data_dir / "synthetic" / "tiny-seed0"

    monkeypatch.setenv("MUSICLIB_PROFILE", "FULL")
    monkeypatch.setenv("MUSICLIB_SEED", "7")
    monkeypatch.setenv("MUSICLIB_DATASET", str(isolated_settings))
    s = ml.config.settings()
    assert (s.profile.name, s.seed) == ("full", 7)
    assert s.dataset == str(isolated_settings.resolve()) and not s.is_synthetic


def test_arguments_override_environment(tmp_path):
    s = ml.config.settings(profile="fast", dataset="Synthetic", data_dir=tmp_path, seed=3)
    assert (s.profile.name, s.dataset, s.data_dir, s.seed) == ("fast", "synthetic", tmp_path.resolve(), 3)
    assert s.replace(profile="full").profile is ml.config.PROFILES["full"]


def test_profiles_grow_from_tiny_to_full():
    p = ml.config.PROFILES
    sizes = [p[n].clips_per_style * p[n].clip_seconds for n in ("tiny", "fast", "full")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    assert (p["fast"].clips_per_style, p["fast"].clip_seconds) == (10, 10.0)
    assert (p["full"].clips_per_style, p["full"].clip_seconds) == (100, 30.0)


@pytest.mark.parametrize("var,value", [("MUSICLIB_PROFILE", "huge"), ("MUSICLIB_SEED", "one")])
def test_bad_environment_gives_one_line_error(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(MusiclibError) as err:
        ml.config.settings()
    assert value in str(err.value) and "\n" not in str(err.value)


def test_environment_report_checks_required_ranges():
    report = ml.config.environment_report()
    assert {"python", "librosa", "tensorflow", "keras", "scikit-learn"} <= set(report["package"])
    librosa_row = report.set_index("package").loc["librosa"]
    assert "<0.12" in librosa_row["required"] and ">=0.11" in librosa_row["required"]
    assert report["ok"].all(), report.loc[~report["ok"]]


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, musiclib as ml; ml.config.settings(); print('tensorflow' in sys.modules, 'librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_environment_yml_lists_every_dependency():
    """Conda users get the same packages as pip users."""
    import tomllib

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parent.parent
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    env = (root / "environment.yml").read_text()
    conda_names = {"soundfile": "pysoundfile", "soxr": "soxr-python"}
    for line in deps:
        name = Requirement(line).name
        assert f"- {conda_names.get(name, name)}" in env, f"{name} missing from environment.yml"
