"""Run one hostile case in a child process and measure it.

The child runs ``hostile_cases.py CASE`` with the code of a checkout (``root``) first on its path, in a fresh
empty working folder. What is measured:

- the error the case ended with (the qualified name of an exception, or the typed refusal it observed);
- the child's peak resident memory: ``VmHWM`` (the high-water mark of its own address space, which starts
  anew at ``exec``), read from ``/proc`` while it runs and reported by the child as it ends (``ru_maxrss``
  is not used: after ``fork`` it carries the parent's high-water mark);
- the elapsed time, from start to exit;
- what the child left in its working folder (it must leave nothing).

Every child runs under an address-space cap and a time cap, so a case that misbehaves (the "before" runs)
ends with ``MemoryError`` or a kill instead of taking the machine with it. Hostile servers
(``hostile_servers.py``) run as their own processes, bound to 127.0.0.1, stopped by their PID.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = HERE / "hostile_cases.py"
SERVERS = HERE / "hostile_servers.py"
MB = 1024 * 1024
#: what every child may use at most (address space) and how long it may run
MEMORY_CAP_MB = 1024
TIME_CAP = 30.0
RESULT = "HOSTILE-RESULT "


@dataclass
class Outcome:
    case: str
    error: str | None  # the exception's qualified name, or the refusal the case observed
    detail: str
    rss_mb: float
    seconds: float
    written: list[str] = field(default_factory=list)
    killed: bool = False  # ran past the time cap
    facts: dict[str, object] = field(default_factory=dict)

    def summary(self) -> str:
        end = f"killed after {self.seconds:.0f} s" if self.killed else self.error or "no error"
        written = f", wrote {len(self.written)} file(s)" if self.written else ""
        return f"{end}; {self.rss_mb:.0f} MB; {self.seconds:.1f} s{written}"


def _limit_memory(cap_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (cap_mb * MB, cap_mb * MB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_case(
    case: str,
    *,
    root: Path = ROOT,
    env: Mapping[str, str] | None = None,
    time_cap: float = TIME_CAP,
    memory_cap_mb: int = MEMORY_CAP_MB,
    args: tuple[str, ...] = (),
    during: Callable[[int], tuple[str | None, str]] | None = None,
) -> Outcome:
    """Run ``case`` against the code in ``root`` and measure it (see the module's docstring).

    With ``during``, the child is a server: once it prints ``HOSTILE-PORT n``, ``during(n)`` attacks it from
    this process and says what came back (error, detail); the child is then stopped with SIGTERM."""
    with tempfile.TemporaryDirectory(prefix="hostile-run-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        child_env = {
            **os.environ,
            **(env or {}),
            "PYTHONPATH": os.pathsep.join([str(root), str(root / "generated_client"), str(HERE)]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(work),  # nothing the code under test writes under ~ goes unseen
        }
        with out_path.open("wb") as out, err_path.open("wb") as err:
            start = time.monotonic()
            child = subprocess.Popen(
                [sys.executable, str(CASES), case, *args],
                cwd=work,
                env=child_env,
                stdout=out,
                stderr=err,
                preexec_fn=lambda: _limit_memory(memory_cap_mb),
            )
            killed = False
            peak_kb = 0
            attack: tuple[str | None, str] | None = None
            attack_seconds = 0.0
            while True:
                if during is not None and attack is None:
                    port = _port(out_path)
                    if port:
                        attacked = time.monotonic()
                        attack = during(port)
                        attack_seconds = time.monotonic() - attacked
                        peak_kb = max(peak_kb, vm_hwm_kb(child.pid))
                        os.kill(child.pid, signal.SIGTERM)
                peak_kb = max(peak_kb, vm_hwm_kb(child.pid))
                pid, _status, _usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > time_cap:
                    os.kill(child.pid, signal.SIGKILL)
                    killed = True
                    os.wait4(child.pid, 0)
                    break
                time.sleep(0.02)
            seconds = time.monotonic() - start
            child.returncode = 0  # reaped above; keeps Popen from waiting again
        written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.name != "__pycache__")
        stdout = out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT)]
    if lines:
        result = json.loads(lines[-1][len(RESULT) :])
        error, detail, facts = result["error"], result["detail"], result.get("facts", {})
        peak_kb = max(peak_kb, int(result.get("vm_hwm_kb", 0)))
    else:
        last = stderr.strip().splitlines()[-1:] or [""]
        error = "MemoryError" if "MemoryError" in stderr else None
        detail, facts = last[0][:300], {}
    if attack is not None:
        error, detail = attack
        facts["attack_seconds"] = round(attack_seconds, 2)
    if "Traceback (most recent call last)" in stdout + stderr:
        facts["traceback"] = True
    return Outcome(case, error, detail, peak_kb / 1024, seconds, written, killed, facts)


def _port(stdout: Path) -> int:
    for line in stdout.read_text(errors="replace").splitlines():
        if line.startswith("HOSTILE-PORT "):
            return int(line.split()[1])
    return 0


def vm_hwm_kb(pid: int | str = "self") -> int:
    """The peak resident set of a process (``VmHWM``, kB); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@dataclass
class Server:
    """A hostile server process: its port, its PID and the file it logs what it received to."""

    port: int
    pid: int
    log: Path

    def received(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@contextmanager
def hostile_server(behavior: str, *, lifetime: float = TIME_CAP + 10, **options: object) -> Iterator[Server]:
    """Start ``hostile_servers.py BEHAVIOR`` on 127.0.0.1; it exits by itself after ``lifetime`` seconds and
    is stopped by its PID when the block ends."""
    with tempfile.TemporaryDirectory(prefix="hostile-server-") as tmp:
        log = Path(tmp) / "received.jsonl"
        process = subprocess.Popen(
            [sys.executable, str(SERVERS), behavior, str(lifetime), str(log), json.dumps(options)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.strip().isdigit():
                raise RuntimeError(f"hostile server {behavior!r} did not start: {line!r}")
            yield Server(int(line), process.pid, log)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def run_client_case(case: str, hostile: Any, *, root: Path = ROOT) -> Outcome:
    """Run a client case (``hostile_attacks.Hostile``) against its hostile server; a redirect case gets a
    second server, and the credentials that reached it are in ``facts["leaked"]``. What the hostile server
    received: ``facts["requests"]``, on ``facts["connections"]`` connections."""
    env = {"HOSTILE_LIMIT": str(hostile.limit), "HOSTILE_DEADLINE": str(hostile.deadline)}
    with hostile_server("answer") as other:
        options = {**hostile.options, "other": other.port}
        with hostile_server(hostile.behavior, **options) as server:
            outcome = run_case(case, root=root, env={**env, "HOSTILE_PORT": str(server.port)})
            received = server.received()
        outcome.facts["requests"] = len(received)
        outcome.facts["connections"] = len({entry.get("port") for entry in received})
        if case.endswith("-redirect"):
            outcome.facts["leaked"] = leaked(other.received())
    return outcome


def bound_mb(limit_bytes: int) -> float:
    """The most a hostile answer may make the code under test hold: twice the configured limit plus 50 MB."""
    return 2 * limit_bytes / MB + 50


#: request headers that carry credentials of some kind; none may reach another origin
CREDENTIALS = ("authorization", "api-key", "x-custom-auth", "openai-organization", "openai-project", "cookie")


def leaked(received: list[dict[str, Any]]) -> list[str]:
    """The credential headers that reached a server."""
    return sorted({name.lower() for entry in received for name in entry["headers"] if name.lower() in CREDENTIALS})
