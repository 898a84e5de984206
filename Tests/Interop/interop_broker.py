"""A handle on one `sluice serve` child process: start, wait until ready, stop, kill, restart, pause.

Every wait is bounded. The child dies with the test process (PR_SET_PDEATHSIG), so a test run that is
itself killed leaves no broker behind.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_BYTES = 64 * 1024

_PR_SET_PDEATHSIG = 1
_READY_LINE = re.compile(r"listening on (?P<host>[^\s:]+):(?P<port>\d+)")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def sluice_binary() -> Path:
    configured = os.environ.get("SLUICE_BINARY")
    if configured:
        return Path(configured).expanduser().resolve()
    return repo_root() / ".build" / "debug" / "sluice"


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the broker binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load_prctl() -> object | None:
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Resolved once here: between fork and exec (where other threads' locks may be held) only a plain call runs.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to SIGKILL it when the test process dies.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # type: ignore[operator]


class BrokerError(AssertionError):
    """The broker did not start, did not stop in time, or exited when it should not have."""


class SluiceBroker:
    """One `sluice serve` on 127.0.0.1:port with its data directory; restartable on the same port and data."""

    external = False

    def __init__(self, binary: Path, data_dir: Path, log_dir: Path, port: int | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.port = port if port is not None else free_port()
        self.extra_args = list(extra_args or [])
        self.process: subprocess.Popen[bytes] | None = None
        self.start_count = 0
        self.exit_codes: list[int] = []
        self.stdout_path = log_dir / "stdout.log"
        self.stderr_path = log_dir / "stderr.log"
        self._stdout_thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._ready_line: str | None = None
        self._stderr_file = None
        data_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)

    # -- addresses --

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [str(self.binary), "serve", "--data-dir", str(self.data_dir),
                "--kafka-listen", self.bootstrap, *self.extra_args]

    # -- lifecycle --

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start (again, after a stop or a kill) on the same port and data; wait for the ready line."""
        assert not self.is_running(), "broker already running"
        if self.start_count > 0:
            self._wait_port_free()
        self.start_count += 1
        self._ready = threading.Event()
        self._ready_line = None
        with self.stdout_path.open("ab") as f:
            f.write(f"=== start #{self.start_count}: {' '.join(self.command())}\n".encode())
        self._stderr_file = self.stderr_path.open("ab")
        self._stderr_file.write(f"=== start #{self.start_count}\n".encode())
        self._stderr_file.flush()
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr_file,
            preexec_fn=_die_with_parent, close_fds=True)
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout, args=(self.process,), name=f"sluice-stdout-{self.port}", daemon=True)
        self._stdout_thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return
            if self.process.poll() is not None:
                code = self.process.returncode
                self._after_exit()
                raise BrokerError(f"sluice serve exited with code {code} before printing its ready line\n"
                                  f"command: {' '.join(self.command())}\n{self.log_tail()}")
        self.process.kill()
        self.process.wait(10)
        self._after_exit()
        raise BrokerError(f"sluice serve printed no 'listening on {self.bootstrap}' line within {timeout_s} s\n"
                          f"command: {' '.join(self.command())}\n{self.log_tail()}")

    def _pump_stdout(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with self.stdout_path.open("ab") as out:
            for raw in iter(process.stdout.readline, b""):
                out.write(raw)
                out.flush()
                if not self._ready.is_set():
                    match = _READY_LINE.search(raw.decode("utf-8", "replace"))
                    if match and int(match.group("port")) == self.port:
                        self._ready_line = raw.decode("utf-8", "replace").strip()
                        self._ready.set()

    def _after_exit(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            self.exit_codes.append(self.process.returncode)
        if self._stdout_thread is not None:
            self._stdout_thread.join(5)
            self._stdout_thread = None
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        self.process = None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exited_unexpectedly(self) -> int | None:
        """The exit code if the process is gone although nobody stopped it, else None."""
        if self.process is not None and self.process.poll() is not None:
            return self.process.returncode
        return None

    def terminate(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM and wait; returns the exit code. SIGKILLs and raises if it does not exit in time."""
        assert self.process is not None, "broker not started"
        process = self.process
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # in case a test paused it
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                self._after_exit()
                raise BrokerError(f"sluice serve did not exit within {timeout_s} s of SIGTERM; killed it\n"
                                  f"{self.log_tail()}")
        code = process.returncode
        self._after_exit()
        return code

    def kill(self) -> int:
        """SIGKILL (a crash) and reap; returns the exit code (-9)."""
        assert self.process is not None, "broker not started"
        process = self.process
        if process.poll() is None:
            process.kill()
            process.wait(10)
        code = process.returncode
        self._after_exit()
        return code

    def restart(self, mode: str = "sigterm") -> int | None:
        """Stop (mode 'sigterm' or 'sigkill') and start again on the same port and data directory."""
        if mode == "sigterm":
            code = self.terminate()
            if code != 0:
                raise BrokerError(f"sluice serve exited with {code} on SIGTERM (expected 0)\n{self.log_tail()}")
        elif mode == "sigkill":
            code = self.kill()
        else:
            raise ValueError(mode)
        self.start()
        return code

    def _wait_port_free(self) -> None:
        # The listening socket of the previous process must be gone (bindable with SO_REUSEADDR, as servers
        # bind). Then the broker starts once: a failure to bind is the broker's, not a race of the harness.
        deadline = time.monotonic() + 20
        while not _bindable(self.host, self.port):
            if time.monotonic() > deadline:
                raise BrokerError(f"port {self.port} still not bindable 20 s after the broker stopped")
            time.sleep(0.1)

    def restart_after_crash(self) -> None:
        """Start again after the process died on its own (its exit code is kept in exit_codes)."""
        assert self.exited_unexpectedly() is not None
        self._after_exit()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Teardown: stop whatever runs, never hang; raise if the process had died on its own."""
        if self.process is None:
            return
        crashed = self.exited_unexpectedly()
        try:
            self.terminate()
        except BrokerError:
            pass
        if crashed is not None:
            raise BrokerError(f"sluice serve at {self.bootstrap} had exited on its own with code {crashed}\n"
                              f"{self.log_tail()}")

    # -- logs --

    def log_positions(self) -> tuple[int, int]:
        return (_size(self.stdout_path), _size(self.stderr_path))

    def log_tail(self, since: tuple[int, int] = (0, 0)) -> str:
        parts = []
        for label, path, start in (("stdout", self.stdout_path, since[0]), ("stderr", self.stderr_path, since[1])):
            parts.append(f"--- sluice serve {label} ({path}) ---\n{_read_tail(path, start)}")
        return "\n".join(parts)


class ExternalBroker:
    """A broker that someone else runs (SLUICE_INTEROP_BOOTSTRAP=host:port), e.g. Apache Kafka to check the
    suite itself. Tests that need to stop, kill, restart or inspect it are skipped."""

    external = True

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        host, _, port = bootstrap.rpartition(":")
        self.host = host
        self.port = int(port)
        self.exit_codes: list[int] = []

    def _unsupported(self, *args: object, **kwargs: object) -> None:
        import pytest
        pytest.skip("needs a broker that the suite starts itself (SLUICE_INTEROP_BOOTSTRAP is set)")

    start = terminate = kill = restart = pause = resume = _unsupported

    def is_running(self) -> bool:
        return True

    def exited_unexpectedly(self) -> int | None:
        return None

    def close(self) -> None:
        pass

    def log_positions(self) -> tuple[int, int]:
        return (0, 0)

    def log_tail(self, since: tuple[int, int] = (0, 0)) -> str:
        return f"(external broker at {self.bootstrap}: no logs)"


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_tail(path: Path, start: int) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            begin = max(start, end - LOG_TAIL_BYTES)
            f.seek(begin)
            data = f.read()
    except FileNotFoundError:
        return "(no output)"
    text = data.decode("utf-8", "replace")
    if begin > start:
        text = f"[... {begin - start} bytes cut ...]\n" + text
    return text or "(no output)"
