"""Loading diffusers pipelines: the lazy import, device choice, memory profiles and the warm cache.

torch and diffusers are imported here and only when a model is first needed, so OpenReel
starts (and serves every other backend) on a machine without the ``local`` extra; when they
are missing the error says exactly what to install. Foreign errors (a folder that is not
there, a repo that cannot be fetched, a GPU too small) become our errors with a sentence that
names the model and the folder or repo, never a stack trace.
"""

from __future__ import annotations

import gc
import logging
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openreel.backends.diffusers.catalogue import ModelEntry
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    OpenReelError,
)
from openreel.logs import quiet_model_libraries

__all__ = [
    "INSTALL_HINT",
    "LoadedPipeline",
    "PipelineCache",
    "free_memory",
    "import_runtime",
    "pick_device",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'openreel[local]'"
"""The one command that installs what local models need."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """The two foreign modules every call needs, imported once.

    Attributes:
        torch: The ``torch`` module.
        diffusers: The ``diffusers`` module.
    """

    torch: Any
    diffusers: Any


def import_runtime() -> Runtime:
    """Imports torch and diffusers.

    Raises:
        ConfigurationError: Either is missing; the message is the install command.
    """
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise ConfigurationError(
            f"local models need torch and diffusers, which are not installed ({exc.name}); "
            f"run: {INSTALL_HINT}"
        ) from None
    # Loading bars and library warnings would land on the terminal, even under --json.
    quiet_model_libraries()
    return Runtime(torch, diffusers)


def pick_device(runtime: Runtime, wanted: str) -> str:
    """The device to run on: ``wanted``, or with ``auto`` the best present (cuda, mps, cpu).

    Raises:
        ConfigurationError: ``wanted`` names a device this machine does not have.
    """
    torch = runtime.torch
    has = {
        "cuda": bool(torch.cuda.is_available()),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        "cpu": True,
    }
    if wanted == "auto":
        return next(name for name in ("cuda", "mps", "cpu") if has[name])
    if not has.get(wanted, False):
        raise ConfigurationError(
            f"OPENREEL_LOCAL__DEVICE is {wanted!r}, but this machine has no {wanted} device "
            f"(torch {torch.__version__}); use auto or one of "
            f"{', '.join(n for n, ok in has.items() if ok)}"
        )
    return wanted


def free_memory(runtime: Runtime | None, device: str) -> None:
    """Returns freed tensors' memory: Python's garbage, then the CUDA cache when on cuda."""
    gc.collect()
    if runtime is not None and device == "cuda":
        runtime.torch.cuda.empty_cache()


def check_fits(runtime: Runtime, entry: ModelEntry, device: str) -> None:
    """Refuses, before loading, a model that cannot fit the GPU's free memory.

    Raises:
        BackendUnavailableError: Naming the model, what it needs and what is free.
    """
    if device != "cuda" or entry.min_vram_gb <= 0:
        return
    free, total = runtime.torch.cuda.mem_get_info()
    gib = 1024**3
    if free / gib < entry.min_vram_gb:
        raise BackendUnavailableError(
            f"model {entry.id} needs about {entry.min_vram_gb:g} GiB of GPU memory with memory "
            f"profile {'+'.join(entry.memory)}, but cuda has {free / gib:.1f} of "
            f"{total / gib:.1f} GiB free; free the GPU, or give the model a leaner memory "
            "profile (group_offload, vae_tiling) in the catalogue",
            code="model_too_large",
        )


@dataclass
class LoadedPipeline:
    """A pipeline on its device, with the image-to-video twin built from it on demand.

    Attributes:
        key: What was loaded (source, class, dtype, memory, device): entries that share it
            share the weights.
        pipe: The text-to-video pipeline.
        device: Where it runs.
        runtime: torch and diffusers.
        dtype: The weights' torch dtype.
    """

    key: tuple[str, ...]
    pipe: Any
    device: str
    runtime: Runtime
    dtype: Any = None
    _image_pipes: dict[str, Any] = field(default_factory=dict)
    _upsampler: Any = None

    def image_pipe(self, class_name: str) -> Any:
        """The image-to-video pipeline ``class_name`` sharing this one's components.

        Built from the loaded modules themselves rather than with ``from_pipe``, which casts
        every shared module to one dtype (undoing the float32 that diffusers keeps for
        norms and embeddings in bf16 models) for both pipelines. Settings the new class
        takes from its config (Wan 2.2's ``expand_timesteps``...) are carried over.
        """
        if class_name not in self._image_pipes:
            import inspect

            cls = getattr(self.runtime.diffusers, class_name)
            accepted = inspect.signature(cls.__init__).parameters
            kwargs = {k: v for k, v in self.pipe.components.items() if k in accepted}
            for name, value in dict(self.pipe.config).items():
                if name in accepted and name not in kwargs and not name.startswith("_"):
                    kwargs[name] = value
            image_pipe = cls(**kwargs)
            image_pipe.set_progress_bar_config(disable=True)
            self._image_pipes[class_name] = image_pipe
        return self._image_pipes[class_name]

    def upsampler(self, entry: ModelEntry) -> Any:
        """The family's x2 upsampler pipeline, sharing this pipeline's VAE (loaded once).

        Raises:
            ConfigurationError: Its weights are missing or unreadable (naming them).
        """
        if self._upsampler is None:
            class_name = entry.spec.upsample_pipeline
            if class_name is None or entry.upsampler is None:
                raise ConfigurationError(f"model {entry.id} has no upsampler")
            cls = getattr(self.runtime.diffusers, class_name)
            source = _checked_source(entry.id, entry.upsampler, "upsampler")
            try:
                with warnings.catch_warnings(record=True) as caught:
                    pipe = cls.from_pretrained(source, vae=self.pipe.vae, dtype=self.dtype)
                _log_warnings(caught)
            except (OSError, ValueError) as exc:
                raise _missing_weights(entry.id, entry.upsampler, exc, "upsampler") from None
            pipe.set_progress_bar_config(disable=True)
            pipe.latent_upsampler.to(self.device)
            self._upsampler = pipe
        return self._upsampler


class PipelineCache:
    """Keeps the last loaded pipeline warm for the next job of the same model.

    One pipeline at a time: a job for another model releases the warm one first (freeing
    its memory) so two models never compete for one GPU. ``keep_warm=False`` releases after
    every job instead.
    """

    def __init__(self, device: str = "auto", *, keep_warm: bool = True) -> None:
        self._wanted_device = device
        self.keep_warm = keep_warm
        self._loaded: LoadedPipeline | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> LoadedPipeline | None:
        """The warm pipeline, if any."""
        return self._loaded

    def get(self, entry: ModelEntry) -> LoadedPipeline:
        """The pipeline for ``entry``: the warm one when it matches, else freshly loaded.

        Raises:
            ConfigurationError: The extra is missing, the device is absent, or the weights
                are not where the catalogue says.
            BackendUnavailableError: The model cannot fit the GPU.
        """
        runtime = import_runtime()
        device = pick_device(runtime, self._wanted_device)
        key = (entry.source, entry.pipeline_class, entry.dtype, *entry.memory, device)
        with self._lock:
            if self._loaded is not None and self._loaded.key == key:
                return self._loaded
            self.release()
            check_fits(runtime, entry, device)
            failure: OpenReelError | None = None
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("default")
                    try:
                        pipe = _load(runtime, entry, device)
                    finally:
                        _log_warnings(caught)
            except OpenReelError:
                free_memory(runtime, device)
                raise
            except Exception as exc:  # torch or diffusers: mapped, never shown as a trace
                log.warning("local model %s could not be loaded", entry.id, exc_info=True)
                failure = _load_failure(exc, entry, device)
            if failure is not None:
                free_memory(runtime, device)  # outside the except block: the trace is gone
                raise failure
            dtype = getattr(runtime.torch, entry.dtype)
            self._loaded = LoadedPipeline(key, pipe, device, runtime, dtype)
            return self._loaded

    def adopt(self, entry: ModelEntry, pipe: Any) -> LoadedPipeline:
        """Makes ``pipe``, built by the caller, the warm pipeline for ``entry`` (as if loaded
        from its source): a benchmark builds real-size pipelines with random weights and no
        download, and the backend then runs them exactly as it runs loaded ones."""
        runtime = import_runtime()
        device = pick_device(runtime, self._wanted_device)
        key = (entry.source, entry.pipeline_class, entry.dtype, *entry.memory, device)
        with self._lock:
            self.release()
            pipe.set_progress_bar_config(disable=True)
            dtype = getattr(runtime.torch, entry.dtype)
            self._loaded = LoadedPipeline(key, pipe, device, runtime, dtype)
            return self._loaded

    def release(self) -> None:
        """Drops the warm pipeline and returns its memory."""
        loaded, self._loaded = self._loaded, None
        if loaded is not None:
            log.info("releasing local model %s", loaded.key[0])
            runtime, device = loaded.runtime, loaded.device
            del loaded
            free_memory(runtime, device)

    def done(self) -> None:
        """Called after every job: releases the pipeline unless it is kept warm."""
        if not self.keep_warm:
            self.release()


def _load(runtime: Runtime, entry: ModelEntry, device: str) -> Any:
    """Loads ``entry`` with diffusers and applies its memory profiles."""
    cls = getattr(runtime.diffusers, entry.pipeline_class, None)
    if cls is None:
        raise ConfigurationError(
            f"model {entry.id}: diffusers {runtime.diffusers.__version__} has no pipeline "
            f"class {entry.pipeline_class}; upgrade with {INSTALL_HINT} --upgrade"
        )
    source = _checked_source(entry.id, entry.source, "source")
    try:
        pipe = cls.from_pretrained(source, dtype=component_dtypes(runtime, entry), **entry.load)
    except (OSError, ValueError) as exc:
        raise _missing_weights(entry.id, entry.source, exc, "source") from None
    pipe.set_progress_bar_config(disable=True)
    if entry.scheduler:
        pipe.scheduler = _scheduler(runtime, entry, pipe.scheduler)
    _apply_memory(pipe, entry, device, runtime)
    return pipe


def component_dtypes(runtime: Runtime, entry: ModelEntry) -> Any:
    """The dtype for ``from_pretrained``: one for every component, or per component (the
    entry's ``dtypes`` over its ``dtype`` as the default) where the model's documentation
    runs some in another precision (Wan's VAE in float32, HunyuanVideo's VAE and text
    encoder in float16)."""
    default = getattr(runtime.torch, entry.dtype)
    if not entry.dtypes:
        return default
    return {"default": default} | {
        name: getattr(runtime.torch, value) for name, value in entry.dtypes.items()
    }


def _scheduler(runtime: Runtime, entry: ModelEntry, current: Any) -> Any:
    """The entry's scheduler (``class`` plus config overrides) from the loaded one's config.

    Raises:
        ConfigurationError: diffusers has no scheduler of that name.
    """
    overrides = dict(entry.scheduler)
    name = str(overrides.pop("class"))
    cls = getattr(runtime.diffusers, name, None)
    if cls is None:
        raise ConfigurationError(
            f"model {entry.id}: diffusers {runtime.diffusers.__version__} has no scheduler "
            f"class {name}; fix scheduler in the catalogue"
        )
    return cls.from_config(current.config, **overrides)


def _log_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Python warnings a library raised while loading, into our log (not the terminal)."""
    for warning in caught:
        log.warning("model library: %s: %s", warning.category.__name__, warning.message)


def _is_folder(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or Path(source).is_dir()


def _checked_source(model: str, source: str, field_name: str) -> str:
    """``source`` ready for ``from_pretrained``; a folder must hold diffusers weights.

    Raises:
        ConfigurationError: The folder has no ``model_index.json`` (naming the folder).
    """
    if not _is_folder(source):
        return source
    folder = Path(source).expanduser()
    if not (folder / "model_index.json").is_file():
        raise ConfigurationError(
            f"model {model}: no diffusers weights in folder {folder} (model_index.json is "
            f"missing); download them there, e.g. `hf download REPO --local-dir {folder}`, "
            f"or fix {field_name} in the catalogue"
        )
    return str(folder)


def _missing_weights(
    model: str, source: str, exc: BaseException, field_name: str
) -> ConfigurationError:
    """Advice for weights that would not load: a folder is incomplete (download the repo
    into it again), a hub repo is not downloaded yet (download it)."""
    if _is_folder(source):
        folder = Path(source).expanduser()
        return ConfigurationError(
            f"model {model}: the weights in folder {folder} are incomplete or unreadable "
            f"({type(exc).__name__}: {_first_line(exc)}); download the whole model repo into "
            f"that folder again (`hf download <its repo> --local-dir {folder}`), or fix "
            f"{field_name} in the catalogue"
        )
    return ConfigurationError(
        f"model {model}: weights could not be loaded from hub repo {source} "
        f"({type(exc).__name__}: {_first_line(exc)}); on a machine without internet, "
        f"download them first (`hf download {source}`) or point {field_name} at a folder"
    )


def _apply_memory(pipe: Any, entry: ModelEntry, device: str, runtime: Runtime) -> None:
    """Puts ``pipe`` on ``device`` the way the entry's memory profiles say."""
    profiles = set(entry.memory)
    on_accelerator = device != "cpu"
    if "model_cpu_offload" in profiles and on_accelerator:
        pipe.enable_model_cpu_offload(device=device)
    elif "group_offload" in profiles and on_accelerator:
        pipe.enable_group_offload(
            onload_device=runtime.torch.device(device),
            offload_device=runtime.torch.device("cpu"),
            offload_type="leaf_level",
            use_stream=device == "cuda",
        )
    else:
        pipe.to(device)
    if "vae_tiling" in profiles and hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()


def _load_failure(exc: Exception, entry: ModelEntry, device: str) -> OpenReelError:
    """Our error for a model that failed to load or to move onto its device."""
    if type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower():
        return BackendUnavailableError(
            f"model {entry.id} does not fit in {device} memory with memory profile "
            f"{'+'.join(entry.memory)}; use model_cpu_offload or group_offload with "
            "vae_tiling in the catalogue, or a smaller dtype",
            code="model_too_large",
        )
    return BackendError(
        f"model {entry.id} could not be loaded from {entry.source}: "
        f"{type(exc).__name__}: {_first_line(exc)}"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
