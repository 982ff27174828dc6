"""Extra links whose URL the task stores in XCom while it runs, and reads back from there.

Airflow 3 computes a task's links in the worker when the task finishes (``get_link`` on the live task)
and stores each under its :attr:`~airflow.sdk.BaseOperatorLink.xcom_key`; the UI reads that XCom. A
deferred task finishes in a fresh task object on resumption, a retry in another process, possibly on
another worker, so anything kept on the operator (an attribute set in ``execute``) is gone by then.
The URL is therefore pushed to the link's own XCom key as soon as it is known (before any deferral),
and :meth:`StoredLink.get_link` returns what is stored (the dbt Cloud provider's run link works the
same way). XComs of a deferred task are kept when it resumes, so the link survives the deferral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

PROFILE_UI_URL = "https://my.tealiumiq.com/tms?account={account}&profile={profile}"
"""A profile in the Tealium iQ user interface."""


class StoredLink(BaseOperatorLink):
    """A link to a URL the task stored with :meth:`persist`; empty until it did."""

    def persist(self, context: Any, url: str) -> None:
        """Store the URL for this task instance (call it from ``execute``, before deferring).

        :param context: the task's context.
        :param url: the link's URL.
        """
        context["ti"].xcom_push(key=self.xcom_key, value=url)

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The URL the task stored, or ``""``.

        :param operator: the task.
        :param ti_key: the task instance.
        """
        # Imported here: DAG files import this module, and links are only read where tasks run.
        from airflow.sdk.execution_time.xcom import XCom

        return str(XCom.get_value(ti_key=ti_key, key=self.xcom_key) or "")


class TealiumProfileLink(StoredLink):
    """Opens the task's profile in the Tealium iQ user interface."""

    name = "Tealium iQ profile"

    def persist_profile(self, context: Any, account: str, profile: str) -> None:
        """Store the link to ``account``/``profile``.

        :param context: the task's context.
        :param account: the account the task resolved.
        :param profile: the profile the task resolved.
        """
        self.persist(context, profile_url(account, profile))


class TealiumDataLayerLink(StoredLink):
    """Links to the published data layer on Tealium's CDN (``https://tags.tiqcdn.com/dle/...``); for a bulk
    upload, the first data layer that landed."""

    name = "Tealium data layer"


def profile_url(account: str, profile: str) -> str:
    """The profile's page in the Tealium iQ user interface.

    :param account: the account.
    :param profile: the profile.
    """
    return PROFILE_UI_URL.format(account=quote(account, safe=""), profile=quote(profile, safe=""))
