"""Is the process that wrote a ``submitting`` intent still alive? If not, it never will record
the submit's answer, and the intent is ``unknown``."""

from __future__ import annotations

import os
import sys

__all__ = ["ORPHAN_AFTER", "host_name", "is_orphan"]

# An intent still `submitting` this long after it was written belongs to no live submit,
# whatever machine wrote it (a submit, with all its retries, takes seconds to minutes).
ORPHAN_AFTER = 3600.0


def host_name() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket  # not at import time: `runninghub history` starts faster without it

    return socket.gethostname()


def is_orphan(created_at: float, pid: int | None, host: str | None, now: float) -> bool:
    if now - created_at > ORPHAN_AFTER:
        return True
    if pid is None or host != host_name() or sys.platform == "win32":
        return False  # another machine's, or no safe liveness check here: wait for the age
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
