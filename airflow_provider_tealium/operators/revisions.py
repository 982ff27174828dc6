"""Operators for iQ revisions: read a revision's details, download and verify its bundle."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError
from airflow_provider_tealium.outputs import write_atomically

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_tealium.api.revisions import RevisionDetails, TealiumBundleVerificationError
    from airflow_provider_tealium.hooks.tealium import TealiumHook

__all__ = [
    "TealiumBundleVerificationError",
    "TealiumDownloadRevisionBundleOperator",
    "TealiumGetRevisionOperator",
]


def __getattr__(name: str) -> Any:
    # Re-exported lazily: importing api.revisions at module level would cost every DAG parse.
    if name == "TealiumBundleVerificationError":
        from airflow_provider_tealium.api.revisions import TealiumBundleVerificationError

        return TealiumBundleVerificationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _RevisionOperatorBase(BaseOperator):
    """What both revision operators share: connection, account/profile, API choice, the revision."""

    def __init__(
        self,
        *,
        revision_id: str | None = None,
        account: str | None = None,
        profile: str | None = None,
        revisions_api: str | None = None,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.revision_id = revision_id
        self.account = account
        self.profile = profile
        self.revisions_api = revisions_api
        self.tealium_conn_id = tealium_conn_id

    @cached_property
    def hook(self) -> TealiumHook:
        """The Tealium hook (the connection is read on first use, never at DAG parse)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id)

    def _validate(self) -> None:
        from airflow_provider_tealium.api import revisions as rev

        if self.revision_id:
            self.revision_id = rev.validate_revision_id(self.revision_id)
        rev.revisions_api(self.revisions_api)

    def _details(self) -> RevisionDetails:
        api = self.revisions_api or None
        if self.revision_id:
            return self.hook.get_revision(self.revision_id, self.account, self.profile, revisions_api=api)
        latest = self.hook.get_latest_revision(self.account, self.profile, revisions_api=api)
        if latest is None:
            acc, prof = self.hook.config.account_profile(self.account, self.profile)
            raise TealiumError(f"{acc}/{prof} has no revisions yet: nothing has been published")
        return latest


class TealiumGetRevisionOperator(_RevisionOperatorBase):
    """Push one revision's details (or the latest revision's) to XCom.

    :param revision_id: the revision (``YYYYMMDDHHMM[SS]``); ``None`` for the latest.
    :param account: the account (default: the connection's ``account`` extra).
    :param profile: the profile (default: the connection's ``profile`` extra).
    :param revisions_api: ``"v1"`` (the v1 login) or ``"v2"`` (the v2 token); default the connection's
        ``revisions_api`` extra, else ``"v1"``.
    :param tealium_conn_id: the ``tealium`` connection.
    :return: the details: ``revision_id``, ``account``, ``profile``, ``name``, ``comment``, ``created_by``,
        ``time_created``, ``targets_published``, ``checksums``.
    """

    template_fields: Sequence[str] = ("revision_id", "account", "profile", "revisions_api", "tealium_conn_id")
    ui_color = "#e8f4fb"

    def execute(self, context: Context) -> dict[str, Any]:
        self._validate()
        details = self._details()
        self.log.info(
            "Revision %s (%s): targets %s",
            details.revision_id,
            details.name,
            ", ".join(details.targets_published),
        )
        return details.to_dict()


class TealiumDownloadRevisionBundleOperator(_RevisionOperatorBase):
    """Download the bundle a revision published to a target, prove it, and keep it.

    The SHA-256 of every file in the zip, and of the zip itself where the details list ``bundle.zip``,
    must equal the revision's checksums for that target; a mismatch, a file the checksums list but the zip
    lacks, or a JavaScript file without a checksum fails the task, naming the files, and nothing is
    written. Tealium's checksums cover every published JavaScript file, so other files without one
    (``mobile.html``) are kept by default but reported as ``unverified``.

    :param path: where to write the zip: a file path, or a directory (an existing one, or one ending in
        ``/``) that gets ``{account}-{profile}-{revision_id}-{target}.zip``. A local path or an
        :class:`~airflow.sdk.ObjectStoragePath` / URL (``s3://bucket/audit/``).
    :param revision_id: the revision; ``None`` for the latest.
    :param target: the environment; default the first of the revision's ``targets_published``.
    :param allow_unlisted_files: files in the zip that have no checksum: ``None`` (default) accepts them
        unless they are JavaScript (``.js``); ``True`` accepts every one; ``False`` accepts none.
        Accepted ones are listed in the result's ``unverified``.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param revisions_api: ``"v1"`` or ``"v2"`` (default: the connection's ``revisions_api`` extra, else v1).
    :param tealium_conn_id: the ``tealium`` connection.
    :return: ``{"path", "revision_id", "target", "account", "profile", "files", "unverified",
        "bundle_sha256"}`` where ``files`` are the verified file names (``bundle.zip`` included when it was
        checked) and ``unverified`` the accepted files that have no checksum.
    """

    template_fields: Sequence[str] = (
        "path",
        "revision_id",
        "target",
        "account",
        "profile",
        "revisions_api",
        "tealium_conn_id",
    )
    ui_color = "#e8f4fb"

    def __init__(
        self,
        *,
        path: str | ObjectStoragePath,
        revision_id: str | None = None,
        target: str | None = None,
        allow_unlisted_files: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(revision_id=revision_id, **kwargs)
        self.path = path
        self.target = target
        self.allow_unlisted_files = allow_unlisted_files

    def _validate(self) -> None:
        from airflow_provider_tealium.api import revisions as rev

        super()._validate()
        if self.target:
            rev.validate_target(self.target)
        if not self.path or not str(self.path).strip():
            raise TealiumValidationError("path", "is required: a file or directory to write the bundle to")

    def _destination(self, account: str, profile: str, revision_id: str, target: str) -> Any:
        """Where the zip goes. The file name is built from the requested, validated values, never from
        the server's answer (a details ``account`` of ``../../x`` would otherwise escape the folder),
        and must resolve inside the folder it is put in."""
        from airflow.sdk import ObjectStoragePath

        raw = self.path
        name = f"{account}-{profile}-{revision_id}-{target}.zip"
        if "/" in name or "\\" in name or name.startswith("."):
            raise TealiumValidationError("path", "the bundle's file name would leave its folder", value=name)
        if isinstance(raw, ObjectStoragePath) or "://" in str(raw):
            dest = raw if isinstance(raw, ObjectStoragePath) else ObjectStoragePath(str(raw))
            if str(raw).endswith("/") or dest.is_dir():
                dest = dest / name
            return dest
        local = Path(str(raw)).expanduser()
        if str(raw).endswith(("/", "\\")) or local.is_dir():
            folder = local.resolve()
            local = local / name
            if local.resolve().parent != folder:
                raise TealiumValidationError(
                    "path", f"the bundle's file would resolve outside {folder}", value=str(local)
                )
        local.parent.mkdir(parents=True, exist_ok=True)
        return local

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_tealium.api import revisions as rev

        self._validate()
        account, profile = self.hook.config.account_profile(self.account, self.profile)
        details = self._details()
        if self.revision_id and details.revision_id != self.revision_id:
            raise rev.TealiumBundleVerificationError(
                f"Tealium answered the details of revision {details.revision_id} for {self.revision_id}"
            )
        target = self.target or (details.targets_published[0] if details.targets_published else None)
        if not target:
            raise TealiumValidationError(
                "target", f"revision {details.revision_id} was published to no target: name one"
            )
        # A target read from the answer names a path segment and the file: checked like a given one.
        target = rev.validate_target(target, "targets_published[0]" if not self.target else "target")
        if target not in details.targets_published:
            raise TealiumValidationError(
                "target",
                f"revision {details.revision_id} was not published to it "
                f"(targets_published: {', '.join(details.targets_published) or 'none'})",
                value=target,
            )
        checksums = details.checksums.get(target)
        if not checksums:
            raise rev.TealiumBundleVerificationError(
                f"Revision {details.revision_id} lists no checksums for {target}: its bundle cannot be verified"
            )
        data = self.hook.download_revision_bundle(
            details.revision_id, target, self.account, self.profile, revisions_api=self.revisions_api or None
        )
        result = rev.verify_bundle(data, checksums)
        if not result.ok(self.allow_unlisted_files):
            raise rev.TealiumBundleVerificationError(
                f"Bundle of revision {details.revision_id} for {target} failed verification "
                f"({result.problems(self.allow_unlisted_files)}); nothing was written"
            )
        dest = self._destination(account, profile, details.revision_id, target)
        write_atomically(dest, data)
        self.log.info(
            "Verified %d checksums of revision %s (%s) and wrote %s",
            len(result.verified),
            details.revision_id,
            target,
            dest,
        )
        unverified = result.unverified(self.allow_unlisted_files)
        if unverified:
            self.log.warning("Files without a checksum (kept, not verified): %s", ", ".join(unverified))
        return {
            "path": str(dest),
            "revision_id": details.revision_id,
            "target": target,
            "account": account,
            "profile": profile,
            "files": result.verified,
            "unverified": unverified,
            "bundle_sha256": result.bundle_sha256,
        }
