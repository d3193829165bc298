"""The Instructions Module: client strategies -> prompts."""

from contentgen.instructions.builder import BuiltPrompt, InstructionsModule, WritingPlan
from contentgen.instructions.setup import EffectiveSetup, resolve_setup
from contentgen.instructions.templates import (
    TEMPLATE_VARIABLES,
    render_template,
    validate_template,
)

__all__ = [
    "TEMPLATE_VARIABLES",
    "BuiltPrompt",
    "EffectiveSetup",
    "InstructionsModule",
    "WritingPlan",
    "render_template",
    "resolve_setup",
    "validate_template",
]
