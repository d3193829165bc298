"""Dry run: estimate tokens and cost per row from the model's prices, without calling it.

Input tokens are counted on the real prompt the IM builds for the row (about 4 characters a
token); output tokens are the plan's target words at ``TOKENS_PER_WORD``. Cost is tokens times
the model's per-token prices from litellm's bundled price table (0 for local models).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from contentgen.batch.csv_input import Rejection
from contentgen.batch.rows import ClientResolver, validated_rows
from contentgen.budgets import BudgetStatus, budget_status
from contentgen.quality.session import TOKENS_PER_WORD

if TYPE_CHECKING:
    from contentgen.client.local import Client

CHARS_PER_TOKEN = 4


def prompt_tokens(prompt: str) -> int:
    return max(1, -(-len(prompt) // CHARS_PER_TOKEN))


@dataclass
class Estimate:
    rows: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    priced: bool = True  # False when the model has no known price


@dataclass
class DryRun:
    by_client_model: dict[tuple[str, str], Estimate] = field(default_factory=dict)
    rejected: int = 0
    #: Per client name: its budget this month (own or inherited) and where it stands.
    budgets: dict[str, BudgetStatus] = field(default_factory=dict)

    def client_estimate(self, client: str) -> Estimate:
        found = Estimate()
        for (name, _model), e in self.by_client_model.items():
            if name == client:
                found.rows += e.rows
                found.cost += e.cost
                found.priced &= e.priced
        return found

    @property
    def total(self) -> Estimate:
        total = Estimate()
        for e in self.by_client_model.values():
            total.rows += e.rows
            total.input_tokens += e.input_tokens
            total.output_tokens += e.output_tokens
            total.cost += e.cost
            total.priced &= e.priced
        return total


async def estimate_file(
    cg: Client, path: Path, on_reject: Callable[[Rejection], None] | None = None
) -> DryRun:
    resolver = ClientResolver(cg)
    result = DryRun()
    clients: dict[str, uuid.UUID] = {}
    async for item in validated_rows(path, resolver):
        if isinstance(item, Rejection):
            result.rejected += 1
            if on_reject is not None:
                on_reject(item)
            continue
        _row, request = item
        built = await cg.instructions.build(request.prompt_request())
        priority = request.priority.value
        if cg.router.needs_discovery(request.model, priority) and not request.llm_provider:
            await cg.router.discover()  # CONTENTGEN_API_BASE's models; no key is checked
        model = cg.router.route(
            model=request.model, provider=request.llm_provider, priority=priority
        ).model
        tokens_in = prompt_tokens(built.prompt)
        tokens_out = int(built.plan.target_words * TOKENS_PER_WORD)
        catalogue = cg.router.catalogue
        prices = catalogue.prices(catalogue.entry(model))
        client_name = resolver.names.get(request.client_id, str(request.client_id))
        clients[client_name] = request.client_id
        est = result.by_client_model.setdefault((client_name, model), Estimate())
        est.rows += 1
        est.input_tokens += tokens_in
        est.output_tokens += tokens_out
        if prices is None:
            est.priced = False
        else:
            est.cost += prices.cost(tokens_in, tokens_out)
    budgets = await cg.storage.list_budgets()
    for name, client_id in clients.items():
        result.budgets[name] = await budget_status(cg.storage, client_id, budgets=budgets)
    return result
