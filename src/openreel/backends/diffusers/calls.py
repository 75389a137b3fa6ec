"""Calling a diffusers pipeline: only the arguments its ``__call__`` takes, and the Python
warnings a model library raises meanwhile sent to our log rather than the terminal."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["accepted", "library_warnings_to_log"]

log = logging.getLogger(__name__)


@contextmanager
def library_warnings_to_log() -> Iterator[None]:
    """Python warnings raised inside a model library's call go to our log, not the terminal
    (diffusers and transformers warn through ``warnings`` as well as through logging)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for warning in caught:
                log.warning("model library: %s: %s", warning.category.__name__, warning.message)


def accepted(pipe: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Only the keyword arguments ``pipe.__call__`` takes (families differ: ``frame_rate``
    is LTX's, ``negative_prompt`` is absent from some)."""
    import inspect

    parameters = inspect.signature(pipe.__call__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}
