"""Prompt moderation: normalisation, operator rules, name lists, artists' opt-outs, a learned
classifier, and an optional external guard.

Every check is its own module behind the :class:`~openreel.trust.moderation.base.Moderator`
protocol; :mod:`~openreel.trust.moderation.pipeline` runs them in order and
:func:`build_pipeline` assembles the configured set.
"""

from __future__ import annotations

import logging

from openreel.config import ModerationConfig
from openreel.errors import ConfigurationError
from openreel.storage.artists import ArtistStore
from openreel.trust.moderation.artists import ArtistStyleCheck
from openreel.trust.moderation.base import Moderator, Refusal
from openreel.trust.moderation.guard import GuardCheck
from openreel.trust.moderation.names import NameCheck
from openreel.trust.moderation.normalise import Prompt, fold, normalise
from openreel.trust.moderation.pipeline import Decision, ModerationPipeline, blocked
from openreel.trust.moderation.policy import Policy, load_policy
from openreel.trust.moderation.rules import RuleCheck
from openreel.trust.moderation.semantic import (
    SemanticCheck,
    semantic_available,
    semantic_missing,
)

__all__ = [
    "ArtistStyleCheck",
    "Decision",
    "GuardCheck",
    "ModerationPipeline",
    "Moderator",
    "NameCheck",
    "Policy",
    "Prompt",
    "Refusal",
    "RuleCheck",
    "SemanticCheck",
    "blocked",
    "build_pipeline",
    "fold",
    "load_policy",
    "normalise",
    "semantic_available",
]

log = logging.getLogger(__name__)


def build_pipeline(
    config: ModerationConfig, artists: ArtistStore | None = None
) -> ModerationPipeline | None:
    """The pipeline ``config`` asks for (None when moderation is off).

    ``semantic = "auto"`` uses the model when the optional extra is installed and says so in
    the log when it is not; ``"on"`` insists on it. The external guard, when configured, runs
    last: it is asked only about prompts the local checks allowed.

    Raises:
        ConfigurationError: The policy file is unusable, or ``semantic = "on"`` without the
            optional extra.
    """
    if not config.enabled:
        return None
    policy = load_policy(config.policy)
    checks: list[Moderator] = [RuleCheck(policy), NameCheck(policy.public_figures)]
    if artists is not None:
        checks.append(ArtistStyleCheck(artists))
    if config.semantic == "on" and not semantic_available():
        raise ConfigurationError(semantic_missing())
    if config.semantic == "on" or (config.semantic == "auto" and semantic_available()):
        checks.append(SemanticCheck(policy))
    elif config.semantic == "auto":
        log.warning("moderation runs without its semantic check: %s", semantic_missing())
    guard = config.guard
    if guard.kind != "off":
        assert guard.url is not None  # GuardConfig insists on one
        checks.append(
            GuardCheck(
                kind=guard.kind,
                url=guard.url,
                model=guard.model,
                api_key=guard.api_key.get_secret_value() if guard.api_key else None,
                timeout_s=guard.timeout_s,
                on_failure=guard.on_failure,
            )
        )
    return ModerationPipeline(checks)
