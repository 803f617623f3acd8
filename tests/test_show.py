"""musiclib.show: the library's code, displayed in a notebook."""

import pytest

import musiclib as ml


def test_source_of_a_builder_and_a_method():
    text = ml.show.source_text(ml.models.cnn_mfcc)
    assert text.startswith("def cnn_mfcc(") and "Conv2D" in text
    shown = ml.show.source(ml.experiments.Experiment.__post_init__)
    assert shown.data.startswith("# musiclib/experiments.py\ndef __post_init__(self):")
    assert "<pre" in shown._repr_html_()  # highlighted in a notebook


def test_an_object_without_source_is_refused_in_one_line():
    with pytest.raises(TypeError, match="no Python source"):
        ml.show.source_text(len)
