"""Batch generation from CSV: input validation, outputs, dry-run estimates."""
