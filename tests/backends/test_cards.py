"""Model cards: every model offered has one, from the data its kind is described by."""

from __future__ import annotations

from pathlib import Path

import pytest

from openreel.backends.base import BackendCapabilities
from openreel.backends.cards import NOT_DISCLOSED, SKETCH_CARD, hosted_cards, limits_of
from openreel.backends.diffusers.catalogue import load_catalogue
from openreel.backends.hosted import fal, luma, replicate, runway, veo
from openreel.backends.providers import build_registry
from openreel.config import LocalConfig, ProviderKeys, Settings, UpstreamConfig
from openreel.errors import ConfigurationError, ModelNotFoundError

HOSTED = [m.id for module in (runway, fal, replicate, luma, veo) for m in module.MODELS]


def test_every_hosted_model_has_a_card_and_no_card_names_a_model_not_offered() -> None:
    cards = hosted_cards()
    assert sorted(cards) == sorted(HOSTED)
    for card in cards.values():
        assert card.kind == "hosted"
        assert card.maker != NOT_DISCLOSED
        assert card.licence
        assert card.served_by
        assert card.training_data == NOT_DISCLOSED  # none of these makers published it


def test_registry_gives_each_served_model_its_card() -> None:
    keys = ProviderKeys(runway="k", fal="k", replicate="k", luma="k", google="k")  # type: ignore[arg-type]
    upstream = UpstreamConfig(url="http://up.test/v1", models=["m1"])
    settings = Settings(
        providers=keys.model_copy(update={"upstream": keys.runway}),
        upstream=upstream,
        local=LocalConfig(enabled=True),
    )
    registry = build_registry(settings)
    assert registry.card("openreel-sketch") == SKETCH_CARD
    assert registry.card("runway/veo3.1").maker == "Google DeepMind"
    assert registry.card("runway/veo3.1").served_by == "Runway"
    wan = registry.card("wan2.1-t2v-1.3b")
    assert (wan.kind, wan.maker, wan.licence) == ("trained", "Alibaba (Wan team)", "Apache-2.0")
    assert wan.source == "https://huggingface.co/Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    # Nobody described an upstream's model: it says so rather than guessing.
    unknown = registry.card("upstream/m1")
    assert (unknown.kind, unknown.maker, unknown.training_data) == (
        "hosted",
        NOT_DISCLOSED,
        NOT_DISCLOSED,
    )
    assert unknown.served_by == "upstream"
    with pytest.raises(ModelNotFoundError):
        registry.card("no-such-model")


def test_every_shipped_local_model_names_its_maker_and_licence() -> None:
    for entry in load_catalogue().entries:
        assert entry.card.kind == "trained"
        assert entry.maker != NOT_DISCLOSED, entry.id
        assert entry.licence != NOT_DISCLOSED, entry.id


def test_a_catalogue_entry_without_card_fields_says_not_disclosed(tmp_path: Path) -> None:
    entry = """
[[model]]
id = "m"
family = "wan"
source = "/nowhere"
steps = 2
guidance = 1.0
width = 32
height = 32
fps = 8
max_frames = 9
overlap = 1
"""
    path = tmp_path / "catalogue.toml"
    path.write_text(entry)
    card = load_catalogue(path).entries[0].card
    assert (card.maker, card.licence, card.training_data) == (NOT_DISCLOSED,) * 3
    assert card.source is None  # a local folder has no public page
    path.write_text(entry + 'limits = "not a list"\n')
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(path)
    assert "limits" in info.value.message


def test_card_sound_and_limits_follow_the_capabilities() -> None:
    caps = BackendCapabilities(
        max_seconds=8,
        min_side=64,
        max_side=1280,
        fps_range=(24, 24),
        sizes=("1280x720",),
        any_size=False,
        audio=True,
    )
    card = SKETCH_CARD.to_dict(caps)
    assert card["sound"] is True
    assert card["limits"][: len(limits_of(caps))] == [
        "at most 8 seconds a video",
        "sizes 1280x720",
        "24 frames a second",
        "text only (no reference image)",
        "makes sound",
    ]
