"""``gerrit stream-events`` over SSH: Gerrit's own push channel, with no plugin on the server.

OpenDev offers third parties no webhook; Zuul and every third-party CI listen to
``ssh -p 29418 USER@HOST gerrit stream-events`` (Gerrit's cmd-stream-events.html). This module
keeps one such connection open and turns each JSON line into the same
:class:`~govbot.gerrit.events.GerritEvent` the webhook and the poll produce, queued durably
through :func:`govbot.services.intake.queue_event`.

* **Trust.** The server's host key must be in ``GOVBOT_GERRIT_SSH_KNOWN_HOSTS``; an
  unknown or different key is refused with a message naming the host, never accepted.
  The bot authenticates with its private key (``GOVBOT_GERRIT_SSH_KEY_FILE``) only: no
  agent, no keys picked up from ``~/.ssh``.
* **Liveness.** Every ``keepalive`` seconds of silence the listener asks the server for a
  keepalive reply; no reply within another ``keepalive`` seconds means the connection is
  stalled, and it is dropped.
* **Reconnects** wait with exponential back-off and full jitter (1 s doubling to 60 s).
  After each reconnect ``on_reconnect`` runs (the poll): whatever happened while the
  stream was down is reconciled, so nothing is lost.
* **Bad input** (a line that is not JSON, an event that does not parse, a type govbot does
  not act on) is counted and skipped; the stream goes on.

Metrics (connection state, reconnects, events by type and outcome, lag) are kept in
:class:`StreamMetrics`, a Prometheus collector registered with ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from govbot.errors import ConfigError, GerritError
from govbot.gerrit.events import GerritEvent
from govbot.services.intake import queue_event
from govbot.settings import Settings

LOG = logging.getLogger(__name__)

COMMAND = "gerrit stream-events"
BACKOFF_START = 1.0  # seconds before the first reconnect
BACKOFF_MAX = 60.0
CONNECT_TIMEOUT = 30.0
MAX_LINE = 4 * 1024 * 1024  # a stream event is a few KiB; a longer "line" is garbage


class HostKeyRejected(GerritError):
    """The SSH server's host key is unknown or differs from the known-hosts file."""


@dataclass(frozen=True)
class StreamConfig:
    """Where and as whom to listen (from ``GOVBOT_GERRIT_SSH_*``)."""

    host: str
    port: int
    user: str
    key_file: Path
    known_hosts: Path
    keepalive: float = 15.0
    settle: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamConfig | None:
        """The listener's configuration; None when no SSH host is set. A missing user,
        key or known-hosts file is a :class:`ConfigError` naming the setting."""
        if not settings.gerrit_ssh_host:
            return None
        user = settings.gerrit_ssh_user or settings.gerrit_username
        if not user:
            raise ConfigError("GOVBOT_GERRIT_SSH_HOST is set but no GOVBOT_GERRIT_SSH_USER")
        for name, value in (
            ("GOVBOT_GERRIT_SSH_KEY_FILE", settings.gerrit_ssh_key_file),
            ("GOVBOT_GERRIT_SSH_KNOWN_HOSTS", settings.gerrit_ssh_known_hosts),
        ):
            if not value:
                raise ConfigError(f"GOVBOT_GERRIT_SSH_HOST is set but {name} is not")
            if not Path(value).is_file():
                raise ConfigError(f"{value}: no such file ({name})")
        return cls(
            host=settings.gerrit_ssh_host,
            port=settings.gerrit_ssh_port,
            user=user,
            key_file=Path(settings.gerrit_ssh_key_file),
            known_hosts=Path(settings.gerrit_ssh_known_hosts),
            keepalive=max(0.05, settings.gerrit_ssh_keepalive),
            settle=max(0.0, settings.gerrit_event_settle),
        )

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


# --- metrics ---------------------------------------------------------------------------------


class StreamMetrics(Collector):
    """The listener's counters, read by Prometheus on each scrape (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connected = False
        self.connects = 0
        self.reconnects = 0
        self.events: Counter[tuple[str, str]] = Counter()  # (type, outcome)
        self.lag_seconds: float | None = None

    def record(self, kind: str, outcome: str, lag: float | None = None) -> None:
        with self._lock:
            self.events[(kind, outcome)] += 1
            if lag is not None:
                self.lag_seconds = lag

    def set_connected(self, connected: bool) -> None:
        with self._lock:
            if connected:
                self.connects += 1
                if self.connects > 1:
                    self.reconnects += 1
            self.connected = connected

    def count(self, outcome: str | None = None, kind: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (k, o), n in self.events.items()
                if (outcome is None or o == outcome) and (kind is None or k == kind)
            )

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            connected, reconnects = self.connected, self.reconnects
            events, lag = dict(self.events), self.lag_seconds
        yield GaugeMetricFamily(
            "govbot_stream_connected",
            "1 while the gerrit stream-events SSH connection is up.",
            value=1.0 if connected else 0.0,
        )
        yield CounterMetricFamily(
            "govbot_stream_reconnects", "SSH stream-events reconnections.", value=reconnects
        )
        family = CounterMetricFamily(
            "govbot_stream_events",
            "Stream events read, by type and outcome (queued, or why skipped).",
            labels=["type", "outcome"],
        )
        for (kind, outcome), n in sorted(events.items()):
            family.add_metric([kind, outcome], n)
        yield family
        if lag is not None:
            yield GaugeMetricFamily(
                "govbot_stream_lag_seconds",
                "Seconds between Gerrit creating the last event and govbot reading it.",
                value=lag,
            )


# --- connecting ------------------------------------------------------------------------------


def connect(config: StreamConfig, timeout: float = CONNECT_TIMEOUT) -> paramiko.SSHClient:
    """An authenticated SSH connection to the server whose host key is known.

    Raises :class:`HostKeyRejected` (naming the host) for an unknown or changed key,
    :class:`ConfigError` for an unreadable key file, ``paramiko.SSHException`` or
    ``OSError`` for everything a retry may cure.
    """
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(config.known_hosts))
    except (OSError, paramiko.SSHException) as exc:
        raise ConfigError(f"{config.known_hosts}: cannot read known hosts: {exc}") from None
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    host = _known_hosts_name(config.host, config.port)
    try:
        client.connect(
            config.host,
            port=config.port,
            username=config.user,
            key_filename=str(config.key_file),
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyRejected(
            f"SSH host key of {host} does not match {config.known_hosts}: got "
            f"{exc.key.get_name()} {exc.key.fingerprint}; refusing to connect"
        ) from None
    except paramiko.SSHException as exc:
        client.close()
        if "not found in known_hosts" in str(exc):
            raise HostKeyRejected(
                f"SSH host key of {host} is not in {config.known_hosts}; refusing to connect"
            ) from None
        raise
    except (ValueError, OSError) as exc:
        client.close()
        if isinstance(exc, OSError) and exc.filename:
            raise ConfigError(f"{exc.filename}: cannot read the SSH key: {exc.strerror}") from None
        raise
    return client


def _known_hosts_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Seconds before reconnect ``attempt`` (1, 2, ...): full jitter under a doubling cap."""
    cap = min(BACKOFF_MAX, BACKOFF_START * 2 ** max(0, attempt - 1))
    return rng.uniform(cap / 2, cap)


# --- the listener ----------------------------------------------------------------------------


class StreamListener:
    """One ``gerrit stream-events`` connection kept open on a background thread."""

    def __init__(
        self,
        config: StreamConfig,
        engine: Engine,
        settings: Settings,
        *,
        bot_username: str = "",
        wake: Callable[[float], None] = lambda delay: None,
        on_reconnect: Callable[[], None] = lambda: None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.settings = settings
        self.bot_username = bot_username or config.user
        self.wake = wake
        self.on_reconnect = on_reconnect
        self.clock = clock
        self.metrics = StreamMetrics()
        self.last_error = ""
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()

    def start(self) -> StreamListener:
        self._thread = threading.Thread(target=self.run, name="govbot-stream-events", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the stream is up (for tests and ``govbot demo``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metrics.connected:
                return True
            if self._stop.wait(0.02):
                return False
        return self.metrics.connected

    def run(self) -> None:
        """Connect, read, reconnect with back-off, until :meth:`stop`."""
        failures = 0
        while not self._stop.is_set():
            try:
                self._session()
                failures = 0  # the session was up: start the back-off afresh
            except HostKeyRejected as exc:
                self._failed(str(exc), logging.ERROR)
            except ConfigError as exc:
                self._failed(str(exc), logging.ERROR)
            except (paramiko.SSHException, OSError, EOFError) as exc:
                self._failed(f"{self.config.where}: {type(exc).__name__}: {exc}", logging.WARNING)
            finally:
                self._close()
            if self._stop.is_set():
                break
            failures += 1
            delay = backoff_delay(failures, self._rng)
            LOG.info("stream-events: reconnecting to %s in %.1fs", self.config.where, delay)
            self._stop.wait(delay)

    def _failed(self, message: str, level: int) -> None:
        self.last_error = message
        LOG.log(level, "stream-events: %s", message)

    def _session(self) -> None:
        client = connect(self.config)
        with self._lock:
            self._client = client
        if self._stop.is_set():
            return
        transport = client.get_transport()
        assert transport is not None
        channel = transport.open_session(timeout=CONNECT_TIMEOUT)
        channel.exec_command(COMMAND)
        channel.settimeout(self.config.keepalive)
        self.metrics.set_connected(True)
        reconnected = self.metrics.connects > 1
        LOG.info("stream-events: listening on %s", self.config.where)
        if reconnected:
            # Events sent while the stream was down are gone: the poll finds their changes.
            self._call(self.on_reconnect, "reconciliation after reconnect")
        try:
            for line in _lines(channel, transport, self.config.keepalive, self._stop):
                self.handle_line(line)
        finally:
            self.metrics.set_connected(False)
        if not self._stop.is_set():
            status = channel.exit_status if channel.exit_status_ready() else None
            # Gerrit says why on stderr (e.g. the account may not stream events).
            said = channel.recv_stderr(4096) if channel.recv_stderr_ready() else b""
            why = said.decode("utf-8", errors="replace").strip().splitlines()
            raise EOFError(
                f"the stream ended (exit status {status})" + (f": {why[0]}" if why else "")
            )

    def _close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _call(self, callback: Callable[[], None], what: str) -> None:
        try:
            callback()
        except Exception:  # the edge: a failing callback must not end the stream
            LOG.exception("stream-events: %s failed", what)

    def handle_line(self, line: bytes) -> str:
        """Parse and queue one line; its outcome ("queued", or why it was skipped)."""
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                raise ValueError("not a JSON object with a type")
            event = GerritEvent.from_json(data)
        except (ValueError, GerritError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            self.metrics.record("malformed", "malformed")
            LOG.warning("stream-events: skipped a malformed line (%s): %.120r", exc, line)
            return "malformed"
        now = self.clock()
        lag = (now - event.created_on).total_seconds() if event.created_on else None
        try:
            outcome = queue_event(
                self.engine,
                event,
                self.settings,
                bot_username=self.bot_username,
                now=now,
                settle=dt.timedelta(seconds=self.config.settle),
                source="stream-events",
            )
        except SQLAlchemyError as exc:
            # Lost here, found by the next poll.
            LOG.error("stream-events: could not queue %s: %s", event.type, exc)
            outcome = "db-error"
        self.metrics.record(event.type, outcome, lag)
        if outcome == "queued":
            LOG.info(
                "stream-events: %s on change %s queued", event.type, event.change_number or "-"
            )
            self.wake(self.config.settle)
        return outcome


def _lines(
    channel: paramiko.Channel,
    transport: paramiko.Transport,
    keepalive: float,
    stop: threading.Event,
) -> Iterator[bytes]:
    """The channel's output, line by line, until it closes, stalls or ``stop`` is set."""
    buffer = b""
    while not stop.is_set():
        try:
            chunk = channel.recv(65536)
        except TimeoutError:
            if not _alive(transport, keepalive):
                raise EOFError(f"no keepalive reply within {keepalive:.1f}s: stalled") from None
            continue
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
        if len(buffer) > MAX_LINE:
            LOG.warning("stream-events: dropped %d bytes without a newline", len(buffer))
            buffer = b""


def _alive(transport: paramiko.Transport, timeout: float) -> bool:
    """Whether the server answers a keepalive request within ``timeout`` seconds."""
    if not transport.is_active():
        return False
    done = threading.Event()

    def probe() -> None:
        try:
            transport.global_request("keepalive@openssh.com", wait=True)
        finally:
            done.set()

    threading.Thread(target=probe, name="govbot-stream-keepalive", daemon=True).start()
    return done.wait(timeout) and transport.is_active()


__all__ = [
    "COMMAND",
    "HostKeyRejected",
    "StreamConfig",
    "StreamListener",
    "StreamMetrics",
    "backoff_delay",
    "connect",
]
