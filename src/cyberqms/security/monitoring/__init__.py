"""Security monitoring: event ingestion, normalization to OCSF, detection, alerts."""
