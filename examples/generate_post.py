"""Generate one blog post through the library.

    python examples/generate_post.py                       # embedded model (extra 'local')
    CONTENTGEN_MODEL=openai/gpt-4o-mini python examples/generate_post.py
"""

from __future__ import annotations

import asyncio

from contentgen import Client


async def main() -> None:
    async with Client.from_settings() as cg:
        # A client with a strategy: tone, word range and primary keywords.
        try:
            await cg.resolve_client("example-bakery")
        except Exception:
            await cg.add_client("example-bakery")
        await cg.set_strategy(
            "example-bakery",
            {
                "content_guidelines": {"min_words": 250, "max_words": 400,
                                       "required_sections": ["Why Sourdough", "Our Process"]},
                "seo_focus": {"primary_keywords": ["sourdough"]},
                "tone": {"formality": "casual", "voice": "warm"},
            },
        )  # fmt: skip
        job = await cg.generate(
            topic="Why our sourdough takes 48 hours",
            content_type="blog",
            client="example-bakery",
            keywords=["bread", "fermentation"],
        )
        assert job.result is not None
        meta = job.result.metadata
        print(job.result.content)
        print(f"-- {job.id}: {meta.word_count} words, {meta.model}, ${meta.generation_cost:.6f}")
        print(f"-- keywords used: {', '.join(meta.keywords_used)}; notes: {meta.seo_notes}")


if __name__ == "__main__":
    asyncio.run(main())
