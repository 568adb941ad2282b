"""``neurosoup view``: a live or replay page of a run in the browser (extra ``viz``).

Map of the package (solara and Mesa's ``SolaraViz`` are imported only here):
    serve.py   the ``view`` command: checks, a free port, the solara server on uvicorn
    app.py     the solara app: SolaraViz around a live or replay model, controls
    models.py  ReplayModel (a run file, read-only) and live models of every kind
    panels.py  each kind's page, declared once (PAGES): status, counts, series, frame

``add_commands(sub)`` registers the command on the CLI; it imports nothing of solara, so the
rest of the CLI works without the extra.
"""

from .serve import add_commands

__all__ = ["add_commands"]
