"""Prompt jobs: the reference's IM contract, ``POST /generate-prompt`` and
``GET /prompt/{job_id}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from contentgen.server.bodies import prompt_body
from contentgen.server.deps import Cg, known_query_only, prompt_job_uuid
from contentgen.server.schemas import GeneratePromptBody, JobIdBody, PromptBody, errors

STRICT = [Depends(known_query_only)]  # unknown query parameters: 400
router = APIRouter(tags=["prompts"])


@router.post(
    "/generate-prompt",
    summary="Build a prompt in the background",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": JobIdBody}, **errors(400, 401, 404)},
)
async def generate_prompt(body: GeneratePromptBody, cg: Cg) -> JSONResponse:
    fields = body.model_dump(mode="json", exclude={"client_id"})
    request = await cg.make_request(body.client_id, **fields)
    job_id = await cg.generate_prompt(request.prompt_request())
    return JSONResponse({"job_id": str(job_id)})


@router.get(
    "/prompt/{job_id}",
    summary="A prompt job: the prompt and its metadata once completed",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": PromptBody}, **errors(401, 404)},
)
async def get_prompt(job_id: str, cg: Cg) -> JSONResponse:
    job = await cg.get_prompt(prompt_job_uuid(job_id))
    return JSONResponse(prompt_body(job))
