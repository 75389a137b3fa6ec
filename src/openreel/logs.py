"""What this process logs: secrets redacted, and model libraries' chatter kept in the log.

Model libraries (transformers, diffusers, huggingface_hub) write to the terminal on their own:
a progress bar for every model they load and warnings about their internals (a config field
they do not use). :func:`quiet_model_libraries`, called where a model is loaded, turns their
bars off and re-logs their records on our ``openreel.libraries`` logger, warnings as info, so
a person running ``openreel serve`` or ``openreel generate --json`` sees only OpenReel's own
lines while the libraries' remain in the log for whoever turns it up.

The rest of this module is redaction: access tokens and provider keys never reach a log line.

Provider keys are never logged (docs/architecture.md, "The trust layer"). ``SecretStr``
keeps them out of a printed ``Settings``, but a key can still reach a log by other roads: a
provider SDK's exception message (a URL with ``?key=...``, the repr of a request with its
headers), a traceback of code that holds it, a library's debug line. Access tokens travel the
same roads (an ``Authorization`` header in an error, a token pasted into a query string of an
access-log line). Rather than trusting every call site and every library, the last step before
a line is written rewrites it: :class:`RedactSecrets` replaces every OpenReel token (found by
its shape, so tokens we never saw are caught too) and every configured secret string with
``[redacted]`` in the message, its arguments, the exception text and the stack text.

Where it sits: on handlers, not on loggers. A filter on a logger sees only records logged on
that very logger; records that propagate up from child loggers (``openreel.queue.embedded``
up to the root, ``uvicorn.error`` up to ``uvicorn``) reach the parent's handlers without
passing the parent's filters. A filter on a handler sees every record that handler writes,
whichever logger made it. Handlers can be added after we run, though (``uvicorn.run``
configures its own for ``uvicorn`` and ``uvicorn.access`` only once it starts, replacing any
it finds), and logging has no "handler added" hook; so the process-wide install also wraps the
log-record factory, which redacts every record as it is made, before any handler, present or
future, sees it. The handler filters remain for records made before the install or by other
means (``logging.makeLogRecord``) and for ``extra=`` fields, which are set after the factory.

Nothing here runs at import time: :func:`install_redaction` is called by the composition root,
:func:`quiet_model_libraries` by the code that loads a model.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from openreel.config import Settings

__all__ = [
    "LIBRARY_LOGGER",
    "MIN_SECRET_LENGTH",
    "MODEL_LIBRARIES",
    "REDACTED",
    "LibraryRelay",
    "RedactSecrets",
    "install_redaction",
    "quiet_model_libraries",
    "secrets_of",
]

REDACTED = "[redacted]"
"""What a secret becomes in a log line."""

MIN_SECRET_LENGTH = 8
"""Shorter secret strings are ignored: redacting ``"a"`` or ``"1234"`` would shred every log
line (and reveal the secret by where the holes are) while no real provider key is that short."""

_TOKEN = r"or_[0-9A-Za-z]{38}"
"""An OpenReel access token (trust/auth.py): ``or_``, 32 base62 characters, a 6-character
checksum. No look-around and an exact length, so two tokens pasted together are both caught;
the checksum is not verified, since a mistyped token is still nearly a secret."""

_WEBHOOK_SECRET = r"whsec_[A-Za-z0-9+/]{43}="
"""A webhook signing secret (services/webhooks/signing.py): ``whsec_`` and the base64 of 32
bytes. The server never logs one; this catches one a mistake would."""

_BUILT_IN = f"{_TOKEN}|{_WEBHOOK_SECRET}"


class _Redacted:
    """Stands in for a log argument whose ``str`` or ``repr`` held a secret.

    Keeping both spellings lets ``%s`` and ``%r`` in the message template still work.
    """

    __slots__ = ("_shown", "_text")

    def __init__(self, text: str, shown: str) -> None:
        self._text = text
        self._shown = shown

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return self._shown


class RedactSecrets(logging.Filter):
    """Rewrites log records so that no access token, webhook secret or configured secret is
    written.

    It never drops a record (``filter`` always returns True): losing a line that says what
    went wrong is worse than a line with a hole in it.

    A record with an exception is formatted here once (with the standard formatter),
    redacted, stored in ``exc_text``, and its ``exc_info`` cleared. Handlers then print that
    text instead of formatting the exception again themselves, which matters because a
    handler's own formatter may render more than the traceback (frame locals, where a key
    lives) and would do so from the raw exception.

    Arguments are redacted one by one where possible, so formatters that read ``args`` (such
    as uvicorn's access formatter, which unpacks five of them) keep working; only when a
    secret survives that (say, one split between the template and an argument) are the
    message and arguments replaced by the redacted, formatted message.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self._pattern = re.compile(_BUILT_IN)
        self.add(secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret strings being redacted (those long enough to redact)."""
        return self._secrets

    def add(self, secrets: Iterable[str]) -> None:
        """Redacts ``secrets`` too, from the next record on.

        Strings shorter than :data:`MIN_SECRET_LENGTH` are skipped without a word: a log line
        saying that one was skipped would itself tell a reader something about it.
        """
        merged = set(self._secrets)
        merged.update(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH)
        self._secrets = tuple(sorted(merged))
        # A key may show up percent-encoded (in a logged URL); longest first, so a secret
        # that contains another is replaced whole.
        needles = {v for s in self._secrets for v in (s, quote(s, safe=""))}
        alternatives = [re.escape(n) for n in sorted(needles, key=len, reverse=True)]
        self._pattern = re.compile("|".join([_BUILT_IN, *alternatives]))

    def redact(self, text: str) -> str:
        """``text`` with every token and secret replaced by :data:`REDACTED`."""
        return self._pattern.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redacts ``record`` in place; always keeps it."""
        self._redact_exception(record)
        self._redact_message(record)
        changed: dict[str, str] = {}
        for key, value in vars(record).items():  # exc_text, stack_info, message, extras
            if key != "msg" and isinstance(value, str):
                clean = self.redact(value)
                if clean != value:
                    changed[key] = clean
        for key, clean in changed.items():
            setattr(record, key, clean)
        return True

    def _redact_exception(self, record: logging.LogRecord) -> None:
        if not record.exc_info:
            return
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = self.redact(record.exc_text)
        record.exc_info = None

    def _redact_message(self, record: logging.LogRecord) -> None:
        # Cheap pass first: strings only, which covers almost every real record.
        record.msg = self._cheap(record.msg)
        record.args = self._each(record.args, self._cheap)
        try:
            message: str | None = record.getMessage()
        except Exception:  # a broken template: the handler will report it, with our args
            message = None
        if message is not None and self.redact(message) == message:
            return
        record.msg = self._thorough(record.msg)
        record.args = self._each(record.args, self._thorough)
        if message is None:
            return
        try:
            again = record.getMessage()
        except Exception:  # e.g. %d given a redacted stand-in
            again = None
        if again is not None and self.redact(again) == again:
            return
        record.msg, record.args = self.redact(message), ()

    @staticmethod
    def _each(args: Any, redact: Callable[[object], object]) -> Any:
        """``args`` with each value redacted; the very same object when nothing changed."""
        if isinstance(args, Mapping):
            mapped = {key: redact(value) for key, value in args.items()}
            return args if all(mapped[k] is v for k, v in args.items()) else mapped
        if isinstance(args, tuple):
            each = tuple(redact(value) for value in args)
            return args if all(a is b for a, b in zip(each, args, strict=True)) else each
        return args

    def _cheap(self, value: object) -> object:
        if isinstance(value, str):
            clean = self.redact(value)
            return value if clean == value else clean
        if isinstance(value, bytes | bytearray):
            text = bytes(value).decode("utf-8", "backslashreplace")
            clean = self.redact(text)
            return value if clean == text else clean
        return value

    def _thorough(self, value: object) -> object:
        value = self._cheap(value)
        if value is None or isinstance(value, str | bytes | bytearray | bool | _Redacted):
            return value
        try:
            text, shown = str(value), repr(value)
        except Exception:  # its own formatting fails; so will the handler's, without it
            return value
        clean_text, clean_shown = self.redact(text), self.redact(shown)
        if clean_text == text and clean_shown == shown:
            return value
        return _Redacted(clean_text, clean_shown)


class _RedactingFactory:
    """A log-record factory that redacts each record as it is made (see the module docstring)."""

    def __init__(self, previous: Callable[..., logging.LogRecord], redactor: RedactSecrets):
        self.previous = previous
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        self.redactor.filter(record)
        return record


def _handlers_under(logger: logging.Logger) -> list[logging.Handler]:
    """Handlers of ``logger`` and of every logger below it that exists now."""
    loggers: list[logging.Logger] = [logger]
    prefix = "" if logger is logging.getLogger() else logger.name + "."
    for name, other in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(other, logging.Logger) and name.startswith(prefix):
            loggers.append(other)
    handlers: list[logging.Handler] = []
    for each in loggers:
        handlers.extend(h for h in each.handlers if h not in handlers)
    return handlers


def _installed(handlers: Iterable[logging.Handler]) -> RedactSecrets | None:
    for handler in handlers:
        for found in handler.filters:
            if isinstance(found, RedactSecrets):
                return found
    return None


def install_redaction(
    secrets: Iterable[str], *, logger: logging.Logger | None = None
) -> RedactSecrets:
    """Redacts access tokens and ``secrets`` from everything this process logs.

    With no ``logger`` (what ``serve`` wants) it covers the whole process: the filter goes
    on every handler that exists now (the root's, every named logger's, uvicorn's when
    configured, and ``logging.lastResort``, which writes WARNING and above when no handler
    is configured at all), and the log-record factory is wrapped so that handlers added
    later (``uvicorn.run`` adds its own) get redacted records too. With a ``logger`` it
    covers only the handlers of that logger and its existing children, and leaves the
    process-wide factory alone.

    Calling it again is harmless: the filter already in place gains the new secrets and no
    handler or factory gets a second one.

    Args:
        secrets: Plain secret strings (see :func:`secrets_of`); empty or shorter than
            :data:`MIN_SECRET_LENGTH` ones are ignored.
        logger: Only this logger's handlers (and its children's); the whole process if None.

    Returns:
        The filter in place, to add secrets to or to inspect.
    """
    if logger is None:
        handlers = _handlers_under(logging.getLogger())
        if logging.lastResort is not None and logging.lastResort not in handlers:
            handlers.append(logging.lastResort)
        factory = logging.getLogRecordFactory()
        wrapped = factory if isinstance(factory, _RedactingFactory) else None
        redactor = (wrapped.redactor if wrapped else None) or _installed(handlers)
        redactor = redactor or RedactSecrets()
        if wrapped is None:
            logging.setLogRecordFactory(_RedactingFactory(factory, redactor))
    else:
        handlers = _handlers_under(logger)
        redactor = _installed(handlers) or RedactSecrets()
    redactor.add(secrets)
    for handler in handlers:
        if redactor not in handler.filters:
            handler.addFilter(redactor)
    return redactor


def secrets_of(settings: Settings) -> list[str]:
    """The plain values of the configured provider keys, the database and broker passwords
    and the artifact bucket's keys, to hand to :func:`install_redaction`.

    Every field of ``settings.providers`` is read, so a provider added to ``ProviderKeys``
    later is redacted without a change here.
    """
    found: list[str] = []
    for _, value in settings.providers:
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
    for url in (settings.database_url, settings.celery.broker_url):
        if url is not None:
            # A database or broker URL's password, wherever a driver's message repeats it.
            password = urlsplit(url.get_secret_value()).password
            if password:
                found.append(password)
    for key in (settings.storage.access_key_id, settings.storage.secret_access_key):
        if key is not None and key.get_secret_value():
            found.append(key.get_secret_value())
    return found


MODEL_LIBRARIES = ("transformers", "diffusers", "huggingface_hub")
"""The libraries that load models and, left alone, write bars and warnings to the terminal."""

LIBRARY_LOGGER = "openreel.libraries"
"""Where their records go: ``openreel.libraries.transformers.modeling_utils`` and so on."""


class LibraryRelay(logging.Handler):
    """Re-logs a model library's records under :data:`LIBRARY_LOGGER`, warnings as info.

    A model library's warnings speak of its own internals (a loss function for a model that
    is never trained, a config field it ignores) and give whoever runs OpenReel nothing to
    do; they stay in the log at info. Errors keep their level. The new record goes through
    the process's record factory and handlers like any of ours, so redaction applies.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Logs ``record``'s message again on our logger of the same name."""
        try:
            level = record.levelno if record.levelno >= logging.ERROR else logging.INFO
            target = logging.getLogger(f"{LIBRARY_LOGGER}.{record.name}")
            if not target.isEnabledFor(level):
                return
            message = record.getMessage()
            if record.exc_text:  # already formatted (and redacted) by RedactSecrets
                message = f"{message}\n{record.exc_text}"
            target.log(level, "%s", message, exc_info=record.exc_info)
        except Exception:
            self.handleError(record)


def quiet_model_libraries() -> None:
    """Turns off the model libraries' progress bars and routes their log records to ours.

    Call it where a model is about to load, not at import: it imports the libraries that are
    installed (those that are not are skipped). Each library's own terminal handler is
    removed and a :class:`LibraryRelay` put in its place; calling it again changes nothing.
    """
    installed = [name for name in MODEL_LIBRARIES if importlib.util.find_spec(name) is not None]
    if "transformers" in installed:
        library = importlib.import_module("transformers.utils.logging")
        library.disable_default_handler()  # configures its root logger first, then drops it
        library.disable_progress_bar()
    if "diffusers" in installed:
        library = importlib.import_module("diffusers.utils.logging")
        library.disable_default_handler()
        library.disable_progress_bar()
    if "huggingface_hub" in installed:
        importlib.import_module("huggingface_hub.utils").disable_progress_bars()
    for name in installed:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if not isinstance(handler, LibraryRelay):
                logger.removeHandler(handler)  # a library's own stream handler
        if not logger.handlers:
            logger.addHandler(LibraryRelay())
        logger.propagate = False  # the relay passes records on; propagating would repeat them
