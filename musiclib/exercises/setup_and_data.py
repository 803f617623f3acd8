"""Checks for the exercises of notebook 00 · Setup and data."""

from __future__ import annotations

import pandas as pd

from .feedback import Feedback, compare_number, compare_set, registers

__all__ = ["check_total_seconds", "check_clips_per_style", "check_moved_recordings"]


@registers("00.1", "seconds of audio in the dataset")
def check_total_seconds(total_seconds, manifest: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``total_seconds``: the seconds of audio in every row of ``manifest`` together."""
    return compare_number(
        "00.1", total_seconds, float(manifest["duration_s"].sum()), what="total_seconds", unit="s",
        hint="add up the duration_s column of dataset.manifest, or read the (all) row of dataset.summary().",
        quiet=quiet)


@registers("00.2", "clips per style of a profile")
def check_clips_per_style(clips, profile: str = "tiny", *, quiet: bool = False) -> Feedback:
    """``clips``: how many clips per style the synthetic dataset of ``profile`` has."""
    from ..config import PROFILES

    return compare_number(
        "00.2", clips, PROFILES[profile].clips_per_style, what=f"clips per style in {profile!r}", rtol=0,
        hint=f'look at ml.config.settings(profile="{profile}").profile, or ml.config.PROFILES.', quiet=quiet)


@registers("00.3", "recordings that change side with another split seed")
def check_moved_recordings(
    moved, manifest: pd.DataFrame, *, seeds: tuple[int, int], valid_size: float = 0.2,
    test_size: float = 0.2, quiet: bool = False,
) -> Feedback:
    """``moved``: the ``group`` of every recording whose split differs between the two seeds.

    ``manifest`` is the dataset's manifest before splitting; the check splits it with each
    seed itself.
    """
    from ..splits import assign_splits

    a, b = (assign_splits(manifest, valid_size=valid_size, test_size=test_size, seed=s) for s in seeds)
    side_a = a.groupby("group")["split"].first()
    side_b = b.groupby("group")["split"].first().reindex(side_a.index)
    expected = side_a.index[side_a != side_b]
    return compare_set(
        "00.3", moved, expected, what="recordings that changed side",
        hint="split with both seeds, then keep the group values whose split column differs "
             "(compare the two tables row by row: assign_splits keeps the order of the manifest).",
        quiet=quiet)
