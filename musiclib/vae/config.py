"""The settings of the VAE recipe: :class:`VAEConfig` and its profiles.

One frozen dataclass holds every number of the recipe: the STFT (``n_fft``, ``hop_length``
in samples, ``sample_rate`` in Hz), the model's input shape ``(frames, bins)`` (both
multiples of ``2 ** N_STRIDES = 32``, for the encoder's five stride-2 convolutions), the
architecture (``latent_dim``, ``filters``), the loss (``beta``, ``kl_warmup_epochs``) and
training (``epochs``, ``batch_size``, ``learning_rate``). :meth:`VAEConfig.for_profile`
gives the settings of the ``tiny``, ``fast`` and ``full`` profiles; :meth:`VAEConfig.to_dict`
is what ``vae.json`` stores and :meth:`VAEConfig.from_dict` reads it back.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ..errors import MusiclibError

N_STRIDES = 5  # five stride-2 layers: frames and bins must be multiples of 2**5 = 32


@dataclass(frozen=True)
class VAEConfig:
    """Every setting of the VAE recipe.

    Attributes
    ----------
    segment_seconds : float
        Length of a segment in seconds. ``frames * hop_length / sample_rate`` makes the segment
        exactly ``frames`` STFT frames long.
    n_fft, hop_length : int
        STFT frame length and hop, in samples. Bins are ``n_fft // 2`` (Nyquist dropped).
    frames, bins : int
        The model's input shape; both multiples of ``2 ** 5``. A segment with more frames
        or bins is cropped, one with fewer is padded with the training minimum.
    latent_dim : int
        Size of the latent code.
    filters : tuple of 5 int
        Filters of the encoder's Conv2D layers, 3 x 3 kernels with stride 2 (the decoder
        mirrors them).
    beta : float
        Weight of the KL term (1.0: the plain VAE).
    kl_warmup_epochs : int
        The KL weight rises linearly from ``beta / (kl_warmup_epochs + 1)`` to ``beta``
        over this many epochs (0: no warm-up).
    conditional : bool
        Condition encoder and decoder on the style label (one-hot).
    film : bool
        A conditional decoder also modulates every block with the label (FiLM: a
        per-channel scale and shift learnt for each style), not only its first layer.
    class_prior : bool
        A conditional model's prior is ``N(m_c, I)`` with a learnt mean ``m_c`` per style
        instead of one ``N(0, I)`` for all: samples of a style are drawn where that style's
        codes lie.
    free_bits : float
        Nats per latent dimension the KL term does not charge (0: off).
    dynamic_range_db : float
        The normalisation's floor lies this many dB below the training maximum (or at the
        training minimum if that is higher): quieter cells all become 0. Without a floor
        the squared error spends itself on the noise floor 100 dB down, and a blurred
        floor comes back as audible noise. ``inf``: the training minimum.
    temperature : float
        Default spread of sampled codes around the prior's mean (:func:`~musiclib.vae.sample`):
        1 samples the prior itself.
    epochs, batch_size : int
    learning_rate : float
        Training (Adam). A fixed number of epochs, no early stopping: with a KL warm-up the
        validation loss of early epochs is not comparable with later ones.
    griffinlim_iters : int
        Iterations of ``librosa.griffinlim`` in :func:`to_audio`.
    sample_rate : int
        Sample rate in Hz of the audio the segments are cut from, and of the generated clips.

    Raises
    ------
    MusiclibError
        On construction, when a setting is impossible (shapes that the strides do not
        divide, ``bins > n_fft // 2``, ``hop_length > n_fft``, non-positive lengths or
        rates, a negative ``beta``, ``griffinlim_iters < 1``).
    """

    segment_seconds: float = 128 * 256 / 22050
    n_fft: int = 512
    hop_length: int = 256
    frames: int = 128
    bins: int = 256
    latent_dim: int = 32
    filters: tuple = (8, 16, 32, 32, 64)
    beta: float = 1.0
    kl_warmup_epochs: int = 5
    conditional: bool = True
    film: bool = True
    class_prior: bool = True
    free_bits: float = 0.0
    temperature: float = 1.0
    dynamic_range_db: float = 80.0
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    griffinlim_iters: int = 32
    sample_rate: int = 22050

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        for name in ("n_fft", "hop_length", "frames", "bins", "latent_dim", "kl_warmup_epochs", "epochs",
                     "batch_size", "griffinlim_iters", "sample_rate"):
            put(name, int(getattr(self, name)))
        for name in ("segment_seconds", "beta", "learning_rate", "free_bits", "temperature", "dynamic_range_db"):
            put(name, float(getattr(self, name)))
        put("filters", tuple(int(f) for f in self.filters))
        for name in ("conditional", "film", "class_prior"):
            put(name, bool(getattr(self, name)))
        problems = []
        if len(self.filters) != N_STRIDES or min(self.filters) < 1:
            problems.append(f"filters must be {N_STRIDES} positive integers")
        step = 2**N_STRIDES
        if self.frames % step or self.bins % step or self.frames < step or self.bins < step:
            problems.append(f"frames and bins must be positive multiples of {step} (got {self.frames} x {self.bins})")
        if self.bins > self.n_fft // 2:
            problems.append(f"bins ({self.bins}) exceeds n_fft // 2 ({self.n_fft // 2})")
        if self.hop_length > self.n_fft:
            problems.append("hop_length must not exceed n_fft")
        if (self.segment_seconds <= 0 or self.beta < 0 or self.learning_rate <= 0 or self.temperature < 0
                or not self.dynamic_range_db > 0):
            problems.append("segment_seconds, learning_rate and dynamic_range_db must be positive, beta and "
                            "temperature not negative")
        if self.griffinlim_iters < 1:
            problems.append("griffinlim_iters must be at least 1 (0 would be a zero-phase inverse)")
        if problems:
            raise MusiclibError("VAEConfig: " + "; ".join(problems))

    @classmethod
    def for_profile(cls, profile) -> "VAEConfig":
        """The settings of a profile.

        Parameters
        ----------
        profile : str or musiclib.config.Profile or None
            ``"tiny"``, ``"fast"`` or ``"full"`` (any case), or an object with a ``name``
            such as ``Settings.profile``; ``None`` or ``""`` means ``"fast"``.

        Returns
        -------
        VAEConfig
            The profile's shapes, network size and training length.

        Raises
        ------
        MusiclibError
            An unknown profile name.

        Notes
        -----
        ``tiny`` (tests): 64 x 128 spectrograms (n_fft 256, hop 128, 0.37 s), latent 16, 12
        epochs (enough to beat an untrained model; tiny only checks that the code runs), no
        normalisation floor to speak of (200 dB: twelve epochs do not beat the mean
        spectrogram on the 80-dB range, measured 0.0204 against 0.0208).
        ``fast``: 128 x 256 (n_fft 512, hop 256, 1.49 s), latent 32, filters
        8-16-32-32-64, 20 epochs: about 30 s of training on a quiet 2-core CPU (the cost per
        step is dominated by the full-resolution layers, hardly by the filter counts).
        ``full``: the composer project's 5.94 s segments (n_fft 512, hop 256: 512 frames x
        256 bins), latent 128, wider filters. All at 22050 Hz.
        """
        name = getattr(profile, "name", profile)
        name = str(name or "fast").lower()
        if name == "tiny":
            return cls(segment_seconds=64 * 128 / 22050, n_fft=256, hop_length=128, frames=64, bins=128,
                       latent_dim=16, filters=(8, 16, 16, 32, 32), kl_warmup_epochs=3, epochs=12,
                       batch_size=32, learning_rate=2e-3, dynamic_range_db=200.0)
        if name == "fast":
            return cls()
        if name == "full":
            return cls(segment_seconds=5.94, frames=512, bins=256, latent_dim=128,
                       filters=(32, 64, 64, 128, 128), kl_warmup_epochs=10, epochs=60, batch_size=32)
        raise MusiclibError(f"unknown profile {name!r}: choose tiny, fast or full")

    def to_dict(self) -> dict:
        """Every setting as a JSON-ready dict (``filters`` as a list); what ``vae.json`` stores.

        Returns
        -------
        dict
            ``{field name: value}``; :meth:`from_dict` turns it back into an equal config.
        """
        d = asdict(self)
        d["filters"] = list(self.filters)
        return d

    @classmethod
    def from_dict(cls, data) -> "VAEConfig":
        """The config of a dict written by :meth:`to_dict` (e.g. read from ``vae.json``).

        Parameters
        ----------
        data : mapping
            Setting name -> value; missing settings take their defaults.

        Returns
        -------
        VAEConfig
            Equal to the one whose :meth:`to_dict` gave ``data``.

        Raises
        ------
        MusiclibError
            ``data`` names a setting that :class:`VAEConfig` does not have, or a value is
            impossible (see the class).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MusiclibError(f"VAEConfig: unknown setting(s) {', '.join(unknown)}")
        return cls(**dict(data))

    def replace(self, **changes) -> "VAEConfig":
        """A copy with some settings changed (checked like a new config).

        Parameters
        ----------
        **changes
            Setting name -> new value, e.g. ``epochs=2``.

        Returns
        -------
        VAEConfig
        """
        return replace(self, **changes)

    @property
    def segment_samples(self) -> int:
        """Length in samples of one generated clip (at ``sample_rate`` Hz).

        ``(frames - 1) * hop_length``: the length whose centred STFT has exactly ``frames``
        frames (Griffin-Lim's round trips need it).
        """
        return (self.frames - 1) * self.hop_length

    def feature_config(self, sample_rate: int | None = None):
        """The :class:`musiclib.features.FeatureConfig` of the log-spectrogram segments.

        Parameters
        ----------
        sample_rate : int, optional
            Hz; default ``self.sample_rate`` (:func:`~musiclib.vae.prepare` passes the
            settings' rate).

        Returns
        -------
        musiclib.features.FeatureConfig
            Same ``n_fft``, ``hop_length`` and ``segment_seconds``; the log-spectrogram in
            absolute dB (``logspec_top_db=None``), shape ``(frames_per_segment, 1 + n_fft // 2)``
            per segment, which :func:`~musiclib.vae.prepare` crops to ``(frames, bins)``.
        """
        from ..features import FeatureConfig

        return FeatureConfig(sample_rate=sample_rate or self.sample_rate, n_fft=self.n_fft,
                             hop_length=self.hop_length, segment_seconds=self.segment_seconds,
                             logspec_top_db=None,
                             # only the log-spectrogram is used; fewer mel bands keep the
                             # cache's clip summaries free of empty mel filters at small n_fft
                             n_mels=min(128, self.n_fft // 8))
