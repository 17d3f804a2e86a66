"""Progress of long commands on stderr: a live bar on a terminal, plain lines in a log.

Sweeps, data collection, ``archgym run`` and ``proxy train`` report through these, so a run
redirected to a file is never silent and a terminal is never flooded:

- :class:`JobProgress` (sweeps, collection): one line per finished job (``[k/N]``, what it
  was, its best reward, its time, the elapsed time and the ETA) when stderr is not a
  terminal; a bar with the same ETA on a terminal.
- :class:`EvaluationProgress` (one run, a collection): a bar on a terminal; otherwise a
  line every ``every`` seconds (evaluations, best reward, elapsed, rate, ETA) and, if it
  printed any, one at the end: a run shorter than ``every`` stays quiet.
- :class:`Phases` (``proxy train``): one line per phase, with its duration.

The ETA does not pretend: a sweep's jobs differ by orders of magnitude in cost (a BO job
refits a GP every step), so :class:`Eta` estimates each pending job from the mean time of
finished jobs of the same kind (env, its parameters, searcher, budget) and shows no ETA while
some kind has no finished job yet. A single run's ETA is extrapolated from the rate over the
last interval (and says so), since model-based searchers slow down as they go.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from rich.console import Console


def clock(seconds: float | None) -> str:
    """``h:mm:ss`` (``?`` for unknown)."""
    if seconds is None:
        return "?"
    s = int(round(max(seconds, 0.0)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Eta:
    """Remaining time of pending jobs from the mean time of finished jobs of each kind."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self.times: dict[Hashable, list[float]] = defaultdict(list)

    def add(self, kind: Hashable, seconds: float) -> None:
        self.times[kind].append(float(seconds))

    def remaining(self, pending: Iterable[Hashable]) -> float | None:
        """Seconds until the pending jobs are done, or ``None`` while a kind is unknown."""
        total = 0.0
        for kind in pending:
            seen = self.times.get(kind)
            if not seen:
                return None
            total += sum(seen) / len(seen)
        return total / self.workers


def _bar(console: Console, *columns: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), *columns, console=console,
                    transient=True)


class JobProgress:
    """Progress of ``total`` jobs run by ``workers`` processes (see the module docstring).

    ``kinds`` lists the kind of every job still to run (what :class:`Eta` groups by).
    """

    def __init__(self, title: str, kinds: list[Hashable], workers: int, console: Console,
                 enabled: bool = True, clock_: Callable[[], float] = time.monotonic) -> None:
        self.title, self.console, self.enabled = title, console, enabled
        self.pending = list(kinds)
        self.total, self.done = len(kinds), 0
        self.eta = Eta(min(workers, max(len(kinds), 1)))
        self.clock = clock_
        self.start = clock_()
        self.terminal = enabled and console.is_terminal
        self._bar = _bar(console) if self.terminal else None
        self._task = None

    def __enter__(self) -> JobProgress:
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task(f"{self.title} (ETA ?)", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def finished(self, kind: Hashable, what: str, seconds: float | None,
                 outcome: str) -> None:
        """A job of ``kind`` finished after ``seconds`` (``None``: it failed); ``what`` names
        it, ``outcome`` says how it ended (its best reward, or its error)."""
        self.done += 1
        if kind in self.pending:
            self.pending.remove(kind)
        if seconds is not None:
            self.eta.add(kind, seconds)
        if not self.enabled:
            return
        elapsed = self.clock() - self.start
        eta = clock(self.eta.remaining(self.pending))
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done,
                             description=f"{self.title} (ETA {eta})")
            return
        took = "" if seconds is None else f" in {seconds:.1f} s"
        self.console.print(f"[{self.done}/{self.total}] {what}: {outcome}{took}; elapsed "
                           f"{clock(elapsed)}, ETA {eta}", highlight=False, markup=False,
                           soft_wrap=True)


class EvaluationProgress:
    """Progress of one run of ``total`` evaluations (see the module docstring); call it with
    the number done and the best reward so far.

    The ETA extrapolates the rate over the last interval (``recent``, for searchers that
    slow down as they learn) or since the start (for uniform work in parallel chunks, whose
    completions come in bursts).
    """

    def __init__(self, title: str, total: int, console: Console, enabled: bool = True,
                 every: float = 10.0, recent: bool = True, unit: str = "evaluations",
                 clock_: Callable[[], float] = time.monotonic) -> None:
        self.title, self.total, self.console, self.every = title, total, console, every
        self.enabled, self.recent, self.unit = enabled, recent, unit
        self.clock = clock_
        self.start = self._last_time = clock_()
        self._last_done = 0
        self.terminal = enabled and console.is_terminal
        self._bar = _bar(console) if self.terminal else None
        self._task = None
        self.done, self.best = 0, None
        self._lines = 0

    def __enter__(self) -> EvaluationProgress:
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task(self.title, total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self._lines and self.done != self._last_done and exc[0] is None:
            self._line(self.clock())  # a run that reported along the way reports its end

    def __call__(self, done: int, best: float | None = None) -> None:
        now = self.clock()
        if done == 0 and self.done == 0:  # the work starts now (set-up is not its rate)
            self.start = self._last_time = now
            return
        self.done, self.best = done, best
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
            return
        if self.enabled and now - self._last_time >= self.every:
            self._line(now)

    def _line(self, now: float) -> None:
        since, before = (self._last_time, self._last_done) if self.recent else (self.start, 0)
        rate = (self.done - before) / max(now - since, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else None
        best = "" if self.best is None else f", best reward {self.best:.6g}"
        self.console.print(f"{self.title}: {self.done}/{self.total} {self.unit}{best}; "
                           f"elapsed {clock(now - self.start)}, {rate:.3g}/s, ETA "
                           f"{clock(eta)}{' at that rate' if self.recent else ''}",
                           highlight=False, markup=False, soft_wrap=True)
        self._last_time, self._last_done = now, self.done
        self._lines += 1


class Phases:
    """One line per phase of a command (``proxy train``), each with how long it took."""

    def __init__(self, console: Console, enabled: bool = True,
                 clock_: Callable[[], float] = time.monotonic) -> None:
        self.console, self.enabled, self.clock = console, enabled, clock_
        self._name: str | None = None
        self._since = clock_()

    def __call__(self, name: str | None) -> None:
        """Start phase ``name`` (``None``: the last one ended)."""
        now = self.clock()
        if self.enabled and self._name is not None:
            self.console.print(f"{self._name}: done in {now - self._since:.1f} s",
                               highlight=False, markup=False, soft_wrap=True)
        if self.enabled and name is not None:
            self.console.print(f"{name} ...", highlight=False, markup=False, soft_wrap=True)
        self._name, self._since = name, now
