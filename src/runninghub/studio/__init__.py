"""The studio: a local web page to run workflows, watch them and browse what they made.

``runninghub studio`` serves it on 127.0.0.1 with a one-time token (see ``_guard`` for what
each request must carry). The page talks to the same public ``runninghub.Client`` and the
same journal as the command line; the API key stays in this process and never reaches it.
"""

from __future__ import annotations

from ._guard import StudioGuard
from .app import StudioConfig, create_app

__all__ = ["StudioConfig", "StudioGuard", "create_app"]
