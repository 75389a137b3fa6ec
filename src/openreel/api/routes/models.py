"""``GET /v1/models``: what this server can generate, with each model's limits and card."""

from __future__ import annotations

from fastapi import APIRouter

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import ModelCard, ModelFacts, ModelList
from openreel.backends.registry import BackendRegistry
from openreel.errors import BackendUnavailableError, NotFoundError

__all__ = ["model_card", "router"]

router = APIRouter(prefix="/v1", tags=["models"])


def model_card(registry: BackendRegistry, model: str, backend: str) -> ModelCard:
    """One model's entry: its capabilities and its public card (the transparency page shows
    the same cards).

    Raises:
        ModelNotFoundError: No backend serves ``model``.
    """
    caps = registry.backend(backend).capabilities(model)
    facts = ModelFacts.model_validate(registry.card(model).to_dict(caps))
    return ModelCard(id=model, backend=backend, capabilities=caps.to_dict(), card=facts)


@router.get("/models", response_model=ModelList, summary="List models")
async def list_models(services: ServicesDep, principal: PrincipalDep) -> ModelList:
    """Every model served here and what it can make (sizes, seconds, fps, image input), with
    its card (kind, maker, licence, training data, limits, sound). An upstream GPU server
    that cannot be reached has its models left out until it can."""
    del principal
    registry = services.registry
    entries = registry.models(available_only=True)
    return ModelList(data=[model_card(registry, e.model, e.backend) for e in entries])


@router.get("/models/{model_id:path}", response_model=ModelCard, summary="Retrieve a model")
async def retrieve_model(
    model_id: str, services: ServicesDep, principal: PrincipalDep
) -> ModelCard:
    """One model, as in the list (OpenAI's ``GET /v1/models/{model}``); a model not served
    here is a 404 naming the ones that are; one whose upstream is unreachable, a 503."""
    del principal
    registry = services.registry
    backend = registry.name_of(model_id)
    if backend is None:
        served = ", ".join(e.model for e in registry.models())
        raise NotFoundError(
            f"model {model_id!r} is not served here; served: {served}", param="model"
        )
    if backend in registry.unavailable():
        raise BackendUnavailableError(
            f"provider {backend} is unavailable just now; try again later or another model",
            code="provider_unavailable",
        )
    return model_card(registry, model_id, backend)
