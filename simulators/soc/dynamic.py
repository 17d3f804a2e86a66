"""The dynamic SoC simulator: jobs (DAG instances) stream onto a heterogeneous SoC, exactly and
event-driven (SimPy; no tick).

Model (DS3's, Arda et al. IEEE TC 2020, made exact; see ``docs/soc.md``):

- Jobs arrive (:mod:`simulators.soc.workload`); a task is *ready* when all its predecessors
  have finished.
- Decision points are the instants a task becomes ready or a PE becomes free. At each one
  the scheduler (a plug-in: a callable ``scheduler(sim)`` that calls ``sim.decide(pe,
  task)``, or a caller driving :meth:`DynamicSim.run_until_decision` and
  :meth:`DynamicSim.decide` step by step) maps ready tasks to PEs, or leaves them ready for
  a later decision point. Events that happen at
  the same instant are all processed before the decision, so the scheduler sees them all.
- Mapping a task to a PE queues it there (first in, first out) and starts the transfers of
  its inputs from the predecessors' PEs: each holds one interconnect link for
  ``latency + volume / bandwidth``, so transfers contend for the links. On the same PE there
  is no transfer (or, if the SoC gives a same-PE bandwidth, a local copy that uses no link).
  A task starts when it heads its PE's queue, the PE is free and its inputs have arrived;
  it runs ``exec_time`` at its PE type's DVFS point.
- Metrics (:class:`DynamicResult`): job latency from arrival to the last task's end (mean,
  95th percentile by nearest rank), throughput, energy (dynamic while busy, static all the
  time, see :mod:`simulators.soc.platform`), energy per job, EDP (energy per job x mean
  latency), PE utilisation and SoC area. Jobs that arrive before ``warmup_us`` are run but
  left out of latency statistics.

Deterministic: the same inputs (and seed for the arrivals) give the same result, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simulators.soc.errors import SocInputError
from simulators.soc.platform import Platform
from simulators.soc.ranks import upward_rank
from simulators.soc.workload import Arrival, Workload, app_to_graph

Scheduler = Callable[["DynamicSim"], None]


@dataclass(eq=False)
class Task:
    """A task of a job in the simulation (``uid`` is unique over the run)."""

    uid: int
    job: int
    app: int
    index: int
    func: str
    missing: int
    ready_at: float = math.nan
    pe: int = -1
    mapped_at: float = math.nan
    data_at: float = math.nan
    start: float = math.nan
    finish: float = math.nan
    inputs: list[Any] = field(default_factory=list, repr=False)


@dataclass(eq=False)
class Job:
    uid: int
    app: int
    arrival: float
    remaining: int
    tasks: list[Task]
    finish: float = math.nan


@dataclass(frozen=True)
class DynamicResult:
    """Figures of one dynamic run (times in us, energy in uJ, power in W, area in mm^2)."""

    scheduler: str
    soc: str
    workload: str
    jobs: int
    completed_jobs: int
    mean_job_latency_us: float
    p95_job_latency_us: float
    throughput_jobs_per_ms: float
    energy_uj: float
    energy_per_job_uj: float
    edp_uj_us: float
    mean_pe_utilisation: float
    pe_utilisation: dict[str, float]
    area_mm2: float | None
    makespan_us: float
    tasks: int
    job_latencies_us: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "job_latencies_us"}
        out["pe_utilisation"] = dict(self.pe_utilisation)
        return out


class DynamicSim:
    """One run: build it, then either :meth:`run` with a scheduler plug-in or drive it with
    :meth:`run_until_decision` and :meth:`decide` (or :meth:`defer`)."""

    def __init__(self, platform: Platform, workload: Workload, arrivals: list[Arrival],
                 warmup_us: float = 0.0) -> None:
        workload.check_runs_on(platform)
        if not arrivals:
            raise SocInputError("arrivals: no job")
        self.platform, self.workload, self.arrivals = platform, workload, arrivals
        self.warmup_us = warmup_us
        self.env = simpy.Environment()
        self.links = simpy.Resource(self.env, capacity=platform.interconnect.channels)
        types = platform.pe_type_of
        self.pe_types = [platform.pe_types[k] for k in types]
        self.pe_names = platform.pe_names()
        self.compute_pes = [p for p, t in enumerate(self.pe_types) if not t.is_memory]
        self._compute = set(self.compute_pes)
        bw = platform.bandwidth_matrix()
        lat = platform.interconnect.latency_us
        self._transfer = [[None if b is None else (lat, b) for b in row] for row in bw]
        self._exec = [{f: t.exec_time(f) for f in t.exec_us} for t in self.pe_types]
        self._queues = [simpy.Store(self.env) for _ in self.pe_types]
        self.pe_busy_until = [0.0] * len(self.pe_types)  # end of the running task
        self.pe_backlog = [[] for _ in self.pe_types]  # mapped, not yet started
        self._queue_end = [0.0] * len(self.pe_types)  # estimated end of the last queued task
        self.pe_busy_time = [0.0] * len(self.pe_types)
        self.pe_running: list[Task | None] = [None] * len(self.pe_types)
        self.ready: list[Task] = []
        self.tasks: dict[int, Task] = {}
        self.jobs: list[Job] = []
        self.done_jobs = 0
        self.num_tasks_done = 0
        self.dynamic_energy_uj = 0.0
        self._point = False  # a decision point happened since the last decision
        self._rank_cache: dict[int, list[float]] = {}
        self._graphs = [app_to_graph(a, platform) for a in workload.apps]
        for p in range(len(self.pe_types)):
            self.env.process(self._pe(p))
        self.env.process(self._arrivals())

    # ---------------------------------------------------------------- processes
    def _arrivals(self):
        for a in self.arrivals:
            if a.time_us > self.env.now:
                yield self.env.timeout(a.time_us - self.env.now)
            self._inject(a.app)

    def _inject(self, app_index: int) -> None:
        app = self.workload.apps[app_index]
        job = Job(uid=len(self.jobs), app=app_index, arrival=self.env.now,
                  remaining=app.num_tasks, tasks=[])
        base = len(self.tasks)
        for i, f in enumerate(app.functions):
            t = Task(uid=base + i, job=job.uid, app=app_index, index=i, func=f,
                     missing=len(app.pred[i]))
            self.tasks[t.uid] = t
            job.tasks.append(t)
        self.jobs.append(job)
        for t in job.tasks:
            if t.missing == 0:
                self._make_ready(t)

    def _make_ready(self, t: Task) -> None:
        t.ready_at = self.env.now
        self.ready.append(t)
        self._point = True

    def _pe(self, p: int):
        env = self.env
        while True:
            t = yield self._queues[p].get()
            if t.inputs:
                yield env.all_of(t.inputs)
            t.data_at = env.now
            self.pe_backlog[p].remove(t)
            d = self._exec[p][t.func]
            if not self.pe_backlog[p]:
                self._queue_end[p] = env.now + d
            t.start = env.now
            self.pe_running[p] = t
            self.pe_busy_until[p] = env.now + d
            yield env.timeout(d)
            t.finish = env.now
            self.pe_running[p] = None
            self.pe_busy_time[p] += d
            self.dynamic_energy_uj += self.pe_types[p].busy_power_w * d
            self._finished(t)

    def _finished(self, t: Task) -> None:
        self.num_tasks_done += 1
        job = self.jobs[t.job]
        job.remaining -= 1
        app = self.workload.apps[t.app]
        for j, _ in app.succ[t.index]:
            s = job.tasks[j]
            s.missing -= 1
            if s.missing == 0:
                self._make_ready(s)
        if job.remaining == 0:
            job.finish = self.env.now
            self.done_jobs += 1
        if not self.pe_backlog[t.pe]:
            self._point = True  # the PE became free

    def _send(self, vol: float, src: int, dst: int):
        lat, bw = self._transfer[src][dst]
        if src == dst:  # a same-PE copy stays in the PE's local memory
            yield self.env.timeout(lat + vol / bw)
            return
        with self.links.request() as req:
            yield req
            yield self.env.timeout(lat + vol / bw)

    # ---------------------------------------------------------------- decisions
    @property
    def now(self) -> float:
        return self.env.now

    @property
    def finished(self) -> bool:
        return self.done_jobs == len(self.arrivals) and len(self.jobs) == len(self.arrivals)

    def run_until_decision(self) -> bool:
        """Advance to the next decision point; True if one is pending (ready tasks to map),
        False when the run is over."""
        env = self.env
        while True:
            if self._point and self.ready and env.peek() > env.now:
                return True
            if env.peek() == math.inf:
                if self.ready:
                    raise SocInputError(f"t={env.now}: {len(self.ready)} ready task(s) left "
                                        "unmapped and no event can bring a new decision point")
                return False
            env.step()

    def decide(self, pe: int, task: int | None = None) -> Task:
        """Map a ready task (default: :meth:`next_task`) to PE ``pe``."""
        t = self.next_task() if task is None else self.tasks.get(task)
        if t is None or t not in self.ready:
            raise SocInputError(f"task {task!r} is not ready")
        if pe not in self._compute or t.func not in self._exec[pe]:
            raise SocInputError(f"task {t.uid} ({t.func!r}) cannot run on PE {pe!r}; "
                                f"allowed: {self.allowed_pes(t)}")
        self.ready.remove(t)
        t.pe, t.mapped_at = pe, self.env.now
        job = self.jobs[t.job]
        app = self.workload.apps[t.app]
        for q, vol in app.pred[t.index]:
            src = job.tasks[q].pe
            if vol and self._transfer[src][pe] is not None:
                t.inputs.append(self.env.process(self._send(vol, src, pe)))
        start = max(self.pe_available_at(pe), self.data_ready_at(t, pe))
        self._queue_end[pe] = start + self._exec[pe][t.func]
        self.pe_backlog[pe].append(t)
        self._queues[pe].put(t)
        if not self.ready:
            self._point = False
        return t

    def defer(self) -> None:
        """Leave the remaining ready tasks for the next decision point."""
        self._point = False

    def next_task(self) -> Task:
        """The ready task the next :meth:`decide` maps by default: earliest ready, then the
        lower job, then the lower task index."""
        return min(self.ready, key=lambda t: (t.ready_at, t.job, t.index))

    def allowed_pes(self, t: Task) -> list[int]:
        return [p for p in self.compute_pes if t.func in self._exec[p]]

    # ---------------------------------------------------------------- features
    def exec_time(self, t: Task, pe: int) -> float | None:
        return self._exec[pe].get(t.func)

    def upward_rank(self, t: Task) -> float:
        """Static ``rank_u`` of the task in its application (mean times over compute PEs)."""
        r = self._rank_cache.get(t.app)
        if r is None:
            r = [float(x) for x in upward_rank(self._graphs[t.app])]
            self._rank_cache[t.app] = r
        return r[t.index]

    def remaining_work(self, job: int) -> float:
        """Mean execution time (over the PEs that can run them) of the job's unfinished tasks."""
        g = self._graphs[self.jobs[job].app]
        total = 0.0
        for t in self.jobs[job].tasks:
            if math.isnan(t.finish):
                row = [x for x in g.exec_time[t.index] if x is not None]
                total += sum(row) / len(row)
        return total

    def num_successors(self, t: Task) -> int:
        return len(self.workload.apps[t.app].succ[t.index])

    def pe_available_at(self, pe: int) -> float:
        """Estimated time ``pe`` finishes its running and queued work: the end of the running
        task, or, with tasks queued, the estimated finish of the last one (its start estimated
        when it was mapped, as :meth:`est_eft` does, and exact once it starts)."""
        now = self.env.now
        if self.pe_backlog[pe]:
            end = self._queue_end[pe]
        elif self.pe_running[pe] is not None:
            end = self.pe_busy_until[pe]
        else:
            end = now
        return end if end > now else now

    def _inputs(self, t: Task) -> list[tuple[int, float]]:
        """(source PE, volume) of the task's non-empty inputs."""
        job = self.jobs[t.job]
        return [(job.tasks[q].pe, vol) for q, vol in self.workload.apps[t.app].pred[t.index]
                if vol]

    def _data_ready(self, inputs: list[tuple[int, float]], pe: int, now: float) -> float:
        ready = now
        for src, vol in inputs:
            tr = self._transfer[src][pe]
            if tr is not None:
                v = now + tr[0] + vol / tr[1]
                if v > ready:
                    ready = v
        return ready

    def data_ready_at(self, t: Task, pe: int) -> float:
        """When the task's inputs could be on ``pe`` if sent now (no link contention)."""
        return self._data_ready(self._inputs(t), pe, self.env.now)

    def est_eft(self, t: Task) -> list[tuple[float, float] | None]:
        """Estimated (start, finish) of the task on every PE (None where it cannot run)."""
        now = self.env.now
        inputs = self._inputs(t)
        out: list[tuple[float, float] | None] = []
        for p, table in enumerate(self._exec):
            d = table.get(t.func)
            if d is None or p not in self._compute:
                out.append(None)
                continue
            ready = self._data_ready(inputs, p, now)
            avail = self.pe_available_at(p)
            s = avail if avail > ready else ready
            out.append((s, s + d))
        return out

    # ---------------------------------------------------------------- running
    def run(self, scheduler: Scheduler) -> None:
        """Run to the end, calling ``scheduler(self)`` at every decision point."""
        while self.run_until_decision():
            scheduler(self)
            if self.ready:
                self.defer()

    def result(self, scheduler: str = "") -> DynamicResult:
        if not self.finished:
            raise SocInputError("the run has not finished")
        lat = np.array([j.finish - j.arrival for j in self.jobs if j.arrival >= self.warmup_us])
        srt = np.sort(lat)
        p95 = float(srt[max(1, math.ceil(0.95 * srt.size)) - 1]) if srt.size else 0.0
        end = max(j.finish for j in self.jobs)
        static_w = sum(t.leakage_w for t in self.pe_types)
        energy = self.dynamic_energy_uj + static_w * end
        per_job = energy / len(self.jobs)
        mean = float(lat.mean()) if lat.size else 0.0
        util = {self.pe_names[p]: (self.pe_busy_time[p] / end if end > 0 else 0.0)
                for p in self.compute_pes}
        return DynamicResult(
            scheduler=scheduler, soc=self.platform.name, workload=self.workload.name,
            jobs=len(self.jobs), completed_jobs=self.done_jobs, mean_job_latency_us=mean,
            p95_job_latency_us=p95,
            throughput_jobs_per_ms=(len(self.jobs) / end * 1000.0) if end > 0 else 0.0,
            energy_uj=energy, energy_per_job_uj=per_job, edp_uj_us=per_job * mean,
            mean_pe_utilisation=float(np.mean(list(util.values()))), pe_utilisation=util,
            area_mm2=self.platform.area_mm2, makespan_us=end, tasks=self.num_tasks_done,
            job_latencies_us=lat)


def simulate(platform: Platform, workload: Workload, arrivals: list[Arrival],
             scheduler: str | Scheduler = "heft", warmup_us: float = 0.0) -> DynamicResult:
    """Run a job stream to the end with a named scheduler (:mod:`simulators.soc.policies`)
    or a scheduler callable; a function call in, a :class:`DynamicResult` out."""
    if isinstance(scheduler, str):
        from simulators.soc.policies import make_scheduler  # policies import this module

        name, scheduler = scheduler.strip().lower(), make_scheduler(scheduler)
    else:
        name = getattr(scheduler, "__name__", "custom")
    sim = DynamicSim(platform, workload, arrivals, warmup_us)
    sim.run(scheduler)
    return sim.result(name)
