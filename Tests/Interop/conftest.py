"""Fixtures of the interoperability suite: a fresh `sluice serve` per test module (or per test, for tests
that stop, kill or restart it), unique topic names, a seeded random generator, and the broker's output
attached to the report of every failing test.

Environment:
  SLUICE_BINARY            the sluice executable (default: <repo>/.build/debug/sluice)
  SLUICE_INTEROP_SEED      seed of the tests' random generators (default 20240601); printed in the header
  SLUICE_INTEROP_BOOTSTRAP host:port of a broker run by someone else (e.g. Apache Kafka, to check the suite
                           itself); tests that stop, kill or restart the broker are then skipped
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from interop_broker import ExternalBroker, SluiceBroker, sluice_binary

DEFAULT_SEED = 20240601
# Broker options every test gets unless it says otherwise: no initial rebalance delay (tests wait on
# conditions, not clocks) and no auto-creation (a mistyped topic fails loudly instead of appearing).
DEFAULT_BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "0", "--auto-create-topics", "false"]

_broker_logs_key = pytest.StashKey[dict[int, tuple[int, int]]]()


def seed() -> int:
    return int(os.environ.get("SLUICE_INTEROP_SEED", DEFAULT_SEED))


def external_bootstrap() -> str | None:
    return os.environ.get("SLUICE_INTEROP_BOOTSTRAP") or None


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = external_bootstrap() or str(sluice_binary())
    return [f"sluice interop: broker {target}, seed {seed()} (SLUICE_INTEROP_SEED)"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "broker_args(*args): extra `sluice serve` arguments for this module/test")


# ----------------------------------------------------------------------------------------------------
# the binary
# ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sluice_executable() -> Path:
    """The sluice binary, checked once: it exists and has a `serve` subcommand."""
    binary = sluice_binary()
    if not binary.exists():
        pytest.fail(f"sluice binary not found at {binary}: build it (swift build) or set SLUICE_BINARY", pytrace=False)
    try:
        probe = subprocess.run([str(binary), "serve", "--help"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{binary} serve --help` did not return within 30 s", pytrace=False)
    text = (probe.stdout + probe.stderr).decode(errors="replace")
    if probe.returncode != 0 or "--kafka-listen" not in text:
        pytest.fail(f"`{binary} serve --help` exited {probe.returncode} and does not document --kafka-listen: "
                    f"this binary has no Kafka broker yet\n{text[:2000]}", pytrace=False)
    return binary


# ----------------------------------------------------------------------------------------------------
# brokers
# ----------------------------------------------------------------------------------------------------

def _broker_args(node: pytest.Item | pytest.Collector) -> list[str]:
    args = list(DEFAULT_BROKER_ARGS)
    for marker in reversed(list(node.iter_markers("broker_args"))):
        extra = [str(a) for a in marker.args]
        # a later --flag VALUE replaces an earlier one of the same flag
        for i in range(0, len(extra), 2):
            if extra[i] in args:
                j = args.index(extra[i])
                del args[j:j + 2]
        args += extra
    return args


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:limit]


class _BrokerFactory:
    def __init__(self, executable: Path | None, root: Path) -> None:
        self.executable = executable
        self.root = root
        self.brokers: list[Any] = []

    def start(self, name: str, args: list[str]) -> Any:
        bootstrap = external_bootstrap()
        if bootstrap:
            broker: Any = ExternalBroker(bootstrap)
        else:
            assert self.executable is not None
            base = self.root / f"{len(self.brokers):02d}-{_slug(name, 40)}"
            broker = SluiceBroker(self.executable, base / "data", base / "logs", extra_args=args)
            self.brokers.append(broker)
            broker.start()
        return broker

    def close(self) -> None:
        for broker in self.brokers:
            broker.close()


@pytest.fixture(scope="session")
def _broker_factory(request: pytest.FixtureRequest) -> Iterator[_BrokerFactory]:
    executable = None if external_bootstrap() else request.getfixturevalue("sluice_executable")
    root = Path(tempfile.mkdtemp(prefix="sluice-interop-"))
    factory = _BrokerFactory(executable, root)
    yield factory
    factory.close()
    if os.environ.get("SLUICE_INTEROP_KEEP") is None:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def broker(request: pytest.FixtureRequest, _broker_factory: _BrokerFactory) -> Iterator[Any]:
    """One fresh `sluice serve` shared by the tests of a module. Tests must not stop it."""
    b = _broker_factory.start(request.module.__name__, _broker_args(request.node))
    yield b
    b.close()


@pytest.fixture
def own_broker(request: pytest.FixtureRequest, _broker_factory: _BrokerFactory) -> Iterator[Any]:
    """A fresh `sluice serve` for this test alone, which the test may stop, kill, pause and restart."""
    if external_bootstrap():
        pytest.skip("needs a broker that the suite starts itself (SLUICE_INTEROP_BOOTSTRAP is set)")
    b = _broker_factory.start(request.node.name, _broker_args(request.node))
    yield b
    b.close()


@pytest.fixture(autouse=True)
def _broker_health(request: pytest.FixtureRequest) -> Iterator[None]:
    """A broker that died in an earlier test is started again (one crash must not fail every later test);
    a broker that dies during this test fails it, with its exit code."""
    brokers = [request.getfixturevalue(n) for n in ("broker", "own_broker") if n in request.fixturenames]
    for b in brokers:
        if isinstance(b, SluiceBroker) and b.exited_unexpectedly() is not None:
            b.restart_after_crash()
    yield
    for b in brokers:
        code = b.exited_unexpectedly()
        if code is not None:
            pytest.fail(f"sluice serve at {b.bootstrap} exited unexpectedly with code {code} during this test",
                        pytrace=False)


# ----------------------------------------------------------------------------------------------------
# names and randomness
# ----------------------------------------------------------------------------------------------------

@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> Any:
    """new(suffix) -> a topic name unique to this test (and to the call, by suffix and counter)."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    base = f"{_slug(request.node.name, 80)}-{digest}"
    counter = iter(range(1_000_000))

    def new(suffix: str = "") -> str:
        return f"{base}-{next(counter)}{('-' + _slug(suffix)) if suffix else ''}"

    return new


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A generator seeded from the suite seed and the test id, so every test is reproducible alone."""
    return random.Random(f"{seed()}/{request.node.nodeid}")


# ----------------------------------------------------------------------------------------------------
# the broker's output in the report of a failing test
# ----------------------------------------------------------------------------------------------------

def _brokers_of(item: pytest.Item) -> list[Any]:
    funcargs = getattr(item, "funcargs", {}) or {}
    return [v for v in funcargs.values() if isinstance(v, (SluiceBroker, ExternalBroker))]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    item.stash[_broker_logs_key] = {id(b): b.log_positions() for b in _brokers_of(item)}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    positions = item.stash.get(_broker_logs_key, {})
    for b in _brokers_of(item):
        since = positions.get(id(b), (0, 0))
        state = "running" if b.is_running() else f"not running (exit codes so far: {b.exit_codes})"
        gone = b.exited_unexpectedly()
        if gone is not None:
            state = f"EXITED UNEXPECTEDLY with code {gone}"
        report.sections.append((f"sluice serve at {b.bootstrap} ({state})", b.log_tail(since)))
    report.sections.append(("interop seed", f"SLUICE_INTEROP_SEED={seed()}"))
