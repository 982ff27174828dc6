"""What a fresh emulated profile holds, so a GET answers realistic data from the first call."""

from __future__ import annotations

from typing import Any

from airflow_provider_tealium.testing.emulator.profiles.rules import EXTENSION_TYPE

INITIAL_VERSION = "202601011200"
TAGS: list[dict[str, Any]] = [
    {"id": 1, "title": "Google Analytics 4", "status": "active", "loadRules": ["all"]},
    {"id": 2, "title": "Meta Pixel", "status": "active", "loadRules": ["1"]},
]
EVENTS: list[dict[str, Any]] = [{"id": 1, "name": "purchase", "status": "active"}]


def seed_components() -> dict[str, dict[str, dict[str, Any]]]:
    """``value.object`` kind -> id -> component, as the initial version holds them."""
    return {
        "loadRule": {
            "1": {
                "id": "1",
                "name": "Checkout pages",
                "status": "active",
                "notes": "Every step of checkout",
                "loadRuleCondition": [
                    [{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]
                ],
            },
            "2": {
                "id": "2",
                "name": "Product pages",
                "status": "active",
                "notes": "",
                "loadRuleCondition": [
                    [{"variable": "udo.page_type", "operator": "equals", "value": "product"}],
                    [{"variable": "udo.product_id", "operator": "is defined"}],
                ],
            },
        },
        "variable": {
            "1": {"id": "1", "name": "page_type", "type": "udo", "alias": "Page type", "notes": ""},
            "2": {"id": "2", "name": "page_name", "type": "udo", "alias": "Page name", "notes": ""},
            "3": {"id": "3", "name": "utm_source", "type": "qp", "alias": "Campaign source", "notes": ""},
        },
        "extension": {
            "1": {
                "id": "1",
                "name": "Lower-case page type",
                "type": EXTENSION_TYPE,
                "scope": "Before Load Rules",
                "occurrence": "Run Always",
                "status": "active",
                "notes": "",
                "selectedTargets": {"dev": True, "qa": True, "prod": True},
                "conditions": [],
                "configuration": [
                    {"name": "code", "value": "b.page_type = (b.page_type || '').toLowerCase();"}
                ],
            }
        },
    }
