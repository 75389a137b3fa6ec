"""``GET /v1/models``: what this server can generate, with each model's limits."""

from __future__ import annotations

from fastapi import APIRouter

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.protocol import ModelCard, ModelList

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", response_model=ModelList, summary="List models")
async def list_models(services: ServicesDep, principal: PrincipalDep) -> ModelList:
    """Every model served here and what it can make (sizes, seconds, fps, image input)."""
    del principal
    cards = []
    for entry in services.registry.models():
        caps = services.registry.backend(entry.backend).capabilities(entry.model)
        cards.append(ModelCard(id=entry.model, backend=entry.backend, capabilities=caps.to_dict()))
    return ModelList(data=cards)
