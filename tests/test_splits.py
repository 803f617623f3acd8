"""Tests of musiclib.splits: group-aware splits, leakage check, balancing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from musiclib import splits
from musiclib.errors import LeakageError, MusiclibError


def make_manifest(groups_per_label, clips_per_group=1, *, seed=0):
    """One row per clip; ``groups_per_label`` is a list (one entry per label) or an int."""
    rng = np.random.default_rng(seed)
    if isinstance(groups_per_label, int):
        groups_per_label = [groups_per_label] * 10
    rows = []
    for i, n_groups in enumerate(groups_per_label):
        label = f"style{i}"
        for g in range(n_groups):
            group = f"{label}.{g:05d}"
            n = clips_per_group if isinstance(clips_per_group, int) else rng.integers(*clips_per_group)
            rows += [(f"{group}-{c}", label, group) for c in range(n)]
    return pd.DataFrame(rows, columns=["track_id", "label", "group"])


@st.composite
def manifests(draw):
    n_labels = draw(st.integers(2, 8))
    groups = draw(st.lists(st.integers(3, 30), min_size=n_labels, max_size=n_labels))
    seed = draw(st.integers(0, 2**16))
    frame = make_manifest(groups, (1, 6), seed=seed)  # 1 to 5 clips per group
    return frame, seed


# --------------------------------------------------------------------------- assign_splits


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests(), st.sampled_from([(0.15, 0.15), (0.0, 0.2), (0.1, 0.3)]))
def test_no_group_on_two_sides_and_every_label_in_train(case, sizes):
    frame, seed = case
    valid_size, test_size = sizes
    out = splits.assign_splits(frame, valid_size=valid_size, test_size=test_size, seed=seed)
    splits.check_no_leakage(out)
    assert out.groupby("group")["split"].nunique().max() == 1
    assert set(out.loc[out.split == "train", "label"]) == set(frame.label)
    expected = {"train", "test"} | ({"valid"} if valid_size else set())
    assert set(out.split) == expected
    # A copy with the same rows, in the same order.
    assert out.index.equals(frame.index)
    assert out.drop(columns="split").equals(frame)
    assert "split" not in frame.columns


def test_proportions_roughly_right_on_a_big_manifest():
    frame = make_manifest(100, (1, 6))
    out = splits.assign_splits(frame, valid_size=0.15, test_size=0.15, seed=1)
    share = out.split.value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.70, abs=0.04)
    assert share["valid"] == pytest.approx(0.15, abs=0.03)
    assert share["test"] == pytest.approx(0.15, abs=0.03)
    # Stratified: each label's share of each side stays near its global share.
    table = splits.class_counts(out)
    per_side = table[list(splits.SPLITS)] / table[list(splits.SPLITS)].sum()
    overall = table["total"] / table["total"].sum()
    assert (per_side.sub(overall, axis=0).abs() < 0.03).all().all()


def test_other_fractions():
    frame = make_manifest(60)
    out = splits.assign_splits(frame, valid_size=0.1, test_size=0.3, seed=0)
    share = out.split.value_counts(normalize=True)
    assert share["test"] == pytest.approx(0.3, abs=0.03)
    assert share["valid"] == pytest.approx(0.1, abs=0.03)


def test_tiny_profile_every_class_on_every_side():
    frame = make_manifest(4)  # the tiny profile: 4 recordings per style
    for seed in range(5):
        out = splits.assign_splits(frame, seed=seed)
        counts = splits.class_counts(out)
        assert (counts["train"] >= 1).all()
        # Documented: with 4 groups per class the sides become one group per class.
        assert (counts["valid"] == 1).all() and (counts["test"] == 1).all()


def test_one_group_per_class_still_splits():
    frame = make_manifest([1, 1, 1, 1, 1, 1], 2)
    with pytest.warns(UserWarning, match="too few groups"):
        out = splits.assign_splits(frame, seed=0)
    splits.check_no_leakage(out)
    assert set(out.split) == set(splits.SPLITS)


def test_deterministic_for_a_seed_and_independent_of_row_order():
    frame = make_manifest(12, (1, 4))
    a = splits.assign_splits(frame, seed=3)
    b = splits.assign_splits(frame, seed=3)
    pd.testing.assert_frame_equal(a, b)
    shuffled = frame.sample(frac=1.0, random_state=0)
    c = splits.assign_splits(shuffled, seed=3)
    pd.testing.assert_series_equal(c.split.sort_index(), a.split)
    d = splits.assign_splits(frame, seed=4)
    assert not d.split.equals(a.split)


def test_valid_size_zero():
    out = splits.assign_splits(make_manifest(10), valid_size=0.0, test_size=0.2)
    assert set(out.split) == {"train", "test"}
    parts = splits.split_frames(out)
    assert list(parts) == list(splits.SPLITS)
    assert parts["valid"].empty and list(parts["valid"].columns) == list(out.columns)


def test_too_few_groups_is_a_one_line_error():
    frame = make_manifest([1, 1], 3)
    with pytest.raises(MusiclibError, match="cannot split 2 group") as info:
        splits.assign_splits(frame)
    assert "\n" not in str(info.value)
    # Two sides are possible with two groups (though one label then misses from train).
    with pytest.warns(UserWarning, match="too few groups to appear in train"):
        out = splits.assign_splits(frame, valid_size=0)
    assert set(out.split) == {"train", "test"}


@pytest.mark.parametrize(
    "kwargs", [{"test_size": 1.0}, {"valid_size": -0.1}, {"valid_size": 0.5, "test_size": 0.5}]
)
def test_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        splits.assign_splits(make_manifest(5), **kwargs)


def test_missing_column_and_empty_values():
    frame = make_manifest(5)
    with pytest.raises(MusiclibError, match="'group'"):
        splits.assign_splits(frame.drop(columns="group"))
    frame.loc[3, "label"] = None
    with pytest.raises(MusiclibError, match="'label' is empty in 1 row"):
        splits.assign_splits(frame)


def test_respect_existing_keeps_a_given_split():
    frame = make_manifest(10)
    given_split = np.where(np.arange(len(frame)) % 10 < 8, "train", "test")
    frame["split"] = given_split
    out = splits.assign_splits(frame, seed=5)
    assert (out.split.to_numpy() == given_split).all()
    fresh = splits.assign_splits(frame, seed=5, respect_existing=False)
    assert set(fresh.split) == set(splits.SPLITS)
    # An all-empty placeholder column is assigned as if absent.
    out = splits.assign_splits(frame.assign(split=None), seed=5)
    assert set(out.split) == set(splits.SPLITS)


def test_respect_existing_rejects_bad_values():
    frame = make_manifest(10)
    frame["split"] = "train"
    frame.loc[0, "split"] = "validation"
    with pytest.raises(MusiclibError, match="'validation'"):
        splits.assign_splits(frame)
    frame.loc[0, "split"] = None
    with pytest.raises(MusiclibError, match="empty in 1 of"):
        splits.assign_splits(frame)


def test_respect_existing_rejects_a_leaking_split():
    frame = make_manifest(5, 2)
    frame["split"] = np.where(np.arange(len(frame)) % 2, "train", "test")
    with pytest.raises(LeakageError):
        splits.assign_splits(frame)


# --------------------------------------------------------------------------- leakage


def test_check_no_leakage_names_the_group_and_sides():
    frame = pd.DataFrame(
        {
            "group": ["blues.00001", "blues.00012", "blues.00012", "rock.00003", "rock.00003"],
            "split": ["train", "train", "test", "valid", "test"],
        }
    )
    with pytest.raises(LeakageError) as info:
        splits.check_no_leakage(frame)
    msg = str(info.value)
    assert msg.startswith("group 'blues.00012' appears in train and test")
    assert "2 leaking groups" in msg and "\n" not in msg
    report = splits.leakage_report(frame)
    assert list(report["group"]) == ["blues.00012", "rock.00003"]
    assert list(report["sides"]) == ["train, test", "valid, test"]
    assert list(report["n_sides"]) == [2, 2]
    splits.check_no_leakage(frame.iloc[[0, 1, 3]])
    assert splits.leakage_report(frame.iloc[[0, 1, 3]]).empty


def test_random_segment_split_leaks_by_design():
    # Many segments per recording: a random row split puts most recordings on two sides.
    segments = make_manifest(10, 10)
    out = splits.random_segment_split(segments, seed=0)
    assert set(out.split) == set(splits.SPLITS)
    share = out.split.value_counts(normalize=True)
    assert share["test"] == pytest.approx(0.15, abs=0.02)
    report = splits.leakage_report(out)
    assert len(report) > segments.group.nunique() / 2
    with pytest.raises(LeakageError):
        splits.check_no_leakage(out)
    # ...while the honest split of the same rows does not.
    splits.check_no_leakage(splits.assign_splits(segments))


# --------------------------------------------------------------------------- balancing


@pytest.mark.parametrize("labels", [["a", "a", "a", "b", "c", "c"], [0, 0, 0, 1, 2, 2]])
def test_class_weights_match_sklearn_balanced(labels):
    weights = splits.class_weights(pd.Series(labels))
    classes = np.unique(labels)
    expected = compute_class_weight("balanced", classes=classes, y=np.asarray(labels))
    assert list(weights) == list(classes)
    assert all(type(k) is type(labels[0]) for k in weights)
    assert np.allclose(list(weights.values()), expected)


def _unbalanced_split_manifest():
    frame = make_manifest([20, 7, 3], 2)
    return splits.assign_splits(frame, seed=0)


@pytest.mark.parametrize("strategy", ["oversample", "undersample"])
def test_balance_training_only_touches_train(strategy):
    frame = _unbalanced_split_manifest()
    out = splits.balance_training(frame, strategy=strategy, seed=0)
    before, after = splits.class_counts(frame), splits.class_counts(out)
    pd.testing.assert_frame_equal(
        out[out.split != "train"], frame[frame.split != "train"]
    )
    train_counts = after["train"]
    assert train_counts.nunique() == 1
    target = before["train"].max() if strategy == "oversample" else before["train"].min()
    assert train_counts.iloc[0] == target
    splits.check_no_leakage(out)
    # Every balanced row is one of the original rows.
    assert set(out.track_id) <= set(frame.track_id)
    if strategy == "oversample":
        assert set(out.track_id) == set(frame.track_id)
    # Deterministic for a seed.
    pd.testing.assert_frame_equal(out, splits.balance_training(frame, strategy=strategy, seed=0))


def test_oversample_spreads_copies_evenly():
    frame = pd.DataFrame(
        {"label": ["a"] * 7 + ["b"] * 2, "group": list("ABCDEFGHI"), "split": "train"}
    )
    out = splits.balance_training(frame, seed=1)
    copies = out[out.label == "b"].group.value_counts()
    assert copies.sum() == 7 and copies.max() - copies.min() <= 1


def test_balance_training_bad_input():
    frame = _unbalanced_split_manifest()
    with pytest.raises(ValueError, match="strategy"):
        splits.balance_training(frame, strategy="smote")
    with pytest.raises(MusiclibError, match="no training rows"):
        splits.balance_training(frame[frame.split == "test"])


def test_class_counts_table():
    frame = _unbalanced_split_manifest()
    table = splits.class_counts(frame)
    assert list(table.columns) == ["train", "valid", "test", "total"]
    assert list(table.index) == ["style0", "style1", "style2"]
    assert (table[list(splits.SPLITS)].sum(axis=1) == table["total"]).all()
    assert table["total"].tolist() == [40, 14, 6]
    bare = splits.class_counts(frame.drop(columns="split"))
    assert list(bare.columns) == ["total"] and bare["total"].sum() == len(frame)


def test_split_frames_rejects_unknown_sides():
    frame = _unbalanced_split_manifest()
    parts = splits.split_frames(frame)
    assert sum(len(p) for p in parts.values()) == len(frame)
    with pytest.raises(MusiclibError, match="run assign_splits"):
        splits.split_frames(frame.drop(columns="split"))
    with pytest.raises(MusiclibError, match="'dev'"):
        splits.split_frames(frame.assign(split="dev"))
