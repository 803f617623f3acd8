"""A variational autoencoder of log-magnitude spectrograms: the generation task of source 000.

The recipe, each step one function:

1. :func:`prepare` cuts every recording of a split manifest into segments, takes the
   log-magnitude STFT of each (dB, absolute: ``amplitude_to_db(|STFT|, ref=1.0)``, through
   :func:`musiclib.features.extract_dataset` and its cache), crops it to a shape the
   encoder's five stride-2 convolutions divide exactly, and min-max normalises it with the
   minimum and maximum of the **training** side only. Those two numbers travel with the
   model (``vae.json``): a VAE normalised per file cannot be sampled freely, because a
   sample from the prior has no file whose level it could borrow.
2. :func:`build_vae` / :func:`train_vae`: a Keras 3 subclassed :class:`VAE` with its own
   ``train_step`` and ``test_step`` (5 Conv2D encoder layers, a mirrored decoder of 5
   Conv2DTranspose layers, reparameterisation, reconstruction loss + beta x KL with an
   optional linear KL warm-up), optionally conditioned on the style label (a one-hot
   vector joins the encoder's flattened features and the latent code).
3. :func:`sample`, :func:`reconstruct`, :func:`interpolate` and :func:`to_audio` (real
   Griffin-Lim phase estimation, ``librosa.griffinlim``), :func:`generate_files` for the CLI.
4. :func:`evaluate` (held-out reconstruction error against an untrained model and the
   training set's mean spectrogram), :func:`style_agreement` (does a course classifier
   hear the intended style?), :func:`feature_distance` (Frechet distance of MFCC summaries).
5. :func:`run_vae_experiment`: the whole recipe, what ``musiclib train --experiment vae``
   runs.

Shapes: a segment's spectrogram is ``(frames, bins)``, time first like every segment
matrix of the course; the model sees ``(frames, bins, 1)``. The STFT's Nyquist bin is
dropped (``1 + n_fft // 2`` bins -> ``n_fft // 2``) and given back, at the training minimum, before
Griffin-Lim.

One module per topic; every public name is re-exported here (``ml.vae.sample``,
``from musiclib.vae import sample``):

- :mod:`.config`: :class:`VAEConfig` (every setting, the profiles).
- :mod:`.data`: :class:`VAEData`, :func:`prepare`, :func:`normalise`, :func:`denormalise`.
- :mod:`.model`: the Keras :class:`VAE`, :func:`build_vae`, :class:`KLWarmup`,
  :func:`train_vae`, :class:`VAEResult`, :func:`model_inputs`.
- :mod:`.io`: :func:`save`, :func:`load`, :class:`LoadedVAE` (``model.keras`` + ``vae.json``).
- :mod:`.generate`: :func:`encode`, :func:`sample`, :func:`reconstruct`,
  :func:`interpolate`, :func:`to_magnitude`, :func:`to_audio`, :func:`generate_files`.
- :mod:`.metrics`: :func:`evaluate`, :func:`style_agreement`, :func:`mfcc_summaries`,
  :func:`frechet_distance`, :func:`feature_distance`.
- :mod:`.experiment`: :func:`run_vae_experiment`.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

from .config import N_STRIDES, VAEConfig
from .data import SIDES, VAEData, denormalise, normalise, prepare
from .model import BATCHNORM_MOMENTUM, VAE, FiLM, KLWarmup, VAEResult, build_vae, model_inputs, train_vae
from .io import LoadedVAE, load, save
from .generate import (encode, generate_clips, generate_files, interpolate, reconstruct, sample, segments_for,
                       to_audio, to_clips, to_magnitude)
from .metrics import (HELD_OUT, analyse, evaluate, feature_distance, feature_distances, frechet_distance,
                      generation_report, mfcc_summaries, real_clips, style_agreement, vocoder_ceiling)
from .experiment import run_vae_experiment

__all__ = [
    "VAE", "VAEConfig", "VAEData", "VAEResult", "LoadedVAE", "KLWarmup", "prepare", "normalise", "denormalise",
    "build_vae", "train_vae", "save", "load", "encode", "sample", "reconstruct", "interpolate", "to_audio",
    "generate_files", "evaluate", "style_agreement", "feature_distance", "frechet_distance", "mfcc_summaries",
    "run_vae_experiment", "model_inputs", "to_magnitude", "FiLM", "generate_clips", "segments_for", "to_clips",
    "HELD_OUT", "analyse", "feature_distances", "generation_report", "real_clips", "vocoder_ceiling",
    "SIDES", "N_STRIDES", "BATCHNORM_MOMENTUM",
]
