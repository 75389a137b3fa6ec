"""The public transparency report: what this server made and refused, and the rules it ran by.

A video service is judged on what it makes, what it refuses and who decides; OpenReel records
all of it already (the audit log, the moderation policy, the signer), and this module turns it
into a report anyone may read without signing in (``GET /v1/transparency``, ``/transparency``).

What keeps it safe to publish:

- Figures come from the audit log only (storage/tallies.py), which records decisions with their
  category and never a prompt; no figure names a person, token or address.
- Every count from 1 to ``threshold - 1`` is shown as "fewer than" the threshold, so no one
  person's activity can be read from a small figure (a lone refusal, a lone video of a rarely
  used model). The seconds of a group hidden that way are hidden with it. Zero is shown as zero.
- A breakdown whose total is published too (videos per model, refusals per category, lookups
  per answer) never hides exactly one group: the smallest shown group is withheld with it
  (``null``), so the total minus what is shown is never one small count.
- Pauses are listed with their reasons only when they paused everything or a model (those
  reasons are shown to every request they refuse); a pause of one person or token is a count.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from openreel.errors import InvalidRequestError
from openreel.media.certs import SigningIdentity
from openreel.storage.artists import ArtistStore
from openreel.storage.tallies import AuditTallies, Tallies, Tally
from openreel.trust.audit import AuditService
from openreel.trust.moderation.artists import CATEGORY as ARTIST_CATEGORY
from openreel.trust.moderation.policy import Policy

__all__ = [
    "DEFAULT_DAYS",
    "Count",
    "Period",
    "TransparencyService",
    "certificate_fingerprint",
    "parse_period",
]

DEFAULT_DAYS = 30
"""The period a report covers when none is asked for: the last 30 days."""

RETENTION = {
    "full": "Prompts are kept with their videos; each person sees only their own.",
    "hashed": "Prompts are replaced by their SHA-256 once a video is finished, failed or cancelled.",
    "dropped": "Prompts are deleted once a video is finished, failed or cancelled.",
}
"""What each ``OPENREEL_PROMPTS`` setting means, as the public reads it."""

KEEP_S = 60.0
"""How long one period's figures are kept before they are counted again."""

KEEP_MAX = 64
"""Most periods kept at once."""

Count = int | dict[str, int] | None
"""A published count: the number, ``{"fewer_than": threshold}`` for a small one, or None for
one withheld so that a hidden count cannot be worked out from its breakdown's total."""


@dataclass(frozen=True, slots=True)
class Period:
    """The span a report covers: ``since <= ts < until``, unix seconds."""

    since: float
    until: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: both ends in ISO 8601 (UTC) and the length in days."""
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "days": round((self.until - self.since) / 86400, 3),
        }


def parse_period(
    since: str | None,
    until: str | None,
    days: str | None,
    *,
    now: float,
    max_days: int,
) -> Period:
    """The period a request asks for.

    ``since`` and ``until`` are ISO 8601 dates (``2026-11-01``, UTC; an ``until`` date
    includes that whole day) or date-times (``2026-11-01T12:00:00Z``; no offset means UTC) or
    unix seconds; ``days`` is a whole number of days back from ``until`` (default: now).
    Without ``since`` and ``days``, the last :data:`DEFAULT_DAYS` days.

    Raises:
        InvalidRequestError: A value is malformed, ``since`` and ``days`` are both given,
            the period is empty or in the wrong order, or longer than ``max_days`` (each
            message names the parameter and the value received).
    """
    end = now if until is None else _instant("until", until, end_of_day=True)
    if days is not None and since is not None:
        raise InvalidRequestError.for_value("days", days, "cannot be combined with since")
    if days is not None:
        try:
            count = int(days)
        except ValueError:
            count = 0
        if not 1 <= count <= max_days:
            raise InvalidRequestError.for_value(
                "days", days, f"must be a whole number from 1 to {max_days}"
            )
        start = end - count * 86400
    elif since is not None:
        start = _instant("since", since, end_of_day=False)
    else:
        start = end - min(DEFAULT_DAYS, max_days) * 86400
    if not end > start:
        raise InvalidRequestError.for_value(
            "until", until or _iso(end), f"must be after since ({_iso(start)})"
        )
    if end - start > max_days * 86400:
        raise InvalidRequestError.for_value(
            "since", since or _iso(start), f"gives a period longer than {max_days} days"
        )
    return Period(start, end)


def certificate_fingerprint(pem: bytes) -> str:
    """The SHA-256 fingerprint of a PEM certificate as ``openssl x509 -fingerprint -sha256``
    prints it (upper-case hex pairs joined by colons), to compare with a downloaded copy."""
    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


class TransparencyService:
    """Builds the public report and the policy in force.

    Args:
        tallies: The audit log's aggregates.
        artists: The artists' opt-out registry (a count of those in force).
        audit: The audit log's head and its last verification.
        policy: The moderation policy in force, or None when moderation is off.
        semantic: The semantic check's setting (``auto``, ``on`` or ``off``).
        prompts: The prompt retention setting (``full``, ``hashed`` or ``dropped``).
        publish_prompts: Whether prompts go into the videos' public credentials.
        identity: The C2PA signer, or None when videos are not signed.
        threshold: Counts below it (and above 0) are shown as "fewer than" it.
        max_days: Longest period a report may cover.
        clock: Unix seconds.
    """

    def __init__(
        self,
        *,
        tallies: AuditTallies,
        artists: ArtistStore,
        audit: AuditService,
        policy: Policy | None,
        semantic: str,
        prompts: str,
        publish_prompts: bool,
        identity: SigningIdentity | None,
        threshold: int,
        max_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1, got {threshold}")
        self._tallies = tallies
        self._artists = artists
        self._audit = audit
        self._policy = policy
        self._semantic = semantic
        self._prompts = prompts
        self._publish_prompts = publish_prompts
        self._identity = identity
        self.threshold = threshold
        self.max_days = max_days
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[float, float], tuple[float, dict[str, Any]]] = {}

    def period(self, since: str | None, until: str | None, days: str | None) -> Period:
        """The period a request asks for (see :func:`parse_period`); "now" is the end of the
        current minute, so repeated calls within a minute ask for the same period."""
        now = math.ceil(self._clock() / 60) * 60.0
        return parse_period(since, until, days, now=now, max_days=self.max_days)

    def count(self, n: int) -> Count:
        """``n`` as published: itself when 0 or at least the threshold, else "fewer than"."""
        return n if n == 0 or n >= self.threshold else {"fewer_than": self.threshold}

    def counts(self, values: Sequence[int]) -> list[Count]:
        """One breakdown's counts whose total is published too: each as :meth:`count`, and
        when exactly one is hidden, the smallest shown one withheld (None) with it, so the
        total less the shown counts is never a single small count."""
        hidden = {i for i, n in enumerate(values) if 0 < n < self.threshold}
        withheld: set[int] = set()
        if len(hidden) == 1:
            shown = [i for i, n in enumerate(values) if n > 0 and i not in hidden]
            if shown:
                withheld.add(min(shown, key=lambda i: values[i]))
        return [None if i in withheld else self.count(n) for i, n in enumerate(values)]

    def figures(self, period: Period) -> dict[str, Any]:
        """The period's figures, JSON-ready, every count passed through :meth:`count`.

        The report is public and needs no sign-in, so each period's figures are kept for
        :data:`KEEP_S` seconds (and periods that end "now" end on a whole minute): anyone
        asking in a loop costs the database one set of aggregates a minute per period.
        """
        key, now = (period.since, period.until), time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] > now:
                return kept[1]
        figures = self._figures(period)
        with self._lock:
            if len(self._kept) >= KEEP_MAX:
                self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
                if len(self._kept) >= KEEP_MAX:
                    self._kept.clear()
            self._kept[key] = (now + KEEP_S, figures)
        return figures

    def _figures(self, period: Period) -> dict[str, Any]:
        t = self._tallies.tally(period.since, period.until)
        made = []
        published = self.counts([group.videos for group in t.made])
        for group, videos in zip(t.made, published, strict=True):
            made.append(
                {
                    "model": group.model or "unknown",
                    "backend": group.backend or "unknown",
                    "videos": videos,
                    "seconds": round(group.seconds, 1) if isinstance(videos, int) else None,
                }
            )
        completed = t.videos["completed"]
        seconds = round(sum(g.seconds for g in t.made), 1)
        return {
            "period": period.to_dict(),
            "threshold": self.threshold,
            "videos": {action: self.count(n) for action, n in t.videos.items()},
            "seconds_made": seconds if completed == 0 or completed >= self.threshold else None,
            "made": made,
            "refusals": {
                "by_check": self._tallied(t.refusals_by_reason, "check"),
                "by_category": self._tallied(t.refusals_by_category, "category"),
                "by_moderation_check": self._tallied(t.refusals_by_check, "check"),
            },
            "artists_opted_out": self.count(self._artists.count_in_force()),
            "tokens_revoked": {kind: self.count(n) for kind, n in t.revoked.items()},
            "pauses": {
                "public": [
                    {"at": _iso(p.ts), "scope": p.scope, "model": p.model, "reason": p.reason}
                    for p in t.pauses
                ],
                "of_one_person_or_token": self.count(t.private_pauses),
            },
            "provenance_lookups": self._lookups(t),
        }

    def policy(self) -> dict[str, Any]:
        """The rules in force: moderation categories and their public reasons, prompt
        retention, the signer's certificate and the audit chain's head."""
        return {
            "moderation": self._moderation(),
            "prompts": {
                "retention": self._prompts,
                "meaning": RETENTION.get(self._prompts, self._prompts),
                "in_credentials": "prompt" if self._publish_prompts else "sha256",
            },
            "provenance": self._provenance(),
            "audit": self._audit_state(),
        }

    def certificate(self) -> bytes | None:
        """The certificate verifiers trust this server's videos by (the chain's last: the
        instance CA for a generated identity), or None when videos are not signed."""
        return None if self._identity is None else self._identity.anchor_pem

    def csv_rows(self, figures: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
        """``figures`` flattened to (section, name, detail, value) rows for the CSV export;
        a hidden count reads ``fewer than N`` and a hidden figure is empty."""
        period = figures["period"]
        yield "period", "since", "", period["since"]
        yield "period", "until", "", period["until"]
        yield "period", "threshold", "", str(figures["threshold"])
        for action, n in figures["videos"].items():
            yield "videos", action, "", _cell(n)
        yield "videos", "seconds_made", "", _cell(figures["seconds_made"])
        for group in figures["made"]:
            name = f"{group['model']} ({group['backend']})"
            yield "made", name, "videos", _cell(group["videos"])
            yield "made", name, "seconds", _cell(group["seconds"])
        for key, rows in figures["refusals"].items():
            for row in rows:
                name = row.get("category") or row.get("check") or ""
                yield f"refusals {key.replace('_', ' ')}", name, "", _cell(row["count"])
        yield "artists", "opted_out", "", _cell(figures["artists_opted_out"])
        for kind, n in figures["tokens_revoked"].items():
            yield "tokens_revoked", kind, "", _cell(n)
        for pause in figures["pauses"]["public"]:
            name = pause["scope"] if pause["model"] is None else f"model {pause['model']}"
            yield "pauses", name, pause["at"], pause["reason"]
        yield (
            "pauses",
            "of_one_person_or_token",
            "",
            _cell(figures["pauses"]["of_one_person_or_token"]),
        )
        for key, n in figures["provenance_lookups"].items():
            if isinstance(n, dict) and "fewer_than" not in n:
                for status, m in n.items():
                    yield "provenance_lookups", key, status, _cell(m)
            else:
                yield "provenance_lookups", key, "", _cell(n)

    # ----- parts ---------------------------------------------------------------------------

    def _tallied(self, tallies: list[Tally], name: str) -> list[dict[str, Any]]:
        published = self.counts([t.count for t in tallies])
        return [{name: t.key, "count": n} for t, n in zip(tallies, published, strict=True)]

    def _lookups(self, t: Tallies) -> dict[str, Any]:
        counted = {tally.key: tally.count for tally in t.lookups}
        lookups = {k: n for k, n in counted.items() if k.startswith("lookup:")}
        verifies = {
            k.removeprefix("verify:"): n for k, n in counted.items() if k.startswith("verify:")
        }
        made_here, not_made_here = self.counts(
            [lookups.get("lookup:made_here", 0), lookups.get("lookup:not_found", 0)]
        )
        statuses = sorted(verifies)
        by_status = self.counts([verifies[status] for status in statuses])
        return {
            "lookups": self.count(sum(lookups.values())),
            "made_here": made_here,
            "not_made_here": not_made_here,
            "verifications": self.count(sum(verifies.values())),
            "verified_by_status": dict(zip(statuses, by_status, strict=True)),
        }

    def _moderation(self) -> dict[str, Any]:
        if self._policy is None:
            return {"enabled": False, "categories": []}
        categories = [
            {"category": name, "reason": c.reason} for name, c in self._policy.categories.items()
        ]
        figures = self._policy.public_figures
        if figures.names:
            categories.append(
                {
                    "category": figures.category,
                    "reason": figures.reason.replace("{name}", "The person named"),
                }
            )
        categories.append(
            {
                "category": ARTIST_CATEGORY,
                "reason": "Prompts asking for the style of an artist who opted out of style "
                "imitation (the artists' opt-out registry) are not generated.",
            }
        )
        return {
            "enabled": True,
            "categories": categories,
            "public_figures_listed": len(figures.names),
            "semantic_check": self._semantic,
        }

    def _provenance(self) -> dict[str, Any]:
        identity = self._identity
        if identity is None:
            return {"signing": False, "certificate": None}
        return {
            "signing": True,
            "certificate": {
                "sha256": certificate_fingerprint(identity.anchor_pem),
                "subject": _subject(identity.anchor_pem),
                "signer": identity.common_name,
                "organization": identity.organization,
                "signer_expires": identity.not_after.astimezone(dt.UTC).isoformat(),
            },
        }

    def _audit_state(self) -> dict[str, Any]:
        head = self._audit.head()
        verified = self._audit.last_verified()
        return {
            "head": None if head is None else {"seq": head.seq, "row_hash": head.row_hash},
            "last_verified": None
            if verified is None
            else {
                "at": _iso(verified.at),
                "seq": verified.head.seq,
                "row_hash": verified.head.row_hash,
            },
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "fewer_than" in value:
        return f"fewer than {value['fewer_than']}"
    return str(value)


def _subject(pem: bytes) -> str:
    return x509.load_pem_x509_certificate(pem).subject.rfc4514_string()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def _instant(param: str, value: str, *, end_of_day: bool) -> float:
    """Unix seconds from unix seconds, an ISO date or an ISO date-time (UTC when unzoned)."""
    text = value.strip()
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time(), dt.UTC)
            return (moment + dt.timedelta(days=1 if end_of_day else 0)).timestamp()
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequestError.for_value(
            param, value, "must be a date (2026-11-01), a date-time or unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
