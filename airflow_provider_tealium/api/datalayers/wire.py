"""Hosted Data Layer v2 paths, query parameters and documented limits."""

from __future__ import annotations

from airflow_provider_tealium.api.defaults import DLE_REQUESTS_PER_SECOND

DATALAYERS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers"
DATALAYER_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers/{datalayer_id}"
FAILED_UPLOADS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/failed-uploads"
CDN_URL = "https://tags.tiqcdn.com/dle/{account}/{profile}/{datalayer_id}.{extension}"

FILE_TYPE_PARAM = "file-type"
CONTINUATION_PARAM = "continuationToken"
START_DATE_PARAM = "start-date"
END_DATE_PARAM = "end-date"

MAX_COMBINED_LENGTH = 250
# "1MB" is not defined further by Tealium; the stricter reading (10^6 bytes) never lets through a body
# that the API might refuse.
MAX_BODY_BYTES = 1_000_000
RESTRICTED_CHARACTERS = "/:?#[]@!$&'()\\+,;=%.\""
PAGE_SIZE = 1000
MAX_FAILED_UPLOADS = 5000
MAX_REQUESTS_PER_SECOND = 100.0
DEFAULT_REQUESTS_PER_SECOND = DLE_REQUESTS_PER_SECOND
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

INVALID_REQUEST_MESSAGE = "Invalid request submission. Please check supplied parameters or request body."
NO_PERMISSION_MESSAGE = (
    "although the user is authenticated, the request is denied because of a lack of proper permissions"
)
NOT_FOUND_MESSAGE = "Could not locate data layer identified by {datalayer_id}"
