"""Model cards: what each model offered here is, who made it, under what licence, what is known
of its training data and what it cannot do.

People judging a video service ask what the model is before anything else, so every model in
``/v1/models`` carries a card, and the public transparency page lists them all. The facts come
from where the model is described: the sketch engine's card is written here, a local model's
from its entry in the diffusers catalogue (``maker``, ``licence``, ``training_data``,
``limits``), a hosted model's from ``hosted/cards.toml`` (one table, so that adding a provider
touches no adapter). What nobody published is said plainly: ``not disclosed``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from openreel.backends.base import BackendCapabilities

__all__ = [
    "NOT_DISCLOSED",
    "SKETCH_CARD",
    "ModelCard",
    "ModelKind",
    "hosted_cards",
    "limits_of",
    "unknown_card",
]

ModelKind = Literal["procedural", "trained", "hosted"]

NOT_DISCLOSED = "not disclosed"
"""What a card says where its maker published nothing."""


@dataclass(frozen=True, slots=True)
class ModelCard:
    """The public facts about one model.

    Attributes:
        kind: ``procedural`` (drawn by code, no training), ``trained`` (open weights run on
            this server) or ``hosted`` (run by a provider this server calls).
        maker: Who made the model.
        licence: The licence it is used under.
        training_data: What is known of the data it was trained on.
        limits: What it does not do, beyond the sizes and lengths of its capabilities.
        source: Where its maker describes it (a URL), or None.
        served_by: The provider that runs it for this server (hosted models), or None.
    """

    kind: ModelKind
    maker: str
    licence: str
    training_data: str
    limits: tuple[str, ...] = ()
    source: str | None = None
    served_by: str | None = None

    def to_dict(self, capabilities: BackendCapabilities) -> dict[str, Any]:
        """JSON-ready form; ``sound`` and the size and length limits come from the model's
        capabilities, so the card never contradicts what admission enforces."""
        return {
            "kind": self.kind,
            "maker": self.maker,
            "licence": self.licence,
            "training_data": self.training_data,
            "limits": [*limits_of(capabilities), *self.limits],
            "sound": capabilities.audio,
            "source": self.source,
            "served_by": self.served_by,
        }


SKETCH_CARD = ModelCard(
    kind="procedural",
    maker="OpenReel",
    licence="Apache-2.0",
    training_data="none: the sketch engine draws with code and was trained on nothing",
    limits=(
        "draws simple scenes from a fixed vocabulary of subjects, places, weather and "
        "camera moves; words it does not know are left out",
        "no photographs, no real people's likeness, no legible text",
    ),
)
"""The embedded procedural engine's card."""


def unknown_card(hosted: bool, served_by: str | None = None) -> ModelCard:
    """The card of a model nobody described (an upstream server's, an operator's addition)."""
    return ModelCard(
        kind="hosted" if hosted else "trained",
        maker=NOT_DISCLOSED,
        licence=NOT_DISCLOSED,
        training_data=NOT_DISCLOSED,
        served_by=served_by,
    )


def hosted_cards() -> dict[str, ModelCard]:
    """Every hosted model's card from ``hosted/cards.toml``, by model id.

    Raises:
        ValueError: The shipped file is malformed (a packaging bug; its test reads it).
    """
    text = resources.files(__package__).joinpath("hosted", "cards.toml").read_text("utf-8")
    data = tomllib.loads(text)
    cards: dict[str, ModelCard] = {}
    for model, table in data.get("model", {}).items():
        unknown = set(table) - {
            "maker",
            "licence",
            "training_data",
            "limits",
            "source",
            "served_by",
        }
        if unknown:
            raise ValueError(
                f"hosted/cards.toml, model {model!r}: unknown fields {sorted(unknown)}"
            )
        cards[model] = ModelCard(
            kind="hosted",
            maker=str(table.get("maker", NOT_DISCLOSED)),
            licence=str(table.get("licence", NOT_DISCLOSED)),
            training_data=str(table.get("training_data", NOT_DISCLOSED)),
            limits=tuple(str(line) for line in table.get("limits", ())),
            source=table.get("source"),
            served_by=table.get("served_by"),
        )
    return cards


def limits_of(caps: BackendCapabilities) -> list[str]:
    """The capabilities' limits in words (length, sizes, frame rates, image input, sound)."""
    low, high = caps.fps_range
    sizes = (
        f"any size from {caps.min_side} to {caps.max_side} pixels a side"
        if caps.any_size
        else "sizes " + ", ".join(caps.sizes)
    )
    return [
        f"at most {caps.max_seconds:g} seconds a video",
        sizes,
        f"{low} to {high} frames a second" if low != high else f"{low} frames a second",
        "takes a reference image" if caps.image_input else "text only (no reference image)",
        "makes sound" if caps.audio else "no sound",
    ]
