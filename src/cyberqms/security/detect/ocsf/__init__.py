"""Normalization of parsed events to OCSF-shaped dicts, plus the GxP extension.

``normalize(parsed, source=…)`` turns what a parser returned (``SyslogMessage``, ``CefEvent``,
``LeefEvent`` or a JSON object) into a plain dict following OCSF 1.x: ``class_uid``,
``category_uid``, ``activity_id``, ``type_uid``, ``time`` (epoch milliseconds),
``severity_id``, ``status_id``/``status``, ``message``, ``actor.user.name``,
``src_endpoint``/``dst_endpoint``, ``device``, ``metadata.product`` … and a top-level ``gxp``
object (site, system, equipment, batch, record_type) that OCSF does not define. Fields
without an OCSF home go under ``unmapped``. ``get(event, "actor.user.name")`` reads a
dotted path. The mapping per input format is documented in docs/monitoring-formats.md.

Pure functions without Django.

The package holds the vocabulary (``vocabulary``: classes, activities, severities,
statuses), the field helpers (``fields``: dotted paths, times), the classification of
messages and actions (``patterns``), the event building the normalizers share
(``building``), the normalizers per input format (``syslog_family``: syslog, CEF, LEEF;
``json_objects``: cyberqms records, flat JSON, OCSF passthrough) and ``normalize``
(``normalizer``). Its public names are re-exported here: import them from
``cyberqms.security.detect.ocsf``.
"""

from __future__ import annotations

from .building import SourceInfo, event_gxp_defaults, new_event
from .fields import epoch_ms, get, parse_time, put
from .json_objects import QMS_KINDS
from .normalizer import normalize
from .patterns import (
    MESSAGE_PATTERNS,
    Classification,
    MessagePattern,
    classify_action,
    classify_message,
    key_values,
)
from .vocabulary import (
    ACCOUNT_CHANGE,
    API_ACTIVITY,
    AUTHENTICATION,
    BASE_EVENT,
    CATEGORIES,
    CLASSES,
    DETECTION_FINDING,
    DEVICE_CONFIG_CHANGE,
    FILE_ACTIVITY,
    GXP_FIELDS,
    NETWORK_ACTIVITY,
    OCSF_VERSION,
    PROCESS_ACTIVITY,
    SEVERITIES,
    STATUS_FAILURE,
    STATUS_SUCCESS,
    STATUS_UNKNOWN,
    STATUSES,
    WEB_RESOURCES_ACTIVITY,
    severity_from_scale,
)

__all__ = [
    "ACCOUNT_CHANGE",
    "API_ACTIVITY",
    "AUTHENTICATION",
    "BASE_EVENT",
    "CATEGORIES",
    "CLASSES",
    "DETECTION_FINDING",
    "DEVICE_CONFIG_CHANGE",
    "FILE_ACTIVITY",
    "GXP_FIELDS",
    "MESSAGE_PATTERNS",
    "NETWORK_ACTIVITY",
    "OCSF_VERSION",
    "PROCESS_ACTIVITY",
    "QMS_KINDS",
    "SEVERITIES",
    "STATUSES",
    "STATUS_FAILURE",
    "STATUS_SUCCESS",
    "STATUS_UNKNOWN",
    "WEB_RESOURCES_ACTIVITY",
    "Classification",
    "MessagePattern",
    "SourceInfo",
    "classify_action",
    "classify_message",
    "epoch_ms",
    "event_gxp_defaults",
    "get",
    "key_values",
    "new_event",
    "normalize",
    "parse_time",
    "put",
    "severity_from_scale",
]
