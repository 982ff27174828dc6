"""Publishing a profile version (v3): start a publish, read its status. Pure, no I/O.

``POST /v3/tiq/accounts/{account}/profiles/{profile}/publish`` with
``{versionId, operatorId, publishTargets, title, notes}`` answers a ``publishId``;
``GET .../publish/{publishId}/status`` answers ``publishTargetState`` (``queued``, ``processing``,
``published`` or ``stopped``). Tealium answers 429 when one publish id is polled more than once a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_provider_tealium.api.arguments import seconds_arg
from airflow_provider_tealium.api.paths import name_segment, segment
from airflow_provider_tealium.api.profiles import profile_path
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import (
    TealiumUnexpectedAnswerError,
    TealiumValidationError,
    TealiumValidationErrors,
)

PUBLISH_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}/publish"
PUBLISH_STATUS_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}/publish/{publish_id}/status"

TARGETS = ("dev", "qa", "prod")
MAX_TITLE_LENGTH = 128
MIN_POLL_INTERVAL = 1.0
"""Seconds between two status polls of one publish; faster polling is answered 429."""
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PublishState(str, Enum):
    """The state of one publish target."""

    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISHED = "published"
    STOPPED = "stopped"


@dataclass(frozen=True)
class PublishRequest:
    """What to publish.

    :param version_id: the profile version to publish.
    :param targets: environments, among ``dev``, ``qa``, ``prod``.
    :param title: the publish title (at most 128 characters).
    :param notes: publish notes.
    :param operator_id: the email of the user publishing.
    """

    version_id: str
    targets: tuple[str, ...]
    title: str
    notes: str
    operator_id: str

    def to_json(self) -> dict[str, Any]:
        """The body sent."""
        return {
            "versionId": self.version_id,
            "operatorId": self.operator_id,
            "publishTargets": list(self.targets),
            "title": self.title,
            "notes": self.notes,
        }


def validate_publish(
    *, version_id: Any, targets: Any, title: Any, notes: Any, operator_id: Any
) -> PublishRequest:
    """Check a publish against the documented rules, reporting every failure at once.

    :param version_id: the version (a non-empty string or number).
    :param targets: a non-empty list of ``dev``/``qa``/``prod`` (a single string is accepted).
    :param title: at most 128 characters, not empty.
    :param notes: notes (may be empty).
    :param operator_id: the publishing user's email.
    :raises TealiumValidationErrors: with every failure.
    """
    errors: list[TealiumValidationError] = []
    if isinstance(version_id, int) and not isinstance(version_id, bool):
        version_id = str(version_id)
    if not isinstance(version_id, str) or not version_id.strip():
        errors.append(
            TealiumValidationError(
                "versionId", "is required (the profile version to publish)", value=version_id
            )
        )
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list | tuple) or not targets:
        errors.append(
            TealiumValidationError("publishTargets", "must name at least one of dev, qa, prod", value=targets)
        )
        targets = []
    for i, target in enumerate(targets):
        if not isinstance(target, str) or target not in TARGETS:
            errors.append(
                TealiumValidationError(f"publishTargets[{i}]", "must be dev, qa or prod", value=target)
            )
    names = [t for t in targets if isinstance(t, str)]
    if len(set(names)) != len(names):
        errors.append(
            TealiumValidationError("publishTargets", "must not repeat a target", value=list(targets))
        )
    if not isinstance(title, str) or not title.strip():
        errors.append(TealiumValidationError("title", "is required"))
    elif len(title) > MAX_TITLE_LENGTH:
        errors.append(
            TealiumValidationError(
                "title", f"must be at most {MAX_TITLE_LENGTH} characters (got {len(title)})"
            )
        )
    if notes is not None and not isinstance(notes, str):
        errors.append(TealiumValidationError("notes", "must be a string", value=notes))
    if not isinstance(operator_id, str) or not _EMAIL_RE.match(operator_id):
        errors.append(
            TealiumValidationError("operatorId", "must be the publishing user's email", value=operator_id)
        )
    if errors:
        raise TealiumValidationErrors(errors)
    return PublishRequest(str(version_id), tuple(targets), title, notes or "", operator_id)


def validate_poll_interval(seconds: Any, name: str = "poll_interval") -> float:
    """Polling a publish faster than once a second is refused by Tealium (429).

    :param seconds: the interval: a number, or a string holding one (a rendered template).
    :param name: the argument's name, for the message.
    """
    try:
        value: float | None = seconds_arg(seconds, name)
    except TealiumValidationError:
        value = None
    if value is None or value < MIN_POLL_INTERVAL:
        raise TealiumValidationError(
            name, "must be at least 1 second (Tealium answers 429 to faster polling)", value=seconds
        )
    return value


def publish_path(account: str, profile: str) -> str:
    """The publish path of a profile.

    :param account: the account.
    :param profile: the profile.
    """
    return profile_path(account, profile) + "/publish"


def publish_request(account: str, profile: str, publish: PublishRequest) -> ApiRequest:
    """``POST .../publish``. Not idempotent: a lost answer is reported, never resent blindly.

    :param account: the account.
    :param profile: the profile.
    :param publish: the validated publish.
    """
    return ApiRequest(
        "POST",
        publish_path(account, profile),
        TokenFamily.V3,
        Host.REGION,
        json_body=publish.to_json(),
        idempotent=False,
    )


def publish_status_request(account: str, profile: str, publish_id: str) -> ApiRequest:
    """``GET .../publish/{publishId}/status``.

    :param account: the account.
    :param profile: the profile.
    :param publish_id: the id the publish call answered.
    """
    if not isinstance(publish_id, str) or not publish_id.strip():
        raise TealiumValidationError("publish_id", "is required", value=publish_id)
    return ApiRequest(
        "GET",
        PUBLISH_STATUS_PATH.format(
            account=name_segment(account, "account"),
            profile=name_segment(profile, "profile"),
            publish_id=segment(publish_id, "publish_id"),
        ),
        TokenFamily.V3,
        Host.REGION,
    )


def _bad_answer(request: ApiRequest | None, what: str) -> TealiumUnexpectedAnswerError:
    # Parsers run only on answers the transport accepted, i.e. 200.
    return TealiumUnexpectedAnswerError(
        request.method if request is not None else "",
        request.path if request is not None else "",
        200,
        what,
    )


def _shown(body: Any, limit: int = 200) -> str:
    text = repr(body)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_publish_id(body: Any, request: ApiRequest | None = None) -> str:
    """The ``publishId`` of a publish answer.

    :param body: the JSON answer.
    :param request: the publish request, named in the error.
    :raises TealiumUnexpectedAnswerError: when the answer carries no ``publishId``.
    """
    value = body.get("publishId") if isinstance(body, Mapping) else None
    if value is None or str(value) == "":
        raise _bad_answer(request, f"the publish answer carries no publishId: {_shown(body)}")
    return str(value)


@dataclass(frozen=True)
class PublishStatus:
    """Where a publish stands, per target.

    :param publish_id: the publish.
    :param targets: target -> state.
    :param message: any message the answer carried.
    """

    publish_id: str
    targets: dict[str, PublishState]
    message: str | None = None

    @property
    def done(self) -> bool:
        """Every target published."""
        return bool(self.targets) and all(s is PublishState.PUBLISHED for s in self.targets.values())

    @property
    def stopped(self) -> list[str]:
        """Targets whose publish stopped (a final failure)."""
        return [t for t, s in self.targets.items() if s is PublishState.STOPPED]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (XCom, trigger events)."""
        return {
            "publish_id": self.publish_id,
            "targets": {t: s.value for t, s in self.targets.items()},
            "message": self.message,
        }

    def summary(self) -> str:
        """``dev=published, prod=processing``."""
        return ", ".join(f"{t}={s.value}" for t, s in sorted(self.targets.items())) or "(no targets)"


def published_result(
    publish_id: str,
    account: str,
    profile: str,
    target_states: Mapping[str, str],
    *,
    version_id: str | None = None,
    requested_at: str | None = None,
) -> dict[str, Any]:
    """The result of a finished publish wait: one shape for the operator and the sensor, polled in the
    worker or in the triggerer.

    ``{"publish_id", "account", "profile", "targets", "target_states", "state": "published"}``, plus
    ``version_id`` and ``requested_at`` when known (never a guess: a wrong ``requested_at`` would be a
    wrong baseline for a revision sensor).

    :param publish_id: the publish.
    :param account: the account.
    :param profile: the profile.
    :param target_states: target -> state, as the last status poll read them.
    :param version_id: the version published, when the waiting task knows it.
    :param requested_at: when the publish was requested (ISO 8601 UTC), when known.
    """
    result: dict[str, Any] = {
        "publish_id": publish_id,
        "account": account,
        "profile": profile,
        "targets": list(target_states),
        "target_states": dict(target_states),
        "state": "published",
    }
    if version_id:
        result["version_id"] = version_id
    if requested_at:
        result["requested_at"] = requested_at
    return result


def _state(value: Any, request: ApiRequest | None) -> PublishState:
    try:
        return PublishState(str(value).lower())
    except ValueError:
        raise _bad_answer(
            request,
            f"unknown publish state {value!r} (expected one of {', '.join(s.value for s in PublishState)})",
        ) from None


def parse_publish_status(
    publish_id: str, body: Any, targets: Iterable[str] = (), *, request: ApiRequest | None = None
) -> PublishStatus:
    """Read a status answer. ``publishTargetState`` is read as one state for every target, a map
    ``{target: state}``, or a list of ``{target|publishTarget, state|publishTargetState}``: the docs
    describe the field without fixing its shape.

    :param publish_id: the publish.
    :param body: the JSON answer.
    :param targets: the targets published, used when the answer gives a single state.
    :param request: the status request, named in the error.
    :raises TealiumUnexpectedAnswerError: for a state or a shape it does not know.
    """
    if not isinstance(body, Mapping):
        raise _bad_answer(request, f"unexpected publish status answer: {_shown(body)}")
    raw = body.get("publishTargetState", body.get("publishTargetStates"))
    states: dict[str, PublishState] = {}
    if isinstance(raw, str):
        names = list(targets) or list(body.get("publishTargets") or []) or ["all"]
        states = {name: _state(raw, request) for name in names}
    elif isinstance(raw, Mapping):
        states = {str(k): _state(v, request) for k, v in raw.items()}
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                name = item.get("target", item.get("publishTarget"))
                states[str(name)] = _state(item.get("state", item.get("publishTargetState")), request)
    else:
        raise _bad_answer(request, f"the publish status answer carries no publishTargetState: {_shown(body)}")
    message = body.get("message")
    return PublishStatus(publish_id, states, str(message) if message else None)
