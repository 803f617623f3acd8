"""Datasets as manifest tables: the built-in synthetic styles, GTZAN, any labelled folder.

A **manifest** is a pandas DataFrame with one row per recording (or per clip of a long
recording) and the columns:

============  =====================================================================
track_id      unique id, e.g. ``blues.00012`` or ``violin/bach/partita@0003``
path          absolute path of the audio file (str)
label         the class, from the sub-folder name
duration_s    seconds of audio this row stands for
sample_rate   the file's native rate in Hz
group         the source recording (or artist) the row comes from; splits keep a group
              on one side, so clips of one recording never land in train *and* test
offset_s      where the row starts in the file, in seconds (0 for whole files)
split         ``train`` / ``valid`` / ``test`` where the dataset prescribes one (GTZAN's
              fault-filtered lists), else missing
============  =====================================================================

Unusable files never stop a dataset from loading: they are listed in ``Dataset.skipped``
with the reason, and ``musiclib dataset info`` prints them.

Taught in ``notebooks/00_setup_and_data.ipynb``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import audio
from .config import BUILT_IN_DATASETS, Settings, settings as default_settings
from .errors import AudioFileError, DatasetError

MANIFEST_COLUMNS = [
    "track_id",
    "path",
    "label",
    "duration_s",
    "sample_rate",
    "group",
    "offset_s",
    "split",
]

GTZAN_GENRES = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
# Folders under a GTZAN root that hold the genre folders, in the layouts people download.
_GTZAN_GENRE_PARENTS = (
    "",
    "genres",
    "genres_original",
    "Data/genres_original",
    "data/genres_original",
    "gtzan/genres",
    "GTZAN/genres",
)
_GTZAN_FILE = re.compile(r"^(?P<genre>[a-z]+)\.(?P<num>\d{5})\.(au|wav)$")
# Files that are broken in the copies of GTZAN that circulate (the Kaggle archive among them).
GTZAN_KNOWN_BAD = {"jazz.00054": "a known fault of common GTZAN copies"}
# The fault-filtered split of Kereliuk, Sturm and Larsen (2015), as distributed with many
# music-tagging repositories: one relative path per line, e.g. "blues/blues.00029.wav".
GTZAN_SPLIT_FILES = {
    "train": "train_filtered.txt",
    "valid": "valid_filtered.txt",
    "test": "test_filtered.txt",
}

DEFAULT_MIN_DURATION_S = 0.5
# A label needs a recording for each of train, valid and test (musiclib.splits.assign_splits).
MIN_RECORDINGS_PER_LABEL = 3


@dataclass
class Dataset:
    """A loaded dataset: its manifest and the files it had to skip.

    Attributes
    ----------
    name : str
        ``"synthetic"`` or the folder the user pointed at.
    kind : str
        ``"synthetic"``, ``"composers"``, ``"gtzan"`` or ``"folder"``.
    root : Path
        The folder whose sub-folders are the labels.
    manifest : pandas.DataFrame
        One row per recording or clip (see the module docstring for the columns).
    skipped : pandas.DataFrame
        Columns ``path`` and ``reason``: every file that could not be used.
    share : str
        What the notebooks took of the dataset (:func:`take_share`), in one or more lines;
        empty when the whole dataset is used.
    """

    name: str
    kind: str
    root: Path
    manifest: pd.DataFrame
    skipped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["path", "reason"])
    )
    share: str = ""

    @property
    def labels(self) -> list[str]:
        """Sorted class names."""
        return sorted(self.manifest["label"].unique())

    def __len__(self) -> int:
        return len(self.manifest)

    def summary(self) -> pd.DataFrame:
        """Per-label table: recordings (groups), rows, total and mean duration in seconds."""
        m = self.manifest
        table = m.groupby("label").agg(
            recordings=("group", "nunique"),
            clips=("track_id", "size"),
            total_s=("duration_s", "sum"),
            mean_s=("duration_s", "mean"),
        )
        table.loc["(all)"] = [
            m["group"].nunique(),
            len(m),
            m["duration_s"].sum(),
            m["duration_s"].mean() if len(m) else 0.0,
        ]
        return table.round({"total_s": 1, "mean_s": 2})

    def describe(self) -> str:
        """The text ``musiclib dataset info`` prints."""
        lines = [
            f"dataset  : {self.name} ({self.kind})",
            f"root     : {self.root}",
            f"labels   : {len(self.labels)}",
            f"rows     : {len(self.manifest)} from {self.manifest['group'].nunique()} recordings",
            f"duration : {_hms(self.manifest['duration_s'].sum())}",
        ]
        if "split" in self.manifest and self.manifest["split"].notna().any():
            counts = self.manifest["split"].value_counts()
            lines.append(
                "split    : prescribed by the dataset ("
                + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("train", "valid", "test"))
                + ")"
            )
        if self.share:
            lines.append(f"share    : {self.share}")
        lines += ["", self.summary().to_string(), ""]
        if len(self.skipped):
            lines.append(f"skipped {len(self.skipped)} file(s):")
            lines += [f"  {p}: {r}" for p, r in zip(self.skipped["path"], self.skipped["reason"])]
        else:
            lines.append("skipped 0 files")
        return "\n".join(lines)

    def load_audio(self, row: int | str | pd.Series, *, sr: int | None = None) -> np.ndarray:
        """The audio of one manifest row (by position, ``track_id`` or the row itself).

        Returns a float32 mono array of shape (n,) at ``sr`` Hz (default 22050), cut to the
        row's ``offset_s`` and ``duration_s``.
        """
        if isinstance(row, str):
            matches = self.manifest.index[self.manifest["track_id"] == row]
            if not len(matches):
                raise KeyError(f"no track_id {row!r} in {self.name}")
            row = self.manifest.loc[matches[0]]
        elif not isinstance(row, pd.Series):
            row = self.manifest.iloc[int(row)]
        return load_row(row, sr=sr or default_settings().sample_rate)


def load_row(row: pd.Series | dict, *, sr: int = 22050) -> np.ndarray:
    """Decode the audio a manifest row stands for: float32, mono, shape (n,), at ``sr`` Hz."""
    return audio.load(
        row["path"],
        sr=sr,
        offset_s=float(row.get("offset_s", 0.0) or 0.0),
        duration_s=float(row["duration_s"]),
    )


# --------------------------------------------------------------------------------------
# Scanning folders


def _hms(seconds: float) -> str:
    seconds = int(round(float(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d} ({seconds} s)"


def _audio_files(folder: Path) -> Iterable[Path]:
    """Supported audio files below ``folder``, sorted, hidden and macOS ``._*`` files left out."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if audio.is_audio_path(path):
                yield path


def _probe(path: Path, full: bool, min_duration_s: float) -> audio.AudioInfo | AudioFileError:
    try:
        if full:
            return audio.check(path, min_duration_s=min_duration_s)
        info = audio.info(path)
        if info.duration_s < min_duration_s:
            raise AudioFileError(
                path, f"too short: {info.duration_s:.2f} s, needs at least {min_duration_s:g} s"
            )
        return info
    except AudioFileError as err:
        return err


def _probe_all(paths: list[Path], *, full: bool, min_duration_s: float, jobs: int, progress: bool):
    """Probe many files; decoding runs in libsndfile, which releases the GIL, so threads do."""
    from joblib import Parallel, delayed

    from .progress import progress as tqdm  # a bar in a terminal, text lines elsewhere

    items = tqdm(paths, desc="checking audio", unit="file", disable=not progress)
    if jobs == 1 or len(paths) < 8:
        return [_probe(p, full, min_duration_s) for p in items]
    return Parallel(n_jobs=jobs, prefer="threads")(
        delayed(_probe)(p, full, min_duration_s) for p in items
    )


def _rows_for_file(
    path: Path,
    info: audio.AudioInfo,
    *,
    track_id: str,
    label: str,
    clip_seconds: float | None,
    min_last_seconds: float,
) -> list[dict]:
    base = {
        "path": str(path),
        "label": label,
        "sample_rate": int(info.sample_rate),
        "group": track_id,
    }
    if not clip_seconds or info.duration_s <= clip_seconds:
        return [{**base, "track_id": track_id, "duration_s": float(info.duration_s), "offset_s": 0.0}]
    offsets = audio.clip_offsets(
        info.duration_s, clip_seconds=clip_seconds, min_last_seconds=min_last_seconds
    )
    return [
        {
            **base,
            "track_id": f"{track_id}@{k:04d}",
            "duration_s": float(min(clip_seconds, info.duration_s - off)),
            "offset_s": float(off),
        }
        for k, off in enumerate(offsets)
    ]


def _manifest(rows: list[dict]) -> pd.DataFrame:
    """The standard columns first, then any a dataset adds (the composers' ``score`` ...)."""
    extra = [c for c in (pd.DataFrame(rows[:1]).columns if rows else []) if c not in MANIFEST_COLUMNS]
    frame = pd.DataFrame(rows, columns=MANIFEST_COLUMNS + extra)
    frame["split"] = frame["split"].astype(object)
    return frame.sort_values(["label", "track_id"], kind="stable").reset_index(drop=True)


def _skipped(items: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(items, columns=["path", "reason"])


def _unique_ids(rel_paths: list[Path]) -> list[str]:
    """Track ids from relative paths: the path without extension, unless two files differ
    only by extension (``song.mp3`` and ``song.wav``), which then keep it."""
    stems = [p.with_suffix("").as_posix() for p in rel_paths]
    seen = pd.Series(stems).duplicated(keep=False).to_numpy()
    return [p.as_posix() if dup else s for p, s, dup in zip(rel_paths, stems, seen)]


def from_folder(
    root: str | os.PathLike,
    *,
    clip_seconds: float | None = None,
    min_last_seconds: float = 0.0,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
    check: bool = True,
    jobs: int = 1,
    progress: bool = False,
    name: str | None = None,
    kind: str = "folder",
) -> Dataset:
    """A dataset from any folder whose sub-folders are labels.

    Files may be nested at any depth below their label folder and be in any supported
    format (see ``musiclib.audio.SUPPORTED_EXTENSIONS``). Files lying directly in ``root``
    have no label and are skipped with that reason.

    Parameters
    ----------
    root : path
        The collection, e.g. ``~/Music/by_composer`` with ``bach/``, ``chopin/``, ...
    clip_seconds : float, optional
        Cut recordings longer than this into clips of this length (seconds). Each clip
        becomes a row with its ``offset_s``; all clips of a recording share its ``group``.
    min_last_seconds : float
        Keep a last, shorter clip only if it has at least this many seconds.
    min_duration_s : float
        Files shorter than this are skipped as too short.
    check : bool
        Decode every file completely to find truncated files and non-finite samples
        (default). ``False`` reads headers only: much faster, finds fewer problems.
    jobs : int
        Files probed at once.

    Returns
    -------
    Dataset

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    paths = list(_audio_files(root))
    skipped: list[tuple[str, str]] = []
    labelled = []
    for p in paths:
        rel = p.relative_to(root)
        if len(rel.parts) < 2:
            skipped.append((str(p), "no label: file lies directly in the dataset folder"))
        else:
            labelled.append(p)
    if not labelled:
        raise DatasetError(
            f"{root}: no audio files in label sub-folders "
            f"(expected {root}/<label>/<file>, formats {', '.join(audio.SUPPORTED_EXTENSIONS)})"
        )
    probes = _probe_all(
        labelled, full=check, min_duration_s=min_duration_s, jobs=jobs, progress=progress
    )
    ids = _unique_ids([p.relative_to(root) for p in labelled])
    rows: list[dict] = []
    for path, track_id, probe in zip(labelled, ids, probes):
        if isinstance(probe, AudioFileError):
            skipped.append((str(path), probe.reason))
            continue
        label = path.relative_to(root).parts[0]
        rows += _rows_for_file(
            path,
            probe,
            track_id=track_id,
            label=label,
            clip_seconds=clip_seconds,
            min_last_seconds=min_last_seconds,
        )
    if not rows:
        raise DatasetError(f"{root}: none of {len(labelled)} audio files could be read")
    return Dataset(
        name=name or str(root), kind=kind, root=root, manifest=_manifest(rows), skipped=_skipped(skipped)
    )


# --------------------------------------------------------------------------------------
# GTZAN


def find_gtzan_root(folder: str | os.PathLike) -> Path | None:
    """The folder that holds GTZAN's genre folders, or None if ``folder`` is not GTZAN.

    Accepts the original layout (``genres/<genre>/<genre>.000NN.au``), the Kaggle layout
    (``Data/genres_original/<genre>/<genre>.000NN.wav``) and the genre folders themselves.
    """
    folder = Path(folder).expanduser().resolve()
    for sub in _GTZAN_GENRE_PARENTS:
        cand = folder / sub if sub else folder
        if not cand.is_dir():
            continue
        genres = [d for d in cand.iterdir() if d.is_dir() and d.name in GTZAN_GENRES]
        if len(genres) < 2:
            continue
        if any(_GTZAN_FILE.match(f.name) for g in genres for f in g.iterdir()):
            return cand
    return None


def _find_split_lists(folder: Path, genre_root: Path) -> dict[str, Path]:
    """GTZAN's standard split lists in the user's folder, the genre folder or just below."""
    found: dict[str, Path] = {}
    places = [folder, genre_root, genre_root.parent]
    places += [d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")]
    for place in places:
        for split, fname in GTZAN_SPLIT_FILES.items():
            if split not in found and (place / fname).is_file():
                found[split] = place / fname
    return found


def _read_split_list(path: Path) -> set[str]:
    """Track stems (``blues.00029``) named in one split list, whatever path style it uses."""
    stems = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name = Path(line.split()[0]).name
            stems.add(name[: -len(Path(name).suffix)] if Path(name).suffix in (".wav", ".au") else name)
    return stems


def from_gtzan(
    folder: str | os.PathLike,
    *,
    clip_seconds: float | None = None,
    check: bool = True,
    jobs: int = 1,
    progress: bool = False,
) -> Dataset:
    """GTZAN (1000 clips of 30 s, 10 genres) in any of its common layouts.

    macOS ``._*`` files are ignored; files that cannot be decoded (``jazz.00054.wav`` in
    most copies) are skipped with their reason. When the folder holds the standard
    fault-filtered split lists (``train_filtered.txt``, ``valid_filtered.txt``,
    ``test_filtered.txt``), their split is written to the ``split`` column and tracks the
    lists leave out are skipped, as the filtered protocol asks.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    folder = Path(folder).expanduser().resolve()
    genre_root = find_gtzan_root(folder)
    if genre_root is None:
        raise DatasetError(f"{folder}: not a GTZAN folder (no genre folders with <genre>.000NN files)")
    ds = from_folder(
        genre_root, clip_seconds=clip_seconds, check=check, jobs=jobs, progress=progress,
        name=str(folder), kind="gtzan",
    )
    m = ds.manifest
    # GTZAN's track ids are its file stems: "blues.00012".
    stems = m["path"].map(lambda p: Path(p).stem)
    # keep the "@0003" clip suffix that from_folder gave clips of long recordings
    m["track_id"] = [stem + t[len(g):] for t, g, stem in zip(m["track_id"], m["group"], stems)]
    m["group"] = stems
    skipped = ds.skipped.copy()
    for stem, note in GTZAN_KNOWN_BAD.items():
        known = skipped["path"].map(lambda p: Path(p).stem) == stem
        skipped.loc[known, "reason"] = skipped.loc[known, "reason"] + f" ({note})"

    lists = _find_split_lists(folder, genre_root)
    if lists:
        if set(lists) != set(GTZAN_SPLIT_FILES):
            missing = sorted(set(GTZAN_SPLIT_FILES) - set(lists))
            raise DatasetError(
                f"{folder}: found {', '.join(p.name for p in lists.values())} but not the "
                f"{' / '.join(GTZAN_SPLIT_FILES[s] for s in missing)} list"
            )
        stem_split = {}
        for split, path in lists.items():
            for stem in _read_split_list(path):
                stem_split[stem] = split
        m["split"] = m["group"].map(stem_split).astype(object)
        left_out = m["split"].isna()
        extra = [(p, "left out by the fault-filtered split lists") for p in m.loc[left_out, "path"].unique()]
        skipped = pd.concat([skipped, _skipped(extra)], ignore_index=True)
        m = m.loc[~left_out].reset_index(drop=True)
    ds.manifest = _manifest(m.to_dict("records"))
    ds.skipped = skipped
    return ds


# --------------------------------------------------------------------------------------
# The notebooks' share of a dataset


def _pick_groups(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> list:
    """The groups of one label in the order they are drawn: shuffled by ``rng``; when the
    dataset prescribes a split, interleaved so that each side gets its share of the first
    ``n`` (at least one group per side that has any)."""
    if "split" not in frame or frame["split"].isna().any():
        groups = np.array(sorted(frame["group"].unique()), dtype=object)
        return list(rng.permutation(groups))
    sides = {side: list(rng.permutation(np.array(sorted(rows["group"].unique()), dtype=object)))
             for side, rows in frame.groupby("split", sort=True)}
    total = sum(len(g) for g in sides.values())
    quota = {side: max(1, int(round(n * len(g) / total))) for side, g in sides.items()}
    first = [g for side, groups in sides.items() for g in groups[: quota[side]]]
    rest = [g for side, groups in sides.items() for g in groups[quota[side]:]]
    return first + list(rng.permutation(np.array(rest, dtype=object)))


def _excerpt(row: dict, seconds: float | None) -> dict:
    """The row cut to at most ``seconds`` from the middle of what it stands for."""
    if seconds is None or row["duration_s"] <= seconds:
        return row
    start = float(row["offset_s"] or 0.0) + (row["duration_s"] - seconds) / 2
    return {**row, "offset_s": round(start, 3), "duration_s": float(seconds)}


def take_share(
    dataset: Dataset,
    *,
    recordings_per_label: int | None,
    seconds_per_recording: float | None,
    seed: int = 0,
    check: bool = True,
    min_recordings: int = MIN_RECORDINGS_PER_LABEL,
    profile_name: str = "",
) -> Dataset:
    """The part of a dataset a notebook uses: a few recordings per label, a few seconds each.

    A profile's notebooks must take about the same time on a folder of 50 recordings and on
    one of 5000. Recordings (groups) are drawn per label with ``seed``, so clips of one
    recording stay together and the split by recording stays honest; a dataset's own split
    (GTZAN's fault-filtered lists) keeps every side of every label. A recording cut into
    several clips keeps its middle clip. Labels with fewer than ``min_recordings``
    recordings cannot be split into train, valid and test and are left out, named in
    ``Dataset.share``.

    Parameters
    ----------
    dataset : Dataset
        Loaded with ``check=False`` (headers only) when ``check`` is True here: only the
        drawn files are then decoded in full, and one that fails is replaced by the next
        recording of its label.
    recordings_per_label : int or None
        At most this many recordings (groups) per label; None keeps all.
    seconds_per_recording : float or None
        At most this many seconds of each row (an excerpt from its middle); None keeps all.
    seed : int
        Draws the recordings.
    check : bool
        Decode every drawn file completely (:func:`musiclib.audio.check`).

    Returns
    -------
    Dataset
        A new dataset; its ``share`` says in words what was taken, e.g.
        ``"fast: 50 of 284 recordings (10 per label), at most 10 s of each; full uses all"``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    m = dataset.manifest
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    skipped = list(zip(dataset.skipped["path"], dataset.skipped["reason"]))
    rows: list[dict] = []
    checked: set[str] = set()  # drawn files decoded in full (when ``check``)
    unusable: set[str] = set()
    for label in sorted(m["label"].unique()):
        frame = m[m["label"] == label]
        n_groups = frame["group"].nunique()
        wanted = n_groups if recordings_per_label is None else min(recordings_per_label, n_groups)
        taken: list = []
        for group in _pick_groups(frame, wanted, rng):
            if len(taken) == wanted:
                break
            clips = frame[frame["group"] == group]
            path = clips["path"].iloc[0]
            if check and path not in checked:
                checked.add(path)
                try:
                    audio.check(path, min_duration_s=DEFAULT_MIN_DURATION_S)
                except AudioFileError as err:
                    unusable.add(path)
                    skipped.append((path, err.reason))
            if path not in unusable:
                taken.append(clips.iloc[len(clips) // 2] if seconds_per_recording else clips)
        if len(taken) < min_recordings:
            notes.append(f"left out label {label!r}: {len(taken)} usable recording(s), the split by "
                         f"recording needs at least {min_recordings} (train, valid, test)")
            continue
        for item in taken:
            records = [item.to_dict()] if isinstance(item, pd.Series) else item.to_dict("records")
            rows += [_excerpt(r, seconds_per_recording) for r in records]
    if not rows:
        raise DatasetError(f"{dataset.name}: no label has {min_recordings} usable recordings to split")
    out = _manifest(rows)
    n_all, n_taken = m["group"].nunique(), out["group"].nunique()
    per_label = out.groupby("label")["group"].nunique()
    counts = (f"{per_label.iloc[0]} per label" if per_label.nunique() == 1
              else f"{per_label.min()} to {per_label.max()} per label")
    what = f"{n_taken} of {n_all} recordings ({counts})"
    if seconds_per_recording is not None:
        what += f", at most {seconds_per_recording:g} s of each (from its middle)"
    prefix = f"{profile_name}: " if profile_name else ""
    lines = [prefix + what + ("; full uses all" if profile_name and profile_name != "full" else "")] + notes
    return Dataset(name=dataset.name, kind=dataset.kind, root=dataset.root, manifest=out,
                   skipped=_skipped(skipped).drop_duplicates(ignore_index=True), share="\n".join(lines))


# --------------------------------------------------------------------------------------
# The built-in datasets and the one entry point


def _with(settings: Settings | None, profile: str | None, seed: int | None) -> Settings:
    """The settings (default: from the environment) with the profile and seed asked for."""
    s = settings or default_settings()
    if profile is not None:
        s = s.replace(profile=profile)
    return s if seed is None else s.replace(seed=seed)


def synthetic(
    settings: Settings | None = None,
    *,
    profile: str | None = None,
    seed: int | None = None,
    out_dir: str | os.PathLike | None = None,
    jobs: int = 1,
    progress: bool = False,
    **synth_options,
) -> Dataset:
    """The built-in synthetic styles, rendered on first use and reused afterwards.

    The data is **synthetic**: procedurally composed and rendered music (see
    ``musiclib.synth``), deterministic for a profile and seed. It lives in
    ``settings.synthetic_dir`` unless ``out_dir`` says otherwise.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    from . import synth

    s = _with(settings, profile, seed)
    folder = Path(out_dir) if out_dir else s.synthetic_dir
    synth.write_dataset(
        folder, profile=s.profile, seed=s.seed, jobs=jobs, progress=progress, **synth_options
    )
    # Rendered by us and checked as they were written: headers are enough. Long recordings
    # (if the profile asks for them) are cut into clips of the profile's clip length.
    return from_folder(
        folder, check=False, name="synthetic", kind="synthetic", clip_seconds=s.profile.clip_seconds
    )


def composers(
    settings: Settings | None = None,
    *,
    profile: str | None = None,
    seed: int | None = None,
    out_dir: str | os.PathLike | None = None,
    jobs: int = 1,
    progress: bool = False,
) -> Dataset:
    """The built-in composers dataset, rendered on first use and reused afterwards.

    Real compositions from music21's corpus (Bach chorales, Palestrina, Monteverdi, the
    Trecento, classical string quartets, Irish, German and Chinese folk tunes) performed by
    musiclib's instruments (see ``musiclib.composers``): the music is real, the instruments
    and rooms are not. One file per piece, cut into clips of the profile's clip length; every
    clip keeps its piece as ``group``. The manifest has the columns ``piece``, ``score``,
    ``number``, ``score_offset_s``, ``instruments`` and ``licence`` besides the usual ones.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    from . import composers as comp

    s = _with(settings, profile, seed)
    folder = Path(out_dir) if out_dir else s.composers_dir
    comp.write_dataset(folder, profile=s.profile, seed=s.seed, cache_dir=s.score_cache_dir,
                       jobs=jobs, progress=progress)
    ds = from_folder(folder, check=False, name="composers", kind="composers",
                     clip_seconds=s.profile.clip_seconds)
    meta = comp.read_marker(folder) or {}
    skipped = pd.DataFrame([(f"{k['score']}" + (f"#{k['number']}" if k.get("number") is not None else ""),
                             k["reason"]) for k in meta.get("skipped", [])], columns=["path", "reason"])
    return Dataset(name=ds.name, kind=ds.kind, root=ds.root,
                   manifest=comp.manifest_extras(folder, ds.manifest),
                   skipped=pd.concat([ds.skipped, skipped], ignore_index=True) if len(skipped) else ds.skipped)


def load(
    dataset: str | os.PathLike | None = None,
    *,
    settings: Settings | None = None,
    clip_seconds: float | None = None,
    check: bool = True,
    jobs: int = 1,
    progress: bool = False,
    share: bool | None = None,
) -> Dataset:
    """Load the dataset a notebook or command asks for.

    With ``share`` (default: ``settings.share`` when settings are given, as the notebooks
    do; False without settings), the result is the profile's share of the dataset
    (:func:`take_share`): at most ``profile.recordings_per_label`` recordings per label and
    ``profile.seconds_per_recording`` seconds of each, and no label with too few recordings
    to split. The ``musiclib`` command loads every recording.

    Parameters
    ----------
    dataset : str or path, optional
        ``"synthetic"`` (the built-in styles), ``"composers"`` (the built-in real
        compositions), a GTZAN folder, or any folder whose sub-folders are labels. Default:
        ``settings.dataset`` (from ``MUSICLIB_DATASET``).
    settings : Settings, optional
        Default: ``musiclib.config.settings()``.
    clip_seconds : float, optional
        Cut longer recordings into clips of this many seconds (folders and GTZAN).
    share : bool, optional
        Take the profile's share (see above) or every recording.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    if share is None:
        share = settings is not None and settings.share
    s = settings or default_settings()
    name = str(dataset) if dataset is not None else s.dataset
    if name.lower() == "synthetic":
        ds = synthetic(s, jobs=jobs, progress=progress)
    elif name.lower() == "composers":
        ds = composers(s, jobs=jobs, progress=progress)
    else:
        folder = Path(name).expanduser()
        if not folder.exists():
            raise DatasetError(f"{folder}: no such folder (and not a built-in name: 'synthetic', 'composers')")
        # With a share to take, read headers now and decode only the files drawn.
        read = from_gtzan if find_gtzan_root(folder) is not None else from_folder
        ds = read(folder, clip_seconds=clip_seconds, check=check and not share, jobs=jobs, progress=progress)
    if not share:
        return ds
    p = s.profile
    return take_share(ds, recordings_per_label=p.recordings_per_label,
                      seconds_per_recording=p.seconds_per_recording, seed=s.seed,
                      check=check and ds.kind not in BUILT_IN_DATASETS, profile_name=p.name)


__all__ = [
    "Dataset",
    "GTZAN_GENRES",
    "composers",
    "MANIFEST_COLUMNS",
    "find_gtzan_root",
    "from_folder",
    "from_gtzan",
    "load",
    "load_row",
    "synthetic",
    "take_share",
]
