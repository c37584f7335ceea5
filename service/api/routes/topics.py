"""`GET /api/topics`: parent topics with passage counts."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import RateLimited, RetrieverDep
from service.api.schemas import TopicOut

router = APIRouter(tags=["search"], dependencies=[RateLimited])


@router.get("/api/topics", response_model=list[TopicOut])
async def topics(retriever: RetrieverDep) -> list[TopicOut]:
    """Every parent topic (父主题) with its passage count, most passages first."""
    return [TopicOut(topic=topic, count=count) for topic, count in retriever.topics()]
