"""Course settings: profiles, folders and the dataset choice.

A notebook's first code cell is ``settings = ml.config.settings()``; everything a notebook
needs to know about where data lives and how big a run should be comes from there.

Environment variables (all optional):

``MUSICLIB_PROFILE``
    ``tiny`` (unit tests: seconds), ``fast`` (CI and quick study, the default) or ``full``
    (real study, GTZAN-sized).
``MUSICLIB_DATASET``
    ``synthetic`` (the default, built in), ``composers`` (built in: real compositions from
    music21's corpus, rendered offline), a GTZAN folder, or any folder whose sub-folders are
    labels. A notebook may choose its own default (``settings(default_dataset=...)``); this
    variable, when set, wins.
``MUSICLIB_DATA_DIR``
    Where generated datasets and caches live. Defaults to ``data/`` of a source checkout,
    else ``~/.cache/musiclib/data``.
``MUSICLIB_BUILD_DIR``
    Where results, models and executed notebooks go. Defaults to ``build/`` of a source
    checkout, else ``~/.cache/musiclib/build``.
``MUSICLIB_SEED``
    The seed every random step starts from (default 0).
``MUSICLIB_SCORE_CACHE``
    Where the composers dataset keeps the notes of the scores it parsed (default
    ``<data dir>/cache/scores``); valid for any profile and seed, so one folder can serve many.

Taught in ``notebooks/00_setup_and_data.ipynb``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .errors import MusiclibError

SAMPLE_RATE = 22050  # Hz; every signal of the course is resampled to this rate

ENV_PROFILE = "MUSICLIB_PROFILE"
ENV_DATASET = "MUSICLIB_DATASET"
ENV_DATA_DIR = "MUSICLIB_DATA_DIR"
ENV_BUILD_DIR = "MUSICLIB_BUILD_DIR"
ENV_SEED = "MUSICLIB_SEED"
ENV_SCORE_CACHE = "MUSICLIB_SCORE_CACHE"


@dataclass(frozen=True)
class Profile:
    """How big a run of the course is.

    Attributes
    ----------
    name : str
        ``tiny``, ``fast`` or ``full``.
    clips_per_style : int
        Clips per style of the built-in synthetic dataset.
    clip_seconds : float
        Length of each synthetic clip, in seconds.
    long_recordings_per_style : int
        Synthetic recordings of several minutes per style (teaches cutting long files).
    long_recording_seconds : float
        Length of each of those, in seconds.
    max_epochs : int
        Training epochs at most (early stopping usually ends sooner).
    patience : int
        Epochs without a better validation loss before training stops.
    learning_rate : float or None
        Adam's learning rate for the segment networks; None keeps each source's own (1e-4,
        tuned for 100 epochs), which the short ``tiny`` and ``fast`` runs cannot afford.
    stream : bool
        Train segment networks from an on-disk array in batches rather than from memory
        (``musiclib.streaming``): GTZAN-sized data with bounded memory.
    clip_net_epochs : int
        Epochs at most for the dense network on clip features (source 001) when notebooks
        02-03 compare it with the scikit-learn baselines (early stopping may end sooner;
        source 001 trained 10 to 20). Notebook 03 trains six of them.
    recordings_per_label : int or None
        The notebooks' share of a large dataset: at most this many recordings per label,
        drawn by recording with the seed (:func:`musiclib.datasets.take_share`). None: all.
    seconds_per_recording : float or None
        At most this many seconds of each recording the notebooks use (an excerpt from its
        middle). None: the whole recording.
    composer_pieces : int
        Pieces per label of the built-in composers dataset (fewer where a repertory has fewer).
    composer_seconds : float
        Seconds rendered of each piece (cut into clips of ``clip_seconds``).
    composer_small_scores : bool
        Draw the composers' pieces among the smaller half of each label's score files only
        (quick to parse; the ``tiny`` profile).
    folds : int
        K of the notebooks' repeated evaluation (``musiclib.experiments.run_folds``): every
        comparison the course teaches is measured on K folds by recording, with intervals.
    description : str
        One line for humans.
    """

    name: str
    clips_per_style: int
    clip_seconds: float
    long_recordings_per_style: int = 0
    long_recording_seconds: float = 180.0
    max_epochs: int = 100
    patience: int = 10
    learning_rate: float | None = None
    stream: bool = False
    clip_net_epochs: int = 300
    recordings_per_label: int | None = None
    seconds_per_recording: float | None = None
    composer_pieces: int = 60
    composer_seconds: float = 120.0
    composer_small_scores: bool = False
    folds: int = 5
    description: str = ""

    def share_rule(self) -> str:
        """One line saying how much of a dataset the notebooks take in this profile."""
        if self.recordings_per_label is None and self.seconds_per_recording is None:
            return f"{self.name} uses every recording, whole"
        parts = []
        if self.recordings_per_label is not None:
            parts.append(f"at most {self.recordings_per_label} recordings per label")
        if self.seconds_per_recording is not None:
            parts.append(f"at most {self.seconds_per_recording:g} s of each")
        return f"{self.name} takes {' and '.join(parts)}; full uses all"


PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        name="tiny",
        clips_per_style=4,
        clip_seconds=4.0,
        max_epochs=3,
        patience=2,
        learning_rate=1e-3,
        clip_net_epochs=10,  # tiny only checks that the code runs
        recordings_per_label=4,
        seconds_per_recording=4.0,
        composer_pieces=4,
        composer_seconds=4.0,
        composer_small_scores=True,
        folds=2,
        description="unit tests: a handful of short clips, seconds per step",
    ),
    "fast": Profile(
        name="fast",
        clips_per_style=10,
        clip_seconds=10.0,
        max_epochs=80,
        patience=15,
        learning_rate=1e-3,
        clip_net_epochs=100,
        recordings_per_label=10,
        seconds_per_recording=10.0,
        composer_pieces=20,
        composer_seconds=30.0,
        description="CI and quick study: each notebook well under 2 minutes on a 2-core CPU",
    ),
    "full": Profile(
        name="full",
        clips_per_style=100,
        clip_seconds=30.0,
        max_epochs=100,
        patience=10,
        stream=True,
        description="real study: GTZAN-shaped, 100 clips of 30 s per style",
    ),
}

DEFAULT_PROFILE = "fast"
DEFAULT_DATASET = "synthetic"
#: Datasets musiclib makes itself, named rather than given as a folder.
BUILT_IN_DATASETS = ("synthetic", "composers")


def get_profile(name: str | Profile | None = None) -> Profile:
    """Return the profile called ``name`` (default: ``$MUSICLIB_PROFILE`` or ``fast``)."""
    if isinstance(name, Profile):
        return name
    name = (name or os.environ.get(ENV_PROFILE) or DEFAULT_PROFILE).strip().lower()
    try:
        return PROFILES[name]
    except KeyError:
        raise MusiclibError(
            f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}"
        ) from None


def project_root() -> Path | None:
    """The source checkout this package was installed from, or None for a plain install."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def _default_dir(env: str, name: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser().resolve()
    root = project_root()
    if root is not None:
        return root / name
    return Path.home() / ".cache" / "musiclib" / name


@dataclass(frozen=True)
class Settings:
    """Everything a notebook or a CLI command needs to know about a run.

    Attributes
    ----------
    profile : Profile
    dataset : str
        ``"synthetic"``, ``"composers"`` or the path of a dataset folder.
    data_dir : Path
        Generated datasets and caches.
    build_dir : Path
        Results, models and executed notebooks.
    seed : int
        The seed every random step starts from.
    sample_rate : int
        Hz, the rate every signal is resampled to.
    share : bool
        True (the notebooks): :func:`musiclib.datasets.load` takes the profile's share of a
        large dataset (``profile.recordings_per_label``, ``profile.seconds_per_recording``)
        and leaves out labels with too few recordings to split. False (the ``musiclib``
        command): every usable recording, whole.
    """

    profile: Profile
    dataset: str
    data_dir: Path
    build_dir: Path
    seed: int = 0
    sample_rate: int = SAMPLE_RATE
    share: bool = True

    @property
    def is_synthetic(self) -> bool:
        return self.dataset == "synthetic"

    @property
    def is_built_in(self) -> bool:
        """Whether the dataset is one musiclib makes itself (:data:`BUILT_IN_DATASETS`)."""
        return self.dataset in BUILT_IN_DATASETS

    @property
    def composers_dir(self) -> Path:
        """Folder of the built-in composers dataset for this profile and seed."""
        return self.data_dir / "composers" / f"{self.profile.name}-seed{self.seed}"

    @property
    def synthetic_dir(self) -> Path:
        """Folder of the built-in synthetic dataset for this profile and seed."""
        return self.data_dir / "synthetic" / f"{self.profile.name}-seed{self.seed}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def score_cache_dir(self) -> Path:
        """Notes of parsed scores (:func:`musiclib.scores.read_piece`): ``$MUSICLIB_SCORE_CACHE``
        or ``<cache_dir>/scores``."""
        env = os.environ.get(ENV_SCORE_CACHE, "").strip()
        return Path(env).expanduser().resolve() if env else self.cache_dir / "scores"

    @property
    def dataset_name(self) -> str:
        """A short, file-name-safe name of the dataset: ``"synthetic"``, or a folder's name
        and 6 hex digits of a hash of its absolute path (``"gtzan-3fa21c"``), so that two
        folders of one name never share a model folder."""
        if self.is_built_in:
            return self.dataset
        path = Path(self.dataset).expanduser().resolve()
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name).strip("._") or "dataset"
        return f"{stem}-{hashlib.sha256(str(path).encode('utf-8')).hexdigest()[:6]}"

    @property
    def models_dir(self) -> Path:
        """``build/models/<profile>/<dataset_name>``: each profile and dataset keeps its own
        model bundles, so a tiny run never overwrites the models of a fast one."""
        return self.build_dir / "models" / self.profile.name / self.dataset_name

    @property
    def results_dir(self) -> Path:
        return self.build_dir / "results"

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed, e.g. ``settings.replace(seed=1)``."""
        if "profile" in changes:
            changes["profile"] = get_profile(changes["profile"])
        return replace(self, **changes)

    def describe(self) -> str:
        """A few lines for the top of a notebook."""
        return "\n".join(
            [
                f"profile : {self.profile.name} ({self.profile.description})",
                f"dataset : {self.dataset}",
                f"data dir: {self.data_dir}",
                f"build   : {self.build_dir}",
                f"seed    : {self.seed}",
                f"share   : {self.profile.share_rule() if self.share else 'every recording, whole'}",
            ]
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data_dir"] = str(self.data_dir)
        d["build_dir"] = str(self.build_dir)
        return d


def settings(
    profile: str | Profile | None = None,
    dataset: str | os.PathLike | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    seed: int | None = None,
    share: bool = True,
    default_dataset: str | None = None,
) -> Settings:
    """The one call a notebook's first cell makes.

    Arguments left out come from the environment variables (see the module docstring), then
    from the defaults: profile ``fast``, dataset ``synthetic``, seed 0. ``share=False``
    (what the ``musiclib`` command passes) makes a run use every recording of the dataset
    rather than the profile's share of it. ``default_dataset`` is a notebook's own choice
    when neither ``dataset`` nor ``MUSICLIB_DATASET`` names one (notebooks 05-07 teach the
    sources' composer task on ``"composers"``).

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    prof = get_profile(profile)
    ds = str(dataset) if dataset is not None else os.environ.get(ENV_DATASET, "").strip()
    ds = ds or default_dataset or DEFAULT_DATASET
    if ds.lower() in BUILT_IN_DATASETS:
        ds = ds.lower()
    else:
        ds = str(Path(ds).expanduser().resolve())
    if seed is None:
        raw = os.environ.get(ENV_SEED, "").strip()
        try:
            seed = int(raw) if raw else 0
        except ValueError:
            raise MusiclibError(f"{ENV_SEED}={raw!r} is not an integer") from None
    ddir = Path(data_dir).expanduser().resolve() if data_dir else _default_dir(ENV_DATA_DIR, "data")
    bdir = Path(build_dir).expanduser().resolve() if build_dir else _default_dir(ENV_BUILD_DIR, "build")
    return Settings(profile=prof, dataset=ds, data_dir=ddir, build_dir=bdir, seed=int(seed), share=share)


# The main packages whose installed versions notebook 00 checks against pyproject's ranges.
CHECKED_PACKAGES = (
    "numpy", "pandas", "soundfile", "soxr", "librosa", "scikit-learn", "matplotlib",
    "seaborn", "tensorflow", "keras", "audiomentations", "jupyterlab",
)


def environment_report():
    """Installed versions of the course's main packages against the ranges musiclib requires.

    The ranges come from musiclib's own package metadata (``pyproject.toml``), so there is
    one place to change them. Reads metadata only: TensorFlow is not imported.

    Returns
    -------
    pandas.DataFrame
        Columns ``package``, ``installed`` (None if missing), ``required`` and ``ok``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    import platform
    from importlib import metadata

    import pandas as pd
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    required = {}
    for line in metadata.requires("musiclib") or []:
        req = Requirement(line)
        if req.marker is None:  # extras (dev) are not the course's runtime
            required[req.name.lower()] = req.specifier
    python_spec = SpecifierSet(metadata.metadata("musiclib")["Requires-Python"] or "")
    rows = [
        {
            "package": "python",
            "installed": platform.python_version(),
            "required": str(python_spec),
            "ok": python_spec.contains(platform.python_version()),
        }
    ]
    for name in CHECKED_PACKAGES:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        spec = required.get(name, SpecifierSet())
        rows.append(
            {
                "package": name,
                "installed": installed,
                "required": str(spec),
                "ok": installed is not None and spec.contains(installed, prereleases=True),
            }
        )
    return pd.DataFrame(rows)
