"""Error answers: IQM's ``errorObjects`` kept as ``details`` and said once in the message."""

from __future__ import annotations

from airflow_provider_tealium.api.errors import error_from_response, parse_error
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError

GET_REPORT = ApiRequest("GET", "/api/v3/ra/report/999", TokenFamily.IQM, Host.IQM)


def test_error_objects_become_details_and_the_message_says_them_once() -> None:
    body = b'{"success": false, "errorObjects": [{"error": "Report not found", "field": "reportId"}]}'
    err = error_from_response(GET_REPORT, ApiResponse(404, {}, body))
    assert str(err) == "GET /api/v3/ra/report/999 failed: HTTP 404: Report not found (field reportId)"
    assert err.details == [{"error": "Report not found", "reason": None, "field": "reportId"}]
    assert err.return_code == "Report not found" and err.api_message == "Report not found (field reportId)"


def test_every_error_object_is_kept_in_order() -> None:
    body = (
        b'{"success": false, "errorObjects": ['
        b'{"error": "Invalid", "reason": "at least one", "field": "columns"},'
        b'{"error": "Invalid date", "field": "endDate"}, "not an object", {"reason": "no text"}]}'
    )
    code, message, details = parse_error(body)
    assert code == "Invalid"
    assert message == "Invalid (field columns): at least one; Invalid date (field endDate); no text"
    assert details == [
        {"error": "Invalid", "reason": "at least one", "field": "columns"},
        {"error": "Invalid date", "reason": None, "field": "endDate"},
        {"error": None, "reason": "no text", "field": None},
    ]
    err = error_from_response(GET_REPORT, ApiResponse(401, {}, body), attempts=2, hint="Check it.")
    assert isinstance(err, TealiumAuthError) and len(err.details) == 3
    assert str(err) == (
        "GET /api/v3/ra/report/999 failed after 2 attempts: HTTP 401: Invalid (field columns): at least one; "
        "Invalid date (field endDate); no text. Check it."
    )


def test_tealium_errors_keep_their_return_code_and_have_no_details() -> None:
    err = error_from_response(GET_REPORT, ApiResponse(400, {}, b'{"returnCode": 1400, "message": "Bad"}'))
    assert str(err) == "GET /api/v3/ra/report/999 failed: HTTP 400, returnCode 1400: Bad"
    assert err.details == []
    assert parse_error(b"<html>Bad gateway</html>") == (None, "<html>Bad gateway</html>", [])


def test_constructor_stays_backward_compatible() -> None:
    plain = TealiumApiError("GET", "/x", 500, "boom", return_code=7)
    assert plain.details == [] and str(plain) == "GET /x failed: HTTP 500, returnCode 7: boom"
    # A code that is not the first error's text is still shown.
    mixed = TealiumApiError("GET", "/x", 500, "boom", return_code=7, details=[{"error": "boom"}])
    assert str(mixed) == "GET /x failed: HTTP 500, returnCode 7: boom"
    assert mixed.details == [{"error": "boom", "reason": None, "field": None}]
