"""``gerrit stream-events`` over real SSH, as Gerrit's sshd serves it (cmd-stream-events.txt).

A paramiko server on 127.0.0.1 with a host key of its own. An account logs in with one of
its registered public keys (``people.add_ssh_key``); the one command it serves is
``gerrit stream-events``, which writes every later event of the sandbox as one JSON line
(the shape ``events.build_event`` gives, as the webhook gets). Other commands fail the way
Gerrit's do: a message on stderr and exit status 1.

For fault tests: :meth:`StreamServer.drop` cuts every connection, :meth:`stall` keeps
connections open but silent (keepalive requests unanswered, events held back),
:meth:`garbage` writes a raw line to every listener.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

if TYPE_CHECKING:
    from govbot.sandbox.state import GerritState

LOG = logging.getLogger(__name__)

COMMAND = "gerrit stream-events"


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair: the private key in OpenSSH form, and paramiko's view of it."""

    private_openssh: str
    key: paramiko.PKey

    @property
    def public(self) -> str:
        """``ssh-ed25519 AAAA...``: the form of authorized_keys and known_hosts."""
        return public_line(self.key)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Save the private key, readable by its owner only (as ssh requires)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.private_openssh)


def new_key() -> KeyPair:
    """A fresh Ed25519 key pair (host keys, and the bot's key in tests and the demo)."""
    private = ed25519.Ed25519PrivateKey.generate()
    text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(text, paramiko.Ed25519Key.from_private_key(io.StringIO(text)))


def public_line(key: paramiko.PKey) -> str:
    """``ssh-ed25519 AAAA...`` of a paramiko key."""
    return f"{key.get_name()} {key.get_base64()}"


class _Listener:
    """One ``stream-events`` channel: events are queued and written by its own thread."""

    def __init__(self, channel: paramiko.Channel, account_id: int) -> None:
        self.channel = channel
        self.account_id = account_id
        self.lines: queue.Queue[bytes | None] = queue.Queue()

    def run(self, server: StreamServer) -> None:
        try:
            while True:
                line = self.lines.get()
                if line is None or self.channel.closed:
                    return
                server.wait_unstalled()
                self.channel.sendall(line)
        except (OSError, EOFError, paramiko.SSHException):
            return
        finally:
            server.forget(self)
            self.channel.close()


def _refuse(channel: paramiko.Channel, message: str) -> None:
    """Answer a command the sandbox does not serve as Gerrit does: stderr, exit 1, EOF.

    The channel is left for the client to close: paramiko sends the exec request's reply
    after this thread starts, and a close overtaking it would fail the client's request.
    """
    try:
        channel.sendall_stderr(message.encode())
        channel.send_exit_status(1)
        channel.shutdown_write()
    except (OSError, EOFError, paramiko.SSHException):
        channel.close()


class _Interface(paramiko.ServerInterface):
    def __init__(self, server: StreamServer) -> None:
        self.server = server
        self.account_id: int | None = None

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        state = self.server.state
        with state.lock:
            account = state.find_account(username)
            offered = public_line(key)
            if account is not None and account.active and offered in account.ssh_keys:
                self.account_id = account.id
                return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode("utf-8", errors="replace").strip()
        if text != COMMAND or self.account_id is None:
            name = text.split()[1] if text.startswith("gerrit ") and len(text.split()) > 1 else text
            threading.Thread(
                target=_refuse, args=(channel, f"fatal: gerrit: {name}: not found\n"), daemon=True
            ).start()
            return True
        listener = _Listener(channel, self.account_id)
        self.server.subscribe(listener)
        threading.Thread(
            target=listener.run, args=(self.server,), name="sandbox-ssh-stream", daemon=True
        ).start()
        return True

    def check_global_request(self, kind: str, msg: paramiko.Message) -> bool:
        # A stalled server answers nothing, so a client's keepalive goes unanswered.
        self.server.wait_unstalled()
        return False


class StreamServer:
    """The sandbox's SSH daemon; a listener of the state's events."""

    def __init__(self, state: GerritState, host_key: KeyPair | None = None) -> None:
        self.state = state
        self.host_key = (host_key or new_key()).key
        self.port = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._transports: list[paramiko.Transport] = []
        self._channels: list[paramiko.Channel] = []
        self._running = threading.Event()
        self._unstalled = threading.Event()
        self._unstalled.set()
        self.connections = 0  # sessions accepted (tests count reconnects with it)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0) -> StreamServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._running.set()
        self.state.listeners.append(self.publish)
        self._thread = threading.Thread(target=self._accept, name="sandbox-ssh", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._running.clear()
        self._unstalled.set()
        if self.publish in self.state.listeners:
            self.state.listeners.remove(self.publish)
        self.drop()
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def known_hosts_line(self) -> str:
        """The line a client's known-hosts file needs for this server."""
        return f"[127.0.0.1]:{self.port} {public_line(self.host_key)}"

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    # -- events ----------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """State listener: one JSON line to every stream."""
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
        with self._lock:
            for listener in self._listeners:
                listener.lines.put(line)

    def subscribe(self, listener: _Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def forget(self, listener: _Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- faults ----------------------------------------------------------------------------

    def drop(self) -> None:
        """Cut every connection (as a restart or a network failure would)."""
        with self._lock:
            transports, self._transports = self._transports, []
            listeners, self._listeners = self._listeners, []
            self._channels = []
        for listener in listeners:
            listener.lines.put(None)
        for transport in transports:
            transport.close()

    def stall(self, stalled: bool = True) -> None:
        """Hold every event and keepalive answer (True) or let them go again (False)."""
        if stalled:
            self._unstalled.clear()
        else:
            self._unstalled.set()

    def wait_unstalled(self) -> None:
        while self._running.is_set() and not self._unstalled.wait(0.2):
            pass

    def garbage(self, data: bytes) -> None:
        """Write ``data`` (a line that is not an event) to every stream."""
        with self._lock:
            for listener in self._listeners:
                listener.lines.put(data if data.endswith(b"\n") else data + b"\n")

    # -- connections -----------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._sock is not None
        while self._running.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(conn,), name="sandbox-ssh-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        with self._lock:
            self._transports.append(transport)
            self.connections += 1
        try:
            transport.start_server(server=_Interface(self))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            LOG.debug("sandbox ssh: handshake failed: %s", exc)
            transport.close()
            return
        # Accept the session channel and keep it referenced: paramiko closes a channel
        # object that is garbage-collected, and its exec request may not be handled yet.
        channel = transport.accept(timeout=10)
        if channel is None:
            transport.close()
            return
        with self._lock:
            self._channels.append(channel)


__all__ = ["COMMAND", "KeyPair", "StreamServer", "new_key", "public_line"]
