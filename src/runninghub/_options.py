"""The options a flow carries, as small typed objects instead of long keyword lists.

The public methods keep their keyword arguments (that is the API). Each keyword list is
written once, as a ``TypedDict`` the flows take as ``**options: Unpack[...]`` (type checkers
and editors read every keyword from it); :func:`submit_options` and :func:`run_options` pack
the keywords into these objects, and everything below the public methods passes one object.
:func:`spelled_out` lists the keywords again in each method's signature, for ``help()``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeAlias, TypedDict

from ._errors import InvalidRequestError
from ._policy import PollPolicy
from ._waiting import Progress

__all__ = [
    "AppKeywords",
    "ModelKeywords",
    "PathLike",
    "ProgressCallback",
    "RunAppKeywords",
    "RunKeywords",
    "RunModelKeywords",
    "SaveOptions",
    "SubmitOptions",
    "WaitOptions",
    "WorkflowJSON",
    "WorkflowKeywords",
    "run_options",
    "spelled_out",
    "submit_options",
]

WorkflowJSON: TypeAlias = Mapping[str, Any] | str
PathLike: TypeAlias = str | os.PathLike[str]
# Called with each status change and node progress; the async face awaits what it returns.
ProgressCallback: TypeAlias = Callable[[Progress], Any]


@dataclass(frozen=True)
class SubmitOptions:
    """How to submit: the graph to send, webhook, instance, metadata and validation."""

    workflow_json: WorkflowJSON | None = None
    webhook_url: str | None = None
    instance: str = "default"
    add_metadata: bool = True
    validate: bool | None = None  # None: the client's setting
    personal_queue: bool | None = None  # usePersonalQueue (exclusive keys); None: not sent
    retain_seconds: int | None = None  # keep the machine warm after the task (10-180)
    access_password: str | None = field(default=None, repr=False)  # never shown or logged


@dataclass(frozen=True)
class WaitOptions:
    """How to wait: deadline (None: the poll policy's), cancel on timeout, progress callback."""

    timeout: float | None = None
    cancel_on_timeout: bool = False
    on_progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        # A zero deadline would submit a paid task and time out at once: refused before any
        # submit (not waiting at all is ``submit`` / ``--no-wait``).
        if self.timeout is not None and not self.timeout > 0:
            raise InvalidRequestError(
                f"timeout must be more than 0 seconds, got {self.timeout}",
                hint="to submit without waiting, use submit() (--no-wait on the command line)",
            )

    policy: PollPolicy | None = None  # None: the client's


@dataclass(frozen=True)
class SaveOptions:
    """Where a run saves its outputs, and whether a different file of the same name is replaced."""

    out_dir: str | os.PathLike[str]
    overwrite: bool = False

    @classmethod
    def of(cls, out_dir: str | os.PathLike[str] | None, overwrite: bool) -> SaveOptions | None:
        """None (save nothing) without an ``out_dir``."""
        return None if out_dir is None else cls(out_dir, overwrite)


# ---------------------------------------------------------------------- the keyword lists


class ModelKeywords(TypedDict, total=False):
    """What every submit takes (``submit_model``): see ``SubmitOptions``."""

    webhook_url: str | None
    instance: str
    personal_queue: bool | None
    retain_seconds: int | None
    validate: bool | None


class AppKeywords(ModelKeywords, total=False):
    """``submit_app``'s options: a protected app's password besides."""

    access_password: str | None


class WorkflowKeywords(AppKeywords, total=False):
    """``submit``'s options: the graph to send and the metadata besides."""

    workflow_json: WorkflowJSON | None
    add_metadata: bool


class FinishKeywords(TypedDict, total=False):
    """How a run waits and saves: see ``WaitOptions`` and ``SaveOptions``."""

    timeout: float | None
    out_dir: PathLike | None
    overwrite: bool
    on_progress: ProgressCallback | None
    cancel_on_timeout: bool


class RunKeywords(FinishKeywords, WorkflowKeywords, total=False):
    """``run``'s options."""


class RunAppKeywords(FinishKeywords, AppKeywords, total=False):
    """``run_app``'s options."""


class RunModelKeywords(FinishKeywords, ModelKeywords, total=False):
    """``run_model``'s options."""


# Each keyword's default: the option object's (no out_dir saves nothing).
DEFAULTS: dict[str, Any] = {
    f.name: None if f.default is MISSING else f.default
    for options in (SubmitOptions, WaitOptions, SaveOptions)
    for f in fields(options)
}
_SUBMITTING = frozenset(f.name for f in fields(SubmitOptions))
_WAITING = ("timeout", "cancel_on_timeout", "on_progress")


def submit_options(caller: str, accepted: Any, keywords: Mapping[str, Any]) -> SubmitOptions:
    """The submit options among ``keywords``, refusing one that ``accepted`` (the caller's
    keyword list) does not name as Python refuses an unknown keyword."""
    unknown = sorted(set(keywords) - accepted.__optional_keys__)
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    return SubmitOptions(**{k: v for k, v in keywords.items() if k in _SUBMITTING})


def run_options(
    caller: str, accepted: Any, keywords: Mapping[str, Any]
) -> tuple[SubmitOptions, WaitOptions, SaveOptions | None]:
    """A run's keywords as its submit, wait and save options (refused as ``submit_options``)."""
    submitting = submit_options(caller, accepted, keywords)
    waiting = WaitOptions(**{k: keywords[k] for k in _WAITING if k in keywords})
    saving = SaveOptions.of(keywords.get("out_dir"), keywords.get("overwrite", False))
    return submitting, waiting, saving


def spelled_out(signature: inspect.Signature, namespace: Mapping[str, Any]) -> inspect.Signature:
    """``signature`` with its ``**options: Unpack[SomeKeywords]`` (a name of ``namespace``, the
    flow's module) written out as keyword-only parameters with their defaults."""
    *named, last = signature.parameters.values()
    annotation = str(last.annotation)
    if last.kind is not last.VAR_KEYWORD or not annotation.startswith("Unpack["):
        return signature
    keywords = namespace[annotation.removeprefix("Unpack[").removesuffix("]")]
    spelled = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=DEFAULTS[name],
            annotation=getattr(hint, "__forward_arg__", hint),  # as written, like the rest
        )
        for name, hint in keywords.__annotations__.items()
    ]
    return signature.replace(parameters=[*named, *spelled])
