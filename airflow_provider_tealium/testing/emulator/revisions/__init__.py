"""Revisions: what a publish leaves behind, served by the v1 API and the v2 manifest API."""
