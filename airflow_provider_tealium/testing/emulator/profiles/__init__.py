"""iQ Profiles v3 (GET, PATCH, versions, the profile lock) and Publish: documented rules, backend,
responses, URL table."""
