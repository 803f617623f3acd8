"""Training from the on-disk feature cache in batches, for datasets larger than memory.

GTZAN-sized data cut into segments does not fit comfortably in a laptop's memory once it is
a log-mel spectrogram: 1000 clips x 10 segments x (130 frames x 128 bands) float32 is 665 MB,
and ``model.fit`` on numpy arrays copies it again (and again per augmented copy). This
module keeps the segments in one float32 ``.npy`` file on disk and reads them a batch at a
time:

1. :func:`segments_to_disk` writes the segments of one frame feature (optionally as dB) into
   a ``.npy`` file, chunk by chunk, and opens it memory-mapped, read-only.
2. :class:`SegmentSequence` (a ``keras.utils.PyDataset``) serves batches of chosen rows of
   that file: the train, validation and test sides are index sets into one shared file,
   never copies of it.
3. :func:`fit_streaming` and :func:`predict_streaming` train and predict with them, the way
   :func:`musiclib.train.fit` and :func:`musiclib.evaluate.predict_proba` do with arrays.

Memory then holds the model, one batch (plus Keras' small prefetch queue) and whatever
pages of the file the operating system keeps cached: those are file-backed and clean, so
the kernel drops them under pressure instead of swapping or killing the process.

``import musiclib.streaming`` does not import TensorFlow; :class:`SegmentSequence` is
created on first use (it must subclass ``keras.utils.PyDataset``).

Taught in ``notebooks/06_mel_cnn_augmentation.ipynb`` (the mel-spectrogram CNN); measured in
``benchmarks/streaming.py``.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import MusiclibError
from .tf_log import import_keras as _import_keras

TRANSFORMS = (None, "log")
_CHUNK_BYTES = 32 * 2**20  # rows transformed at a time by segments_to_disk: ~32 MB


# ------------------------------------------------------------------------------------------
# Segments on disk


def segments_to_disk(
    feature_set,
    name: str,
    path: str | os.PathLike,
    *,
    track_ids=None,
    transform: str | None = None,
    hop_seconds: float | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Write the segments of one frame feature into a float32 ``.npy`` file and map it.

    The segments are streamed clip by clip into a memory-mapped file
    (``FeatureSet.segments(name, out=...)``), then, for ``transform="log"``, turned into
    decibels ``10 * log10(max(x, 1e-10))`` a chunk of rows (~32 MB) at a time: memory never
    holds the whole array. The file is written under a temporary name in the same folder
    and renamed into place (``musiclib.safe_write.temporary_file``), so a reader never
    sees a half-written file and an interrupted run leaves only a temporary file that
    ``musiclib.safe_write.clean_stale`` recognises.

    Parameters
    ----------
    feature_set : musiclib.features.FeatureSet
        From ``musiclib.features.extract_dataset``, with ``name`` stored.
    name : str
        Frame feature, e.g. ``"mfcc"`` or ``"mel"`` (a power mel spectrogram).
    path : path
        The ``.npy`` file to write (its folder is created).
    track_ids : list of str, optional
        Only these rows, in this order (default: all, in ``feature_set.summaries`` order).
    transform : {None, "log"}
        ``"log"``: power to dB, as above (for ``"mel"``: the log-mel spectrogram).
    hop_seconds : float, optional
        Seconds between segment starts (default: the segment length, no overlap).

    Returns
    -------
    X : np.memmap, float32, shape (n_segments, frames_per_segment, rows), read-only
        ``np.load(path, mmap_mode="r")``.
    meta : pandas.DataFrame
        One row per segment (see ``FeatureSet.segments``): ``track_id``, ``label``,
        ``group``, ``split``, ``segment``, ``start_s``.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from . import features, safe_write

    if transform not in TRANSFORMS:
        raise MusiclibError(f"transform must be None or 'log', got {transform!r}")
    path = Path(path).expanduser()
    with safe_write.temporary_file(path) as tmp:
        X, meta = feature_set.segments(name, track_ids=track_ids, out=tmp, hop_seconds=hop_seconds)
        if transform == "log" and len(X):
            # in place on the file, about _CHUNK_BYTES at a time: memory never holds it all
            row_bytes = max(1, int(np.prod(X.shape[1:])) * X.itemsize)
            features.power_to_db(X, out=X, chunk_rows=max(1, _CHUNK_BYTES // row_bytes))
        X.flush()
        del X  # unmap before the rename
    return np.load(path, mmap_mode="r"), meta


def _file_backed(x):
    """``(filename, offset)`` when ``x`` is a whole, C-ordered np.memmap of a file, else None.

    That is what ``np.load(path, mmap_mode="r")`` returns; a view of one (a slice, a
    transpose) has its parent memmap, not the ``mmap.mmap``, as its ``base``.
    """
    if (isinstance(x, np.memmap) and isinstance(x.base, mmap.mmap) and getattr(x, "filename", None)
            and x.flags.c_contiguous and x.ndim >= 1
            and getattr(x, "mode", "r") != "c"):  # copy-on-write: the file is not the data
        return x.filename, int(x.offset)
    return None


def _read_rows(x, rows: np.ndarray, filename: str, offset: int, fd: int | None = None) -> np.ndarray:
    """Rows of a file-backed memmap read with ``os.preadv`` straight into a new array.

    Same bytes as ``x[rows]``, but nothing of the file is mapped into this process: reading
    through the mapping would leave every page it touched resident in the process (file
    pages count in RSS, and the kernel maps whole neighbourhoods around each row), so after
    an epoch RSS would include the whole file. With ``preadv`` the file's pages stay in the
    kernel's page cache only. ``fd``: an open descriptor of the file (else it is opened
    for this read).
    """
    out = np.empty((len(rows),) + x.shape[1:], dtype=x.dtype)
    row_bytes = out[0].nbytes if len(rows) else 0
    flat = out.reshape(len(rows), -1).view(np.uint8)
    # runs of consecutive rows: one read each
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = np.concatenate(([0], breaks)) if len(rows) else []
    stops = np.concatenate((breaks, [len(rows)])) if len(rows) else []
    own = fd is None
    if own:
        fd = os.open(filename, os.O_RDONLY)
    try:
        for a, b in zip(starts, stops):
            view = memoryview(flat[a:b]).cast("B")
            pos = offset + int(rows[a]) * row_bytes
            done = 0
            while done < len(view):  # preadv may return less than asked
                n = os.preadv(fd, [view[done:]], pos + done)
                if n <= 0:
                    raise OSError(f"{filename}: unexpected end of file")
                done += n
    finally:
        if own:
            os.close(fd)
    return out


def _gather(x, rows: np.ndarray, fd: int | None = None) -> np.ndarray:
    """Rows ``rows`` (sorted, int64) of ``x`` as a new float32 array.

    Reads only those rows, never ``np.asarray(x)``: from the file of a memmap opened by
    ``np.load(mmap_mode="r")`` with :func:`_read_rows` (nothing stays mapped), otherwise
    with ``x[rows]`` (numpy fancy indexing), or one slice when the rows are consecutive.
    """
    backed = _file_backed(x) if hasattr(os, "preadv") else None
    if backed is not None:
        return np.asarray(_read_rows(x, rows, *backed, fd=fd), dtype=np.float32)
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1:  # consecutive: one slice
        # a slice of a memmap is a view of the file: copy it (and drop the memmap type)
        return np.array(x[int(rows[0]) : int(rows[-1]) + 1], dtype=np.float32, copy=True, subok=False)
    # fancy indexing already copies; asarray only drops the memmap type (or converts dtype)
    return np.asarray(x[rows], dtype=np.float32)


def sample_rows(x, *, indices=None, n: int = 512, seed: int = 0) -> np.ndarray:
    """A random sample of ``n`` rows of ``x`` (among ``indices``) as a float32 array.

    What a model builder needs from the training side when the side lives on disk: the
    input shape and a few hundred examples to adapt its ``Normalization`` layer on (its
    mean and variance per band settle within a fraction of a dB on 512 segments).

    Returns
    -------
    np.ndarray, float32, shape (min(n, len(indices)), ...), rows in ascending file order.
    """
    rows = np.arange(x.shape[0]) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(rows) > n:
        rows = np.random.default_rng(seed).choice(rows, size=n, replace=False)
    return _gather(x, np.sort(rows))


# ------------------------------------------------------------------------------------------
# The sequence (created on first use: it subclasses keras.utils.PyDataset)


def _memmap_state(x):
    """``(filename, dtype, shape, offset)`` of a whole file-backed np.memmap, else None."""
    backed = _file_backed(x)
    if backed is None:
        return None
    return (str(backed[0]), x.dtype.str, tuple(x.shape), backed[1])


def _define_segment_sequence():
    keras = _import_keras()

    class SegmentSequence(keras.utils.PyDataset):
        """Batches of segments read from an array or a memory-mapped ``.npy`` file.

        Parameters
        ----------
        x : np.ndarray or np.memmap, shape (n, frames, bins)
            All segments (e.g. every side of the split in one file from
            :func:`segments_to_disk`); only the rows of ``indices`` are served, and only
            one batch of them is read at a time.
        y : array of int, shape (n,)
            Labels of every row of ``x``.
        batch_size : int
        shuffle : bool
            Serve the rows in a new random order every epoch (a seeded
            ``np.random.Generator``: the same ``seed`` gives the same orders).
        seed : int
        indices : array of int, optional
            The rows of ``x`` this sequence serves (default all), e.g. the train side.
        workers, use_multiprocessing, max_queue_size
            ``keras.utils.PyDataset``'s: read batches ahead in threads or processes (a
            memmap is reopened from its file in a worker process, not copied).
        augment : callable, optional
            ``augment(x_batch) -> x_batch`` on each batch's float32 numpy inputs.

        Each batch reads its rows in ascending file order (sequential disk reads) and
        returns ``(x_batch, y_batch)`` as new arrays: float32 ``(b, frames, bins)`` and
        int64 ``(b,)``, in that ascending order (:meth:`batch_indices` says which rows).
        Without shuffling, batch ``i`` holds ``indices[i * batch_size : (i + 1) * batch_size]``.
        A memmap from ``np.load(path, mmap_mode="r")`` is read through its file
        (``os.preadv`` on a descriptor opened here), so its pages are never mapped into the
        process and resident memory stays flat however large the file is.

        Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
        """

        def __init__(self, x, y, *, batch_size=32, shuffle=True, seed=0, indices=None,
                     workers=1, use_multiprocessing=False, max_queue_size=10, augment=None):
            super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                             max_queue_size=max_queue_size)
            shape = getattr(x, "shape", None)
            if shape is None or len(shape) < 2:
                raise MusiclibError("SegmentSequence: x must be an array of shape (n, ...)")
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != shape[0]:
                raise MusiclibError(
                    f"SegmentSequence: y must have one label per row of x ({shape[0]}), "
                    f"got shape {y.shape}"
                )
            if int(batch_size) < 1:
                raise MusiclibError(f"SegmentSequence: batch_size must be >= 1, got {batch_size}")
            rows = np.arange(shape[0], dtype=np.int64) if indices is None else np.asarray(indices)
            if rows.ndim != 1 or (len(rows) and not np.issubdtype(rows.dtype, np.integer)):
                raise MusiclibError("SegmentSequence: indices must be a 1-d array of row numbers")
            rows = rows.astype(np.int64)
            if len(rows) and (rows.min() < 0 or rows.max() >= shape[0]):
                raise MusiclibError(f"SegmentSequence: indices must lie in 0..{shape[0] - 1}")
            self.x = x
            self.y = y
            self.indices = rows
            self.batch_size = int(batch_size)
            self.shuffle = bool(shuffle)
            self.seed = int(seed)
            self.augment = augment
            self._open_file()
            self.reset()

        def _open_file(self) -> None:
            # Reads of a file-backed memmap go through this descriptor, opened now: the
            # file read is the one mapped, even if the path is replaced during training.
            backed = _file_backed(self.x) if hasattr(os, "preadv") else None
            self._fd = os.open(backed[0], os.O_RDONLY) if backed else None

        def __del__(self):
            fd = getattr(self, "_fd", None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                self._fd = None

        # -- order -------------------------------------------------------------------------

        def reset(self) -> None:
            """Back to the first epoch's order (a new generator from ``seed``)."""
            self._rng = np.random.default_rng(self.seed)
            self.epoch = 0
            self._order = self._rng.permutation(self.indices) if self.shuffle else self.indices

        def on_epoch_end(self) -> None:
            self.epoch += 1
            if self.shuffle:
                self._order = self._rng.permutation(self.indices)

        def batch_indices(self, i: int) -> np.ndarray:
            """Rows of ``x`` in batch ``i`` of the current epoch, ascending."""
            n = len(self)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"batch {i} out of range (0..{n - 1})")
            return np.sort(self._order[i * self.batch_size : (i + 1) * self.batch_size])

        # -- PyDataset ---------------------------------------------------------------------

        def __len__(self) -> int:
            return math.ceil(len(self.indices) / self.batch_size)

        @property
        def num_batches(self):
            return len(self)

        @property
        def n_rows(self) -> int:
            """Rows served per epoch."""
            return len(self.indices)

        def __getitem__(self, i):
            rows = self.batch_indices(int(i))
            xb = _gather(self.x, rows, self._fd)
            if self.augment is not None:
                xb = np.asarray(self.augment(xb), dtype=np.float32)
            return xb, self.y[rows].astype(np.int64)

        # -- pickling (worker processes): reopen a memmap from its file, never copy it ----

        def __getstate__(self):
            state = self.__dict__.copy()
            state["_fd"] = None
            spec = _memmap_state(self.x)
            if spec is not None:
                state["x"] = None
                state["_memmap_spec"] = spec
            return state

        def __setstate__(self, state):
            spec = state.pop("_memmap_spec", None)
            self.__dict__.update(state)
            if spec is not None:
                filename, dtype, shape, offset = spec
                self.x = np.memmap(filename, dtype=np.dtype(dtype), mode="r", shape=shape,
                                   offset=offset)
            self._open_file()

    SegmentSequence.__module__ = __name__
    SegmentSequence.__qualname__ = "SegmentSequence"
    return SegmentSequence


def __getattr__(name: str):
    if name == "SegmentSequence":
        cls = _define_segment_sequence()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"SegmentSequence"})


# ------------------------------------------------------------------------------------------
# Training and prediction


def fit_streaming(
    model,
    train,
    *,
    validation=None,
    epochs: int = 100,
    patience: int = 10,
    class_weight: dict | None = None,
    seed: int = 0,
    verbose: int = 0,
):
    """Fit ``model`` on batches read by ``train``, like :func:`musiclib.train.fit` on arrays.

    Early stopping on the validation loss (the training loss without ``validation``),
    restoring the best weights. Everything random is seeded (``musiclib.train.set_seed``),
    and ``train`` (and ``validation``) start again from their first epoch's order
    (``SegmentSequence.reset``), so the same seeds give the same model twice. Keras' own
    batch shuffling is off: the sequence shuffles rows itself.

    Parameters
    ----------
    model : keras.Model
        Compiled.
    train : SegmentSequence
        The training rows (``shuffle=True`` for training).
    validation : SegmentSequence, optional
        Usually ``shuffle=False``.
    epochs, patience, class_weight, seed, verbose
        As in :func:`musiclib.train.fit`.

    Returns
    -------
    musiclib.train.FitResult

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from .train import fit_early_stopped

    for seq in (train, validation):
        if seq is not None and hasattr(seq, "reset"):
            seq.reset()
    return fit_early_stopped(
        model, train, validation_data=validation, epochs=epochs, patience=patience,
        class_weight=class_weight, seed=seed, verbose=verbose,
        shuffle=False,  # the sequence shuffles its rows; Keras would shuffle batch order
    )


def predict_streaming(model, x, *, indices=None, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of ``model`` for rows of ``x``, read a batch at a time.

    Like :func:`musiclib.evaluate.predict_proba` (the model called in inference mode), but
    ``x`` may be a memmap larger than memory: each batch's rows are read in ascending file
    order and the results put back in the order of ``indices``.

    Parameters
    ----------
    x : np.ndarray or np.memmap, shape (n, ...)
    indices : array of int, optional
        Rows to predict, in the order wanted (default all).

    Returns
    -------
    np.ndarray, float32, shape (len(indices), n_classes)

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    keras = _import_keras()

    rows = np.arange(x.shape[0], dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
    n_out = model.output_shape[-1]
    out = np.empty((len(rows), n_out), dtype=np.float32)
    backed = _file_backed(x) if hasattr(os, "preadv") else None
    fd = os.open(backed[0], os.O_RDONLY) if backed else None
    try:
        for start in range(0, len(rows), int(batch_size)):
            chunk = rows[start : start + int(batch_size)]
            order = np.argsort(chunk, kind="stable")
            xb = _gather(x, chunk[order], fd)
            proba = keras.ops.convert_to_numpy(model(xb, training=False))
            out[start + order] = proba
    finally:
        if fd is not None:
            os.close(fd)
    return out


__all__ = [
    "SegmentSequence",
    "TRANSFORMS",
    "fit_streaming",
    "predict_streaming",
    "sample_rows",
    "segments_to_disk",
]
