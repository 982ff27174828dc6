"""IQM's reporting API: documented rules, backend, responses, URL table."""
