"""Host programs a workflow may run: only those the operator configured.

A workflow cannot start processes by itself (SPEC G6). An operator allows
specific programs in ``tandem.yaml``, each a fixed argument vector run
without a shell::

    workflows:
      commands:
        vip_claim:   [/usr/sbin/ip, addr, replace, 192.0.2.10/24, dev, eth0]
        vip_release: [/usr/sbin/ip, addr, del, 192.0.2.10/24, dev, eth0]

and a workflow runs one by name::

    from tandem import host

    result = host.run("vip_claim", timeout=5)
    if not result.ok:
        print("claim failed:", result.returncode, result.stderr)

The program gets no input, the environment ``PATH``, ``LANG``,
``TANDEM_NODE``, ``TANDEM_GROUP`` and ``TANDEM_WORKFLOW``, and at most
``timeout`` seconds (never more than ``workflows.hook_timeout``). Every run
is in the node's event log as ``COMMAND_RUN``.
"""
import json as _json

from tandem import _bridge

__all__ = ["run", "commands", "configured", "CommandResult", "CommandNotAllowed", "CommandFailed"]


class CommandNotAllowed(PermissionError):
    """The command is not listed under ``workflows.commands`` on this node."""


class CommandFailed(RuntimeError):
    """``run(..., check=True)`` and the command did not exit with 0."""

    def __init__(self, result):
        super().__init__("command %r failed with exit %d%s: %s" % (
            result.name, result.returncode, " (timed out)" if result.timed_out else "", result.stderr.strip()))
        self.result = result


class CommandResult:
    """``name``, ``returncode`` (-1: stopped at the timeout or could not start),
    ``stdout``, ``stderr`` (each cut at 16 KiB), ``timed_out``, ``duration_ms``
    and ``ok`` (exit 0)."""

    __slots__ = ("name", "returncode", "stdout", "stderr", "timed_out", "duration_ms")

    def __init__(self, name, returncode, stdout, stderr, timed_out, duration_ms):
        self.name = name
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.duration_ms = duration_ms

    @property
    def ok(self):
        return self.returncode == 0

    def as_dict(self):
        return {s: getattr(self, s) for s in self.__slots__}

    def __repr__(self):
        return "CommandResult(%r, returncode=%d, duration_ms=%d)" % (self.name, self.returncode, self.duration_ms)


def commands():
    """The names of the commands configured on this node, sorted."""
    return _json.loads(_bridge.require().commandNames())


def configured(*names):
    """True when every one of ``names`` is configured on this node."""
    have = set(commands())
    return all(n in have for n in names)


def run(name, timeout=10.0, check=False):
    """Runs configured command ``name``; blocks until it ends or ``timeout``
    seconds pass (then it is killed). Returns a ``CommandResult``; with
    ``check=True`` raises ``CommandFailed`` unless it exited with 0. Raises
    ``CommandNotAllowed`` if the operator did not configure ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a configured command's name, got %r" % (name,))
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds, got %r" % (timeout,))
    answer = _json.loads(_bridge.require().runCommand(name, float(timeout)))
    if "not_allowed" in answer:
        raise CommandNotAllowed(answer["not_allowed"])
    result = CommandResult(answer["command"], answer["returncode"], answer["stdout"], answer["stderr"],
                           answer["timed_out"], answer["duration_ms"])
    if check and not result.ok:
        raise CommandFailed(result)
    return result
