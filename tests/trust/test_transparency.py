"""The transparency report's rules: the period asked for, and small counts hidden."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from openreel.errors import InvalidRequestError
from openreel.storage.artists import ArtistStore
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import Database
from openreel.storage.tallies import AuditTallies
from openreel.trust.audit import AuditService
from openreel.trust.transparency import DEFAULT_DAYS, TransparencyService, parse_period

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC).timestamp()
DAY = 86400


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def test_default_period_is_the_last_thirty_days() -> None:
    period = parse_period(None, None, None, now=NOW, max_days=366)
    assert (period.since, period.until) == (NOW - DEFAULT_DAYS * DAY, NOW)


@pytest.mark.parametrize(
    ("since", "until", "days", "expected"),
    [
        ("2026-11-01", "2026-11-30", None, ("2026-11-01T00:00", "2026-12-01T00:00")),
        (
            "2026-11-01T06:30:00Z",
            "2026-11-02T06:30:00+00:00",
            None,
            ("2026-11-01T06:30", "2026-11-02T06:30"),
        ),
        ("2026-11-01T06:30:00", None, None, ("2026-11-01T06:30", "2026-12-06T12:00")),
        (None, "2026-11-30", "7", ("2026-11-24T00:00", "2026-12-01T00:00")),
        (str(int(_ts("2026-11-01T00:00"))), None, None, ("2026-11-01T00:00", "2026-12-06T12:00")),
    ],
)
def test_period_forms(
    since: str | None, until: str | None, days: str | None, expected: tuple[str, str]
) -> None:
    period = parse_period(since, until, days, now=NOW, max_days=366)
    assert (period.since, period.until) == (_ts(expected[0]), _ts(expected[1]))


def test_an_over_long_period_is_refused_naming_the_limit() -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_period(None, None, "31", now=NOW, max_days=30)
    assert info.value.param == "days"
    assert "30" in info.value.message
    assert "'31'" in info.value.message


@pytest.fixture
def service(tmp_path: Path) -> TransparencyService:
    db = Database.for_data_dir(tmp_path / "data")
    db.migrate()
    audit = AuditStore(db, lambda: NOW - 10)
    for _ in range(3):
        audit.record(AuditEntry("token.revoked", detail={"reason": "suspended automatically: x"}))
    audit.record(
        AuditEntry("admin.pause", target_id="all", detail={"reason": "=cmd|' /C calc'!A0"})
    )
    return TransparencyService(
        tallies=AuditTallies(db),
        artists=ArtistStore(db, str.casefold),
        audit=AuditService(audit, tmp_path / "anchor.json"),
        policy=None,
        semantic="off",
        prompts="dropped",
        publish_prompts=False,
        identity=None,
        threshold=4,
        max_days=366,
        clock=lambda: NOW,
    )


def test_counts_from_one_to_below_the_threshold_are_hidden(service: TransparencyService) -> None:
    assert [service.count(n) for n in (0, 1, 3, 4, 9)] == [
        0,
        {"fewer_than": 4},
        {"fewer_than": 4},
        4,
        9,
    ]
    figures = service.figures(service.period(None, None, None))
    assert figures["tokens_revoked"]["automatic"] == {"fewer_than": 4}
    rows = list(service.csv_rows(figures))
    assert ("tokens_revoked", "automatic", "", "fewer than 4") in rows


def test_policy_without_moderation_or_signing_says_so(service: TransparencyService) -> None:
    policy = service.policy()
    assert policy["moderation"] == {"enabled": False, "categories": []}
    assert policy["provenance"] == {"signing": False, "certificate": None}
    assert policy["prompts"]["retention"] == "dropped"
    assert service.certificate() is None


def test_a_threshold_below_one_is_a_bug(service: TransparencyService, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threshold"):
        TransparencyService(
            tallies=AuditTallies(Database.for_data_dir(tmp_path / "x")),
            artists=None,  # type: ignore[arg-type]
            audit=None,  # type: ignore[arg-type]
            policy=None,
            semantic="off",
            prompts="full",
            publish_prompts=False,
            identity=None,
            threshold=0,
            max_days=1,
        )


def test_a_breakdown_never_hides_exactly_one_group(service: TransparencyService) -> None:
    # Alone, the 2 could be read as the published total (12) less the 10 shown.
    assert service.counts([10, 2]) == [None, {"fewer_than": 4}]
    assert service.counts([10, 7, 2]) == [10, None, {"fewer_than": 4}]
    assert service.counts([10, 2, 3]) == [10, {"fewer_than": 4}, {"fewer_than": 4}]
    assert service.counts([10, 0, 7]) == [10, 0, 7]
    assert service.counts([2]) == [{"fewer_than": 4}]
