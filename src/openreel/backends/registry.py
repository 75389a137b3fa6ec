"""BackendRegistry: which backend serves which model id.

Backends are registered as factories and built on first use, so a backend whose optional
dependencies are missing (torch, a provider SDK) costs nothing until someone asks for its
model, and then fails with an install hint instead of an ImportError at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openreel.backends.base import VideoBackend
from openreel.backends.cards import ModelCard, unknown_card
from openreel.errors import ModelNotFoundError

__all__ = ["BackendRegistry", "ModelEntry"]


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model id and the backend that serves it.

    Attributes:
        model: Model id, as in /v1/models.
        backend: Backend name.
    """

    model: str
    backend: str
    hosted: bool = False


class BackendRegistry:
    """Maps model ids to lazily built backends."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[[], VideoBackend]] = {}
        self._built: dict[str, VideoBackend] = {}
        self._models: dict[str, str] = {}
        self._hosted: set[str] = set()
        self._cards: dict[str, ModelCard] = {}
        self._available: dict[str, Callable[[], str | None]] = {}
        self._reports: dict[str, Callable[[], Any]] = {}

    def register(
        self,
        name: str,
        models: tuple[str, ...],
        factory: Callable[[], VideoBackend],
        *,
        hosted: bool = False,
        cards: Mapping[str, ModelCard] | None = None,
        available: Callable[[], str | None] | None = None,
    ) -> None:
        """Adds a backend ``name`` serving ``models``; ``factory`` runs on first use.

        ``hosted`` backends spend their time waiting on a provider, not computing, so the
        server runs their jobs on a pool of their own (``OPENREEL_HOSTED_WORKERS``).
        ``cards`` describe its models publicly (a model without one gets a card saying
        "not disclosed"), without building the backend. ``available`` says why the backend
        cannot serve just now (None when it can): an upstream GPU server that went away.
        """
        self._factories[name] = factory
        if available is not None:
            self._available[name] = available
        if hosted:
            self._hosted.add(name)
        for model in models:
            self._models[model] = name
            card = None if cards is None else cards.get(model)
            self._cards[model] = card or unknown_card(hosted)

    def models(self, *, available_only: bool = False) -> list[ModelEntry]:
        """Every model id served, in registration order; with ``available_only``, less those
        of backends that cannot serve just now (what ``/v1/models`` offers)."""
        down = set(self.unavailable()) if available_only else set()
        return [
            ModelEntry(model, backend, backend in self._hosted)
            for model, backend in self._models.items()
            if backend not in down
        ]

    def unavailable(self) -> dict[str, str]:
        """The backends that cannot serve just now, each with why (for admins)."""
        reasons = {name: available() for name, available in self._available.items()}
        return {name: reason for name, reason in reasons.items() if reason is not None}

    def watch(self, name: str, report: Callable[[], Any]) -> None:
        """Keeps what ``report`` tells of backend ``name``'s state, for the admin view."""
        self._reports[name] = report

    def reports(self) -> dict[str, Any]:
        """Each watched backend's state (see :meth:`watch`), by name."""
        return {name: report() for name, report in self._reports.items()}

    def backend_names(self) -> set[str]:
        """The names of the backends registered so far."""
        return set(self._factories)

    def card(self, model: str) -> ModelCard:
        """``model``'s public card.

        Raises:
            ModelNotFoundError: When no backend serves it.
        """
        card = self._cards.get(model)
        if card is None:
            self.for_model(model)  # raises, listing what is served
            raise AssertionError("unreachable: a served model always has a card")
        return card

    def name_of(self, model: str) -> str | None:
        """The name of the backend serving ``model``, or None when none does."""
        return self._models.get(model)

    def backend(self, name: str) -> VideoBackend:
        """The backend called ``name``, built on first use."""
        if name not in self._built:
            self._built[name] = self._factories[name]()
        return self._built[name]

    def close(self) -> None:
        """Closes every backend built so far that holds something open (a hosted provider's
        connection pool, its event streams)."""
        for backend in self._built.values():
            close = getattr(backend, "close", None)
            if callable(close):
                close()

    def for_model(self, model: str) -> VideoBackend:
        """The backend that serves ``model``.

        Raises:
            ModelNotFoundError: When no backend serves it; the message lists what is served.
        """
        name = self._models.get(model)
        if name is None:
            served = ", ".join(self._models) or "none"
            raise ModelNotFoundError.for_value(
                "model", model, f"must be one of the models served here ({served})"
            )
        return self.backend(name)
