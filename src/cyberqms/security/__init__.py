"""Security: the detection library (`detect`, no Django), with the monitoring app, the
transport and incidents built on it."""
