"""Raw lines as the plant's systems send them: syslog (RFC 5424, RFC 3164), CEF, LEEF and
the QMS's JSON security events, with the domain line builders shared by normal traffic
and the scenarios."""

from __future__ import annotations

import json
import time
from typing import Final

from .catalogue import Source
from .events import SD_ID

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------- lines


class Clock:
    """Formats timestamps, caching the per-second part (events come in time order)."""

    __slots__ = ("_bsd", "_iso", "_sec")

    def __init__(self) -> None:
        self._sec = -1
        self._iso = ""
        self._bsd = ""

    def _set(self, sec: int) -> None:
        tm = time.gmtime(sec)
        self._sec = sec
        self._iso = time.strftime("%Y-%m-%dT%H:%M:%S", tm)
        self._bsd = (f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:>2} "
                     f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}")

    def iso(self, ms: int) -> str:
        sec, rem = divmod(ms, 1000)
        if sec != self._sec:
            self._set(sec)
        return f"{self._iso}.{rem:03d}Z"

    def bsd(self, ms: int) -> str:
        """RFC 3164 ``Mmm dd hh:mm:ss``; the plant's syslog senders run on UTC."""
        sec = ms // 1000
        if sec != self._sec:
            self._set(sec)
        return self._bsd


_SD_ESCAPE: Final = str.maketrans({'"': '\\"', "\\": "\\\\", "]": "\\]"})
_CEF_HEADER_ESCAPE: Final = str.maketrans({"|": "\\|", "\\": "\\\\"})
_CEF_ESCAPE: Final = str.maketrans({"=": "\\=", "\\": "\\\\", "\n": "\\n", "\r": "\\r"})
_LEEF_CLEAN: Final = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
_SD_SPECIAL: Final = frozenset('"\\]')
_LEEF_SPECIAL: Final = frozenset("\t\n\r")


def _needs(value: str, special: frozenset[str]) -> bool:
    """Escaping is rare: test before translating (translate costs ~1 us a value)."""
    return not special.isdisjoint(value)


def syslog5424(src: Source, clock: Clock, ms: int, msgid: str, sd: dict[str, str], msg: str,
               *, severity: int = 6) -> str:
    """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [gxp@32473 k="v" ...] MSG``, facility local4."""
    params = " ".join(
        f'{k}="{v.translate(_SD_ESCAPE) if _needs(v, _SD_SPECIAL) else v}"'
        for k, v in sd.items())
    return (f"<{160 + severity}>1 {clock.iso(ms)} {src.host} {src.app} {src.procid} {msgid} "
            f"[{SD_ID} {params}] {msg}")


def syslog3164(src: Source, clock: Clock, ms: int, kv: dict[str, str], msg: str,
               *, severity: int = 6) -> str:
    """``<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: k=v ... msg="..."``, facility local0, UTC."""
    pairs = " ".join(f"{k}={v}" for k, v in kv.items())
    quoted = msg.replace("\\", "\\\\").replace('"', '\\"')
    return (f"<{128 + severity}>{clock.bsd(ms)} {src.host} {src.app}[{src.procid}]: "
            f'{pairs} msg="{quoted}"')


def _cef_value(v: str) -> str:
    if "=" in v or "\\" in v or "\n" in v or "\r" in v:
        return v.translate(_CEF_ESCAPE)
    return v


_CEF_HEADS: dict[tuple[str, str, str, int], str] = {}


def cef(src: Source, ms: int, signature: str, name: str, severity: int,
        ext: dict[str, str]) -> str:
    """``CEF:0|vendor|product|version|signature|name|severity|rt=… dvchost=… …``."""
    key = (src.id, signature, name, severity)
    head = _CEF_HEADS.get(key)
    if head is None:
        fields = "|".join(x.translate(_CEF_HEADER_ESCAPE) for x in
                          (src.vendor, src.product, src.version, signature, name))
        head = _CEF_HEADS[key] = f"CEF:0|{fields}|{severity}|"
    body = " ".join(f"{k}={_cef_value(v)}" for k, v in ext.items())
    return f"{head}rt={ms} dvchost={src.host} {body}"


def leef(src: Source, clock: Clock, ms: int, event_id: str, attrs: dict[str, str]) -> str:
    """LEEF 1.0, tab-delimited attributes, ISO 8601 ``devTime``."""
    body = "\t".join(f"{k}={v.translate(_LEEF_CLEAN) if _needs(v, _LEEF_SPECIAL) else v}"
                     for k, v in attrs.items())
    return (f"LEEF:1.0|{src.vendor}|{src.product}|{src.version}|{event_id}|"
            f"devTime={clock.iso(ms)}\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\t"
            f"dvchost={src.host}\t{body}")


def qms_json(clock: Clock, ms: int, kind: str, severity: str, username: str,
             source_ip: str | None, message: str, data: dict[str, object] | None = None,
             *, channel: str = "web") -> str:
    """A cyberqms security event (``core.models.SecurityEvent``) as one JSON line."""
    return json.dumps({"created_at": clock.iso(ms), "kind": kind, "severity": severity,
                       "username": username, "source_ip": source_ip, "channel": channel,
                       "message": message, "data": data or {}},
                      separators=(",", ":"), ensure_ascii=False)


# Domain-specific line builders shared by normal traffic and the scenarios.

def gxp_line(src: Source, clock: Clock, ms: int, action: str, user: str, host: str, ip: str,
             msg: str, *, outcome: str = "success", severity: int = 6, **extra: str) -> str:
    """LIMS and MES (RFC 5424) and CDS (RFC 3164) application events."""
    fields = {"site": src.site.code, "user": user, "action": action, "outcome": outcome,
              "src_ip": ip, "src_host": host, **extra}
    if src.format == "rfc3164":
        return syslog3164(src, clock, ms, fields, msg, severity=severity)
    return syslog5424(src, clock, ms, action.upper().replace(".", "_")[:32], fields, msg,
                      severity=severity)


_DC_CAT: Final = {"4624": ("Logon", 1), "4625": ("Logon", 4), "4634": ("Logoff", 1),
                  "4768": ("Kerberos Authentication Service", 1),
                  "4740": ("User Account Management", 6), "4720": ("User Account Management", 5),
                  "4722": ("User Account Management", 4), "4725": ("User Account Management", 5),
                  "4738": ("User Account Management", 3),
                  "4728": ("Security Group Management", 6),
                  "4732": ("Security Group Management", 6)}


def dc_line(src: Source, clock: Clock, ms: int, event_id: str, user: str, ip: str, host: str,
            **extra: str) -> str:
    """A Windows Security event as the DC forwards it. ``usrName`` is the subject (the
    signing-in user, or the administrator making an account change); ``targetUser`` the
    account changed."""
    cat, sev = _DC_CAT[event_id]
    outcome = "failure" if event_id == "4625" else "success"
    attrs = {"cat": cat, "sev": str(sev), "site": src.site.code, "domain": "PHARMA",
             "usrName": user, "src": ip, "srcHost": host, "outcome": outcome, **extra}
    return leef(src, clock, ms, event_id, attrs)


def ot_line(src: Source, ms: int, signature: str, name: str, severity: int, user: str,
            ip: str, host: str, msg: str, **labelled: str) -> str:
    """SCADA and PLC events (CEF); ``labelled`` become csN/csNLabel pairs."""
    ext = {"suser": user, "src": ip, "shost": host} if user else {"src": ip, "shost": host}
    if src.kind == "plc":
        ext["dvc"] = src.ip
    for i, (label, value) in enumerate(labelled.items(), start=1):
        ext[f"cs{i}Label"] = label
        ext[f"cs{i}"] = value
    ext["msg"] = msg
    return cef(src, ms, signature, name, severity, ext)


def fw_line(src: Source, ms: int, ip: str, dst: str, dport: int, action: str, rule: str,
            zones: tuple[str, str], sport: int, bytes_out: int, bytes_in: int,
            app: str = "ssl") -> str:
    """A PAN-OS traffic log in CEF. Every value is an address, a number or a fixed name
    without CEF specials, so the line is built directly (the firewall is the loudest
    source)."""
    allow = action == "allow"
    head = "CEF:0|Palo Alto Networks|PAN-OS|10.2.4|" + (
        "TRAFFIC|traffic end|1|" if allow else "DENY|traffic end|4|")
    return (f"{head}rt={ms} dvchost={src.host} src={ip} dst={dst} spt={sport} dpt={dport} "
            f"proto=TCP act={action} app={app} cs1Label=Rule cs1={rule} cs2Label=FromZone "
            f"cs2={zones[0]} cs3Label=ToZone cs3={zones[1]} out={bytes_out} in={bytes_in} "
            f"deviceExternalId={src.site.code}")
