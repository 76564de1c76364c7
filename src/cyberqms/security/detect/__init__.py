"""The detection library: parsers of syslog, CEF, LEEF and JSON lines, normalization to
OCSF with the GxP extension, enrichment, Sigma matching and correlation, behaviour
baselines. Pure Python: it imports neither Django nor the rest of cyberqms (a test proves
it), so it runs in the listener, the worker, benchmarks and other programs alike."""
