"""Behaviour baselines: per-user and per-system behaviour learned from the event stream,
each event scored as it arrives, anomalies explained by their top contributing features.

    baselines = Baselines(BaselineConfig(alerts_per_day=5))
    for event in enriched:                     # normalized + enriched OCSF dicts, time order
        for match in baselines.observe(event):  # detection Matches, like the Sigma engine's
            ...

Subjects are each acting user (``actor.user.name``) and each system (``gxp.system``, else
``device.hostname``, else ``metadata.log_name``). Per subject the baseline learns:

- time: active hours per site-local hour of day (``gxp.hour``) and weekday
  (``gxp.weekday``), from the enrichment step; for users also compared with their peer
  group (``gxp.work_pattern``: day, shift, service), so that an operator's weekly shift
  rotation or a service account's night job is not unusual;
- volume: events per hour, as a mean per hour of day with its overdispersion;
- hosts: ``src_endpoint.hostname``, else ``.ip``;
- actions: (``type_uid``, failed or not, ``gxp.record_type``, ``metadata.event_code``);
- users: for systems, the accounts acting on them.

Scoring. Each feature contributes its excess surprisal in bits: ``-log2 p(value | subject)``
minus what is typical for that subject (its expected surprisal, the entropy of its own
distribution), floored at 0 and capped at ``MAX_FEATURE_BITS``. Values never seen get the
Good-Turing chance of a new value (the share of values seen once): a firewall that meets new
addresses all day finds one more ordinary, a PLC that has talked to three HMIs for weeks
does not. Volume contributes ``-log2 P(X >= n)`` for the events ``n`` of the current hour
(the Chernoff bound of a Poisson law with the subject's mean at that hour of day), divided
by the subject's overdispersion. A rare value seen on ``REGULAR_DAYS`` distinct days (a
nightly job), and an hour of day active on as many days, are routine and contribute nothing.
The score sums the features of at least half ``notable_bits`` provided one reaches
``notable_bits``; an event alerts when the score reaches its kind's threshold, the subject
has finished its learning period, and it did not alert within the cooldown (one Match per
subject and episode; the alert groups the rest). The Match context names the top features
with the observed value, what is usual for the subject and their share of the score.

Alert budget. The threshold of each kind (users, systems) is tuned from the stream: per UTC
day, a histogram of each subject-hour's highest score (0.5-bit bins); once a day the
threshold becomes the lowest bin edge at which the mean number of subject-hours per day
above it, over the last ``window_days`` complete days, stays within ``headroom`` x the
kind's share of ``alerts_per_day``; never below ``min_threshold``, ``prior_threshold`` before
the first complete day. A subject alerts at most once per cooldown, so the expected number
of alerts on traffic like the recent past stays within the budget. See docs/baselines.md.

Speed. ``observe`` must cost a few microseconds (the ingest budget is 50 us an event in
all), so the per-event path is ours: a few dict and list operations per subject, compared
with cut-offs precomputed at refresh (daily per subject; every other day once mature).
Only candidates (some feature past its cut-off: 0.2-0.3 % of the plant's events) are scored
in full; closed hours are kept in a list and learned at the next refresh. The cut-offs are
set so that a non-candidate cannot have a notable feature.

What river does, and what we wrote. ``river.stats`` (Rust-backed) estimates each subject's
volume dispersion (``EWVar`` of the standardized hourly residuals, fading 0.05: it follows
drift over a few days of activity) and the 99th percentile of its hourly volume
(``Quantile``, the P-squared estimator), which sets the expected volume where an hour of day
has no history yet and is quoted in explanations. They are updated once per closed hour, not
per event. river's detectors were measured and left out of the per-event path:
``anomaly.HalfSpaceTrees`` costs about 26 us per event for score and learn (five times the
whole budget), ``proba.Multinomial`` 0.5 us per update (we need five to eight per event),
and neither explains its score per feature. Ours: the counters, the smoothing, the
surprisal arithmetic, the candidate gating and the budget calibration.

Bounded memory: at most ``max_users`` users and ``max_systems`` systems (the least
recently active tenth is forgotten when full), at most ``max_values`` distinct hosts and
actions per user (four times that per system; values seen once are forgotten first), and
counts halve every ``half_life_days`` so that the baseline follows change.

Pure Python, no Django (``baseline_store`` is the glue). Not thread-safe: one per process,
fed in time order, like the detection engine. Action keys are hashes, valid in one process:
baselines are rebuilt from stored events, never persisted. ``observe`` never raises: parts
of unexpected types are ignored, an event without ``get`` is counted in ``rejected``.

The package holds the constants, rules and tuning (``config``), the streaming estimators
and surprisal arithmetic (``estimators``), the per-user and per-system state (``subject``),
the model's upkeep at hour and day boundaries (``upkeep``), the scoring and explanation of
candidates (``scoring``) and ``Baselines`` with the per-event path (``baselines``). Its
public names are re-exported here: import them from ``cyberqms.security.detect.baseline``.
"""

from __future__ import annotations

from .baselines import Baselines
from .config import (
    BIN_WIDTH,
    BINS,
    DAY_MS,
    FEATURES,
    HOUR_MS,
    MAX_DISPERSION,
    MAX_FEATURE_BITS,
    MIN_DISPERSION,
    REGULAR_DAYS,
    SLOTS,
    STATUS_FAILURE,
    SYSTEM_RULE,
    TOP_FEATURES,
    USER_RULE,
    BaselineConfig,
)
from .estimators import _Calibrator as _Calibrator  # re-exported: the tests calibrate one

__all__ = [
    "BINS",
    "BIN_WIDTH",
    "DAY_MS",
    "FEATURES",
    "HOUR_MS",
    "MAX_DISPERSION",
    "MAX_FEATURE_BITS",
    "MIN_DISPERSION",
    "REGULAR_DAYS",
    "SLOTS",
    "STATUS_FAILURE",
    "SYSTEM_RULE",
    "TOP_FEATURES",
    "USER_RULE",
    "BaselineConfig",
    "Baselines",
]
