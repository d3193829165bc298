"""The Content Production Module: jobs, pipeline, analysis."""
