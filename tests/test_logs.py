"""Log redaction (openreel.logs): tokens and provider keys never reach a handler's output."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from uvicorn.logging import AccessFormatter

from openreel.config import ProviderKeys, Settings, StorageConfig
from openreel.logs import REDACTED, RedactSecrets, install_redaction, secrets_of
from openreel.trust.auth import mint_token

KEY = "rk_live_0123456789abcdef0123456789abcdef"


@dataclass
class Capture:
    """A logger with one handler writing to a string, and nothing else."""

    logger: logging.Logger
    handler: logging.StreamHandler[io.StringIO]
    stream: io.StringIO

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def capture(request: pytest.FixtureRequest) -> Iterator[Capture]:
    logger = logging.getLogger(f"openreel_test_logs.{request.node.name}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield Capture(logger, handler, stream)
    # pytest may have put its own capture handlers on this logger: leave them as found.
    _strip(logger.handlers)
    logger.removeHandler(handler)
    logger.propagate = True


@pytest.fixture
def process_logging() -> Iterator[None]:
    """Puts back the record factory and strips our filters after a process-wide install."""
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)
    loggers = [logging.getLogger()] + [
        each
        for each in logging.Logger.manager.loggerDict.values()
        if isinstance(each, logging.Logger)
    ]
    _strip([h for each in loggers for h in each.handlers] + [logging.lastResort])


def _strip(handlers: Iterable[logging.Handler | None]) -> None:
    for handler in handlers:
        if handler is not None:
            for found in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(found)


def _record(msg: object, args: object = (), **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)  # type: ignore[arg-type]
    record.__dict__.update(extra)
    return record


def _fail_with(text: str) -> None:
    raise ValueError(text)


def test_logs_token_in_message_is_redacted(capture: Capture) -> None:
    token = mint_token()
    install_redaction([], logger=capture.logger)
    capture.logger.info(f"Authorization: Bearer {token} was refused")
    assert token not in capture.text()
    assert f"Authorization: Bearer {REDACTED} was refused" in capture.text()


def test_logs_two_tokens_glued_together_are_both_redacted() -> None:
    first, second = mint_token(), mint_token()
    assert RedactSecrets().redact(f"x{first}{second}y") == f"x{REDACTED}{REDACTED}y"


def test_logs_token_in_percent_args_is_redacted_and_other_args_kept(capture: Capture) -> None:
    token = mint_token()
    install_redaction([], logger=capture.logger)
    capture.logger.info("user %s sent %s (%d bytes)", "alice", token, 42)
    assert capture.text().strip().endswith(f"user alice sent {REDACTED} (42 bytes)")
    assert token not in capture.text()


def test_logs_token_in_exception_message_and_traceback_is_redacted(capture: Capture) -> None:
    token = mint_token()
    install_redaction([], logger=capture.logger)
    try:
        try:
            _fail_with(f"token {token} is wrong")
        except ValueError as inner:
            raise RuntimeError(f"while checking {token}") from inner
    except RuntimeError:
        capture.logger.exception("request failed")
    text = capture.text()
    assert token not in text
    assert "Traceback (most recent call last)" in text
    assert f"ValueError: token {REDACTED} is wrong" in text
    assert f"RuntimeError: while checking {REDACTED}" in text


def test_logs_exception_is_formatted_once_and_exc_info_cleared() -> None:
    redactor = RedactSecrets([KEY])
    try:
        _fail_with(KEY)
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", (), None)
        record.exc_info = sys.exc_info()
    redactor.filter(record)
    assert record.exc_info is None
    assert record.exc_text is not None
    assert f"ValueError: {REDACTED}" in record.exc_text
    assert KEY not in logging.Formatter().format(record)


def test_logs_exception_text_set_by_an_earlier_handler_is_redacted() -> None:
    record = _record("boom", exc_text=f"Traceback ...\nValueError: {KEY}")
    RedactSecrets([KEY]).filter(record)
    assert record.exc_text == f"Traceback ...\nValueError: {REDACTED}"


def test_logs_provider_key_in_message_args_and_exception_is_redacted(capture: Capture) -> None:
    install_redaction([KEY], logger=capture.logger)
    capture.logger.warning(f"calling runway with {KEY}")
    capture.logger.warning("calling %s with key=%s", "runway", KEY)
    capture.logger.warning("calling %(p)s with %(k)s", {"p": "runway", "k": KEY})
    try:
        _fail_with(f"401 from https://api.example/v1?key={KEY}")
    except ValueError:
        capture.logger.exception("provider failed")
    text = capture.text()
    assert KEY not in text
    assert text.count(REDACTED) == 4
    assert f"calling runway with key={REDACTED}" in text


def test_logs_percent_encoded_key_is_redacted() -> None:
    key = "sk/live+abc=def012345"
    redactor = RedactSecrets([key])
    assert redactor.redact("GET /v1?key=sk%2Flive%2Babc%3Ddef012345") == f"GET /v1?key={REDACTED}"


def test_logs_key_in_an_objects_str_and_repr_is_redacted() -> None:
    class Request:
        def __str__(self) -> str:
            return f"POST /generate key={KEY}"

        def __repr__(self) -> str:
            return f"Request(headers={{'x-api-key': {KEY!r}}})"

    redactor = RedactSecrets([KEY])
    for template in ("sent %s", "sent %r"):
        record = _record(template, (Request(),))
        redactor.filter(record)
        assert KEY not in record.getMessage()
        assert REDACTED in record.getMessage()
        assert isinstance(record.args, tuple)
        assert len(record.args) == 1  # the argument was replaced, not flattened away


def test_logs_secret_that_breaks_the_template_falls_back_to_the_formatted_message() -> None:
    numeric = "9876543210"
    record = _record("account %d", (int(numeric),))
    RedactSecrets([numeric]).filter(record)
    assert record.getMessage() == f"account {REDACTED}"
    assert record.args == ()


def test_logs_secret_split_between_template_and_arg_is_redacted() -> None:
    record = _record(KEY[:12] + "%s", (KEY[12:],))
    RedactSecrets([KEY]).filter(record)
    assert record.getMessage() == REDACTED


def test_logs_extra_fields_and_stack_info_are_redacted(capture: Capture) -> None:
    install_redaction([KEY], logger=capture.logger)
    capture.handler.setFormatter(logging.Formatter("%(message)s auth=%(auth)s"))
    capture.logger.info("call", extra={"auth": KEY}, stack_info=True)
    assert KEY not in capture.text()
    assert f"call auth={REDACTED}" in capture.text()
    record = _record("x", stack_info=f'  File "x.py", line 1\n    use({KEY})')
    RedactSecrets([KEY]).filter(record)
    assert record.stack_info is not None
    assert KEY not in record.stack_info


def test_logs_uvicorn_access_lines_keep_their_shape() -> None:
    token = mint_token()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/videos?token={token}", "1.1", 200),
        None,
    )
    RedactSecrets().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert line.startswith(f"127.0.0.1:5000 GET /v1/videos?token={REDACTED} HTTP/1.1 200")


def test_logs_short_secrets_are_not_redacted(capture: Capture) -> None:
    redactor = install_redaction(["", "a", "abc1234"], logger=capture.logger)
    assert redactor.secrets == ()
    capture.logger.info("a cat abc1234 sat")
    assert capture.text().strip().endswith("a cat abc1234 sat")
    assert RedactSecrets(["abcd1234"]).redact("x abcd1234 y") == f"x {REDACTED} y"


def test_logs_records_without_secrets_are_untouched() -> None:
    thing = object()
    args = ("alice", 3, thing, b"bytes", None)
    record = _record("%s made %d %r %r %s", args, color="red")
    before = dict(vars(record))
    formatted = logging.Formatter().format(_record("%s made %d %r %r %s", args))
    RedactSecrets([KEY]).filter(record)
    assert record.args is args
    assert vars(record) == before
    assert logging.Formatter().format(record) == formatted


def test_logs_handler_filter_catches_records_from_child_loggers(capture: Capture) -> None:
    install_redaction([KEY], logger=capture.logger)
    child = logging.getLogger(capture.logger.name + ".queue.worker")
    child.error("provider said %s", KEY)
    assert KEY not in capture.text()
    assert f"provider said {REDACTED}" in capture.text()


def test_logs_install_is_idempotent_and_merges_secrets(capture: Capture) -> None:
    first = install_redaction([KEY], logger=capture.logger)
    second = install_redaction([KEY, "fal_key_abcdefgh"], logger=capture.logger)
    assert second is first
    assert [f for f in capture.handler.filters if isinstance(f, RedactSecrets)] == [first]
    assert set(first.secrets) == {KEY, "fal_key_abcdefgh"}
    capture.logger.info("%s %s", KEY, "fal_key_abcdefgh")
    assert capture.text().strip().endswith(f"{REDACTED} {REDACTED}")


@pytest.mark.usefixtures("process_logging")
def test_logs_process_wide_install_covers_root_last_resort_and_later_handlers() -> None:
    redactor = install_redaction([KEY])
    again = install_redaction([KEY])
    assert again is redactor
    root_handlers = logging.getLogger().handlers
    assert all(redactor in h.filters for h in root_handlers)
    assert logging.lastResort is not None
    assert redactor in logging.lastResort.filters
    factory = logging.getLogRecordFactory()
    assert not isinstance(getattr(factory, "previous", None), type(factory))

    # A handler added after the install, the way uvicorn.run adds its own.
    later = logging.getLogger("openreel_test_logs.later")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    later.addHandler(handler)
    later.propagate = False
    try:
        later.warning("key %s", KEY)
        try:
            _fail_with(KEY)
        except ValueError:
            later.exception("failed")
    finally:
        later.removeHandler(handler)
        later.propagate = True
    assert KEY not in stream.getvalue()
    assert stream.getvalue().count(REDACTED) == 2


def test_logs_secrets_of_reads_every_provider_and_skips_empty_ones() -> None:
    settings = Settings(
        providers=ProviderKeys(
            runway=SecretStr(KEY), fal=SecretStr("fal-abcdefgh"), luma=SecretStr("")
        )
    )
    assert sorted(secrets_of(settings)) == sorted([KEY, "fal-abcdefgh"])
    assert secrets_of(Settings(providers=ProviderKeys())) == []


def test_logs_secrets_of_includes_the_database_password() -> None:
    url = "postgresql+psycopg://openreel:s3cret-db-pass@db.internal:5432/openreel"
    assert secrets_of(Settings(database_url=url)) == ["s3cret-db-pass"]  # type: ignore[arg-type]
    assert secrets_of(Settings(database_url="postgresql+psycopg://openreel@db/x")) == []  # type: ignore[arg-type]


def test_logs_secrets_of_includes_the_bucket_keys() -> None:
    storage = StorageConfig(
        bucket="artifacts",
        access_key_id=SecretStr("AKIAEXAMPLEKEYID0001"),
        secret_access_key=SecretStr("bucket-secret-access-key"),
    )
    found = secrets_of(Settings(storage=storage))
    assert sorted(found) == ["AKIAEXAMPLEKEYID0001", "bucket-secret-access-key"]
    assert secrets_of(Settings(storage=StorageConfig(bucket="artifacts"))) == []


def test_logs_webhook_secret_is_redacted() -> None:
    from openreel.services.webhooks.signing import new_secret

    secret = new_secret()
    redacted = RedactSecrets().redact(f"sent with {secret}, then")
    assert redacted == f"sent with {REDACTED}, then"
