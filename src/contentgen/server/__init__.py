"""contentgen's HTTP server (extra ``server``): ``create_app(settings, client)`` and
``serve(...)`` (what ``contentgen serve`` runs)."""
