"""How events travel in and out: the syslog listener (RFC 5425/6587 over TCP and TLS, UDP)
and the SIEM forwarder. They hand events to the monitoring app's ingest service and take
them from its sinks; they own no models."""
