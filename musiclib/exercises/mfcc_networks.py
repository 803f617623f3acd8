"""Checks for the exercises of notebook 05 · Networks on MFCC segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .feedback import Feedback, as_number, compare_number, describe, registers, right, tell, wrong

__all__ = ["check_parameter_extremes", "check_layer_parameters", "check_deeper_ann", "check_bidirectional_lstm"]


def _pick(answer, names: list[str], what: str):
    """The option ``answer`` names (case and spaces ignored), or a feedback-ready complaint."""
    if not isinstance(answer, str):
        return None, f"{what} should be an experiment name (a string), got {describe(answer)}"
    given = answer.strip().lower()
    for name in names:
        if name.lower() == given:
            return name, None
    return None, f"{answer!r} is not an experiment of results; choose from {', '.join(names)}"


@registers("05.1", "the largest and the smallest network")
def check_parameter_extremes(most, fewest, results: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``most``, ``fewest``: the ``experiment`` names (strings) of the rows of ``results``
    with the most and the fewest ``parameters``. Ties: any of the tied rows is right."""
    names = [str(n) for n in results["experiment"]]
    count = dict(zip(names, results["parameters"].astype(int)))
    top, bottom = max(count.values()), min(count.values())
    hint = "sort results by its parameters column (results.sort_values(\"parameters\")) and read the experiment column."
    for answer, what, target, word in ((most, "most", top, "most"), (fewest, "fewest", bottom, "fewest")):
        name, complaint = _pick(answer, names, what)
        if complaint:
            return wrong("05.1", f"{complaint}; {hint}", quiet=quiet)
        if count[name] != target:
            return wrong("05.1", f"{name} has {count[name]:,} parameters, not the {word}; {hint}", quiet=quiet)
    tied = [n for n in names if count[n] == top]
    also = f" (tied with {', '.join(t for t in tied if t.lower() != most.strip().lower())})" if len(tied) > 1 else ""
    return right("05.1", f"{most.strip()} has the most, {top:,}{also}; {fewest.strip()} the fewest, {bottom:,}: "
                 f"{top / max(bottom, 1):.0f} times fewer.", quiet=quiet)


@registers("05.2", "parameters of a layer, counted by hand")
def check_layer_parameters(dense_by_hand, conv_by_hand, *, dense_layer, conv_layer, quiet: bool = False) -> Feedback:
    """``dense_by_hand``: weights plus biases of ``dense_layer`` (a built Keras ``Dense``);
    ``conv_by_hand``: the same for ``conv_layer`` (a built Keras ``Conv2D``). Both counts of
    numbers the layer learns, computed from its input size, units / filters and kernel size."""
    checks = (
        (dense_by_hand, dense_layer, "dense_by_hand", int(dense_layer.units),
         "inputs x units weights, plus one bias per unit (the layer's inputs: the flattened segment)"),
        (conv_by_hand, conv_layer, "conv_by_hand", int(conv_layer.filters),
         "kernel height x width x input channels x filters weights, plus one bias per filter"),
    )
    for answer, layer, what, outputs, how in checks:
        expected = int(layer.count_params())
        value = as_number(answer)
        if value is not None and value == expected - outputs:
            return wrong("05.2", f"{what} = {value:.0f} counts the weights but not the {outputs} biases "
                         "(one per unit or filter).", quiet=quiet)
        result = compare_number("05.2", answer, expected, what=what, rtol=0, quiet=True, hint=how + ".")
        if not result.right:
            return tell(result, quiet=quiet)
    return right("05.2", f"{int(dense_layer.count_params()):,} for {dense_layer.name} and "
                 f"{int(conv_layer.count_params()):,} for {conv_layer.name}: a dense layer pays for every "
                 "input, a convolution only for its small kernel, shared across the whole segment.", quiet=quiet)


@registers("05.3", "test accuracy of a deeper ANN")
def check_deeper_ann(deeper_accuracy, *, model, data, quiet: bool = False) -> Feedback:
    """``deeper_accuracy``: the recording-level test accuracy (0-1, mean probability per
    recording) of ``model``, the ANN with a fourth hidden layer of 32 units, on ``data``
    (the :class:`~musiclib.experiments.PreparedData` it was trained on, held in memory)."""
    from ..evaluate import evaluate_split, predict_proba

    widths = [getattr(layer, "units", None) for layer in getattr(model, "layers", [])]
    hidden = [w for w in widths[:-1] if w is not None]
    if 32 not in hidden:
        return wrong("05.3", f"the model's hidden dense layers have {hidden or 'no'} units, no layer of 32; build "
                     "it with ml.models.ann_segments(..., units=(512, 256, 64, 32)).", quiet=quiet)
    if getattr(data, "x", None) is None:
        return wrong("05.3", "data holds no arrays (a streamed run); pass the in-memory data the model was "
                     "trained on.", quiet=quiet)
    proba = predict_proba(model, data.x["test"])
    scores = evaluate_split(proba, data.y["test"], data.meta["test"]["group"])
    expected = scores["accuracy_recording"]
    value = as_number(deeper_accuracy)
    if value is not None and not np.isclose(value, expected, atol=1e-9):
        for key, name in (("accuracy_segment", "the segment accuracy"),
                          ("accuracy_recording_vote", "the accuracy by majority vote")):
            if np.isclose(value, scores[key], atol=1e-9):
                return wrong("05.3", f"{value:.3f} is {name}; report accuracy_recording (mean probability per "
                             "recording), the course's headline number.", quiet=quiet)
    return compare_number("05.3", deeper_accuracy, expected, what="deeper_accuracy", rtol=0, atol=1e-9,
                            hint="predict the test side with ml.evaluate.predict_proba, then take "
                                 "accuracy_recording from ml.evaluate.evaluate_split(proba, y, groups).",
                          praise=f"on {len(np.unique(data.meta['test']['group']))} test recordings.",
                          quiet=quiet)


BILSTM_PARAMETERS = (5_000, 60_000)
"""The trainable-parameter range exercise 05.4 states for its bidirectional LSTM."""


def _layer_kinds(model) -> list[str]:
    """Class names of every layer of ``model``, wrapped layers (``Bidirectional(LSTM)``) included."""
    kinds = []
    for layer in getattr(model, "layers", []):
        kinds.append(type(layer).__name__)
        inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
        if inner is not None:
            kinds.append(type(inner).__name__)
    return kinds


@registers("05.4", "a bidirectional LSTM")
def check_bidirectional_lstm(model, *, x, y, n_classes: int, quiet: bool = False) -> Feedback:
    """``model``: a compiled Keras model that takes segments shaped like ``x[0]`` (frames,
    coefficients), has a ``Bidirectional`` layer wrapping an ``LSTM``, ends in ``n_classes``
    softmax outputs, has between 5 000 and 60 000 trainable parameters, and trains on integer
    labels. The check trains a copy for one epoch on the first 16 segments of ``x``, ``y``
    (the learner's model is left as it was)."""
    import keras

    from ..models import count_parameters

    if not isinstance(model, keras.Model):
        return wrong("05.4", f"model should be a Keras model, got {describe(model)}; end with "
                     "keras.Model(inputs, outputs).", quiet=quiet)
    x = np.asarray(x, dtype=np.float32)
    expected_in = tuple(x.shape[1:])
    given_in = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if given_in != expected_in:
        return wrong("05.4", f"the model takes inputs of shape {given_in}, the segments are {expected_in} "
                     "(frames, coefficients); use keras.Input(shape=x_train.shape[1:]).", quiet=quiet)
    out = model.output_shape
    if isinstance(out, list) or tuple(out[1:]) != (int(n_classes),):
        return wrong("05.4", f"the model's output shape is {out}, not (None, {int(n_classes)}): end with "
                     f"keras.layers.Dense(n_classes, activation=\"softmax\"), one output per label.",
                     quiet=quiet)
    activation = getattr(getattr(model.layers[-1], "activation", None), "__name__", None)
    if activation != "softmax":
        return wrong("05.4", f"the last layer's activation is {activation}, not softmax: the outputs must be "
                     "class probabilities that sum to 1.", quiet=quiet)
    kinds = _layer_kinds(model)
    if "Bidirectional" not in kinds:
        found = "an LSTM, but not wrapped in keras.layers.Bidirectional" if "LSTM" in kinds else "no LSTM"
        return wrong("05.4", f"the model has {found}; read the frames both ways with "
                     "keras.layers.Bidirectional(keras.layers.LSTM(32)).", quiet=quiet)
    if "LSTM" not in kinds:
        return wrong("05.4", "the Bidirectional layer wraps no LSTM; use "
                     "keras.layers.Bidirectional(keras.layers.LSTM(32)).", quiet=quiet)
    low, high = BILSTM_PARAMETERS
    n = count_parameters(model)
    if not low <= n <= high:
        return wrong("05.4", f"the model has {n:,} trainable parameters, outside {low:,}-{high:,}; "
                     "an LSTM of 32 units read both ways and a softmax layer land inside.", quiet=quiet)
    if not getattr(model, "compiled", False):
        return wrong("05.4", "the model is not compiled; call model.compile(optimizer=keras.optimizers.Adam(...), "
                     "loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]).", quiet=quiet)
    try:  # a copy trains, so the learner's weights and optimiser stay untouched
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        copy.compile_from_config(model.get_compile_config())
        history = copy.fit(x[:16], np.asarray(y)[:16], epochs=1, batch_size=16, verbose=0)
        loss = float(history.history["loss"][-1])
    except Exception as err:  # noqa: BLE001 - any training error is feedback, not a traceback
        first = " ".join(str(err).split())[:160]
        return wrong("05.4", f"one epoch of training failed ({type(err).__name__}: {first}); with integer "
                     "labels the loss is \"sparse_categorical_crossentropy\".", quiet=quiet)
    if not np.isfinite(loss):
        return wrong("05.4", f"one epoch of training gave the loss {loss}; check the learning rate and that "
                     "the normalisation was adapted on x_train.", quiet=quiet)
    return right("05.4", f"{n:,} trainable parameters, softmax over {int(n_classes)} labels; one epoch on "
                 f"{min(len(x), 16)} segments ran (loss {loss:.2f}). Both directions of each frame meet in the "
                 "last state: the model sees what came before and after.", quiet=quiet)
