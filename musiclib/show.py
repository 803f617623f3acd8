"""Showing the library's own code in a notebook: the networks, losses and layers are the lesson.

``ml.show.source(ml.models.cnn_mfcc)`` displays the source of a function, class or method
highlighted (IPython's :class:`~IPython.display.Code`); outside a notebook it is plain text.
Taught in ``notebooks/04_segments_leakage_balance.ipynb``, ``05_mfcc_networks.ipynb``,
``06_mel_cnn_augmentation.ipynb`` and
``08_vae_generation.ipynb``.
"""

from __future__ import annotations

import inspect
import textwrap


def source_text(obj) -> str:
    """The source code of ``obj`` (a function, class, method or module), dedented.

    Raises
    ------
    TypeError
        ``obj`` has no Python source (a built-in, or an object made at run time).
    """
    target = obj.fget if isinstance(obj, property) else obj
    try:
        text = inspect.getsource(target)
    except (OSError, TypeError) as err:
        raise TypeError(f"no Python source for {obj!r}: {err}") from None
    return textwrap.dedent(text).rstrip() + "\n"


def source(obj, *, title: str | None = None):
    """Display the highlighted source of ``obj`` and return the display object.

    Parameters
    ----------
    obj : function, class, method or module
        E.g. ``ml.models.cnn_mfcc`` or ``ml.vae.VAE.train_step``.
    title : str, optional
        A comment line put above the code (default: where it lives, ``# musiclib/models.py``).

    Returns
    -------
    IPython.display.Code
        Rendered as highlighted Python in a notebook (and as text in plain output).
    """
    from IPython.display import Code

    target = obj.fget if isinstance(obj, property) else obj
    if title is None:
        module = inspect.getmodule(target)
        path = getattr(module, "__name__", "").replace(".", "/")
        title = f"{path}.py" if path else ""
    header = f"# {title}\n" if title else ""
    return Code(header + source_text(obj), language="python")


__all__ = ["source", "source_text"]
