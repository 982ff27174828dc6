"""Provider metadata: valid against Airflow's own schema, and the connection form says what it should."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from importlib.resources import files

import jsonschema
import pytest

from airflow_provider_tealium.get_provider_info import get_provider_info


def test_validates_against_airflows_schema() -> None:
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_required_keys() -> None:
    info = get_provider_info()
    for key in ("package-name", "name", "description", "versions", "connection-types"):
        assert info[key]
    assert info["package-name"] == "airflow-provider-tealium"


def test_tealium_connection_form() -> None:
    (conn,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "tealium"]
    assert conn["hook-class-name"] == "airflow_provider_tealium.hooks.tealium.TealiumHook"
    fields = conn["conn-fields"]
    assert {"account", "profile", "v1_password", "platform_base_url", "api_base_url"} <= set(fields)
    assert fields["v1_password"]["schema"]["format"] == "password"
    assert all(f["label"] and f["description"] for f in fields.values())
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"login": "Email", "password": "API key"}
    assert {"host", "port", "schema"} <= set(behaviour["hidden-fields"])


def test_every_referenced_class_imports() -> None:
    from importlib import import_module

    def import_string(path: str) -> object:
        module, _, name = path.rpartition(".")
        return getattr(import_module(module), name)

    info = get_provider_info()
    for conn in info["connection-types"]:
        import_string(conn["hook-class-name"])
    for link in info.get("extra-links", []):
        import_string(link)
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(section, []):
            for module in entry["python-modules"]:
                __import__(module)


def test_entry_point_is_registered() -> None:
    eps = entry_points(group="apache_airflow_provider")
    assert any(ep.value == "airflow_provider_tealium.get_provider_info:get_provider_info" for ep in eps)


def test_iqm_connection_form() -> None:
    (conn,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "iqm"]
    assert conn["hook-class-name"] == "airflow_provider_tealium.hooks.iqm.IQMHook"
    fields = conn["conn-fields"]
    expected = {
        "client_id",
        "client_secret",
        "workspace_host",
        "base_url",
        "login_flow",
        "requests_per_minute",
    }
    assert expected | {"max_retries", "backoff_base", "backoff_max", "timeout"} <= set(fields)
    assert fields["client_secret"]["schema"]["format"] == "password"
    assert fields["base_url"]["schema"]["default"] == "https://api.iqm.com"
    assert all(f["label"] and f["description"] for f in fields.values())
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"login": "Email", "password": "Password"}
    assert {"host", "port", "schema"} <= set(behaviour["hidden-fields"])


def test_connection_types_validate_against_the_provider_yaml_schema() -> None:
    # provider_info.schema.json leaves conn-fields and ui-field-behaviour undescribed; the schema of
    # provider.yaml (the same entries, as providers declare them) describes them on Airflow 3.2+.
    schema = json.loads(files("airflow").joinpath("provider.yaml.schema.json").read_text())
    item_schema = schema["properties"]["connection-types"]["items"]
    for conn in get_provider_info()["connection-types"]:
        jsonschema.validate(conn, item_schema)


# The fields whose behaviour (hidden, relabelled, placeholder) Airflow 3.2+'s connection form applies:
# HookMetaService._make_standard_fields in airflow/api_fastapi/core_api/services/ui/connections.py.
STANDARD_FIELDS = {"description", "schema", "host", "port", "login", "password"}


def test_every_declared_field_behaviour_is_one_the_form_applies() -> None:
    for conn in get_provider_info()["connection-types"]:
        behaviour = conn["ui-field-behaviour"]
        declared = (
            set(behaviour["hidden-fields"]) | set(behaviour["relabeling"]) | set(behaviour["placeholders"])
        )
        assert declared <= STANDARD_FIELDS, (conn["connection-type"], declared - STANDARD_FIELDS)


def test_the_ui_receives_every_declared_field_behaviour() -> None:
    service = pytest.importorskip("airflow.api_fastapi.core_api.services.ui.connections")
    make = getattr(service.HookMetaService, "_make_standard_fields", None)
    if make is None:  # pragma: no cover - Airflow 3.0/3.1 build the form elsewhere
        pytest.skip("this Airflow version has no standard-fields service")
    for conn in get_provider_info()["connection-types"]:
        behaviour = conn["ui-field-behaviour"]
        fields = make(
            {
                "hidden_fields": behaviour["hidden-fields"],
                "relabeling": behaviour["relabeling"],
                "placeholders": behaviour["placeholders"],
            }
        )
        for name in behaviour["hidden-fields"]:
            assert getattr(fields, "url_schema" if name == "schema" else name).hidden, name
        for name, label in behaviour["relabeling"].items():
            assert getattr(fields, name).title == label
        for name, text in behaviour["placeholders"].items():
            assert getattr(fields, name).placeholder == text
