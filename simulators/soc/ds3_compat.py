"""``ds3_compat``: run a DS3 configuration with DS3's own timing rules, for DS3 and DeepSoCS
users who need DS3's numbers (segemena/DS3, commit 056c930; Arda et al., IEEE TC 2020).

Our default simulator (:mod:`simulators.soc.dynamic`) is exact and event-driven. DS3 instead
polls on a fixed tick, and several of its rules change the latencies it reports. This mode
reproduces them, as a SimPy model with DS3's process structure (a job generator, a
scheduling tick, one process per running task) so that same-time events resolve in DS3's
order. Mimicked (see ``docs/soc.md`` for the full table):

- the scheduling tick (``clock``, 1 us): ready tasks are mapped, and mapped tasks start, only
  at ticks; a task runs in chunks up to each ``sampling_rate`` boundary (DS3's DVFS
  sampling), which decides whether a task finishing at a tick frees its successors in that
  tick or the next;
- arrivals: gaps ``int(expovariate(1/scale))`` from Python's ``random`` (seeded with the
  iteration number in performance mode, ``random_seed`` in validation mode) and the
  application drawn by ``numpy``'s legacy ``RandomState`` (the iteration number; 1 in
  validation mode), exactly DS3's streams; ``fixed_injection_rate`` (gap = ``scale``),
  ``inject_jobs_asap``, ``job_list`` snippets;
- the cap ``max_jobs_in_parallel``: while that many jobs are in the system the generator
  re-tries every tick (delayed arrivals; a job's latency still counts from its creation);
- PE-to-PE transfers: a task may start at ``max over predecessors of (finish +
  int(volume / bandwidth[src PE][dst PE]))``, with no link contention;
- the schedulers MET, EFT, STF, ETF, ETF_LB, CPU_only as DS3 writes them: MET's tie-break
  towards idle PEs and then fewer tasks assigned in the same call (with DS3's list-removal
  quirk), ETF's availability estimate ``available_time = now + comparison`` (never
  corrected when a task ends early or late) and its re-ordering of the ready list;
  HEFT_RT (not in DS3 056c930; after the later DS3's description): every tick, HEFT over
  the ready tasks alone against the PEs' running and queued work;
- statistics: warm-up (only jobs whose head starts after it are "injected", only tails
  after it "complete"), latency averaged over completed jobs, DS3's trimming of its
  completed-task list when more than 15 job IDs are in it (a job whose head was trimmed
  still counts as completed but adds no latency), the run ending at ``simulation_length``
  or when ``max_jobs`` jobs have completed.

Deliberately not mimicked: core gating. DS3 switches cores off through DTPM's
``set_active_cores``, which indexes the SoC's first PEs instead of the cluster's, so gating
an accelerator cluster (as DS3's MET path does when a task starts on an accelerator)
disables CPU cores by mistake; ``ds3_compat`` never gates or disables a PE. Also not
mimicked: the ``ondemand`` governor and thermal throttling (which change frequencies at run
time); DS3's temperature-dependent energy model (energy here is our model,
:mod:`simulators.soc.platform`); the ``shared_memory`` communication mode and the
constraint-programming scheduler ``CP`` (both raise :class:`SocInputError`).
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import simpy

from simulators.soc.apps import App
from simulators.soc.ds3_files import Ds3Config, Ds3Settings
from simulators.soc.errors import SocInputError
from simulators.soc.platform import Platform

INF = math.inf


@dataclass(eq=False)
class _Task:
    id: int
    job: int
    base: int
    app: int
    func: str
    preds: list[int]
    head: bool
    tail: bool
    job_start: float = -1
    pe: int = -1
    time_stamp: float = -1
    start: float = -1
    finish: float = -1


@dataclass(eq=False)
class _PE:
    type_index: int
    exec_us: dict[str, float]
    slowdown: float  # DS3's compute_DVFS_performance_slowdown: f_max / f - 1
    resource: simpy.Resource
    queue: list[_Task] = field(default_factory=list)
    idle: bool = True
    available_time: float = 0.0
    busy_time: float = 0.0


@dataclass(frozen=True)
class Ds3Run:
    """One DS3 simulation run (one seed, one scale value)."""

    seed: int
    scale: float
    mean_job_latency_us: float
    completed_jobs: int
    injected_jobs: int
    execution_time_us: float
    energy_j: float
    job_latencies_us: tuple[float, ...] = field(repr=False, default=())

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "scale": self.scale,
                "mean_job_latency_us": self.mean_job_latency_us,
                "completed_jobs": self.completed_jobs, "injected_jobs": self.injected_jobs,
                "execution_time_us": self.execution_time_us, "energy_j": self.energy_j}


class Ds3Simulation:
    """One DS3 run (see the module docstring). ``gap_seed`` seeds the inter-arrival gaps,
    ``choice_seed`` the application choice."""

    def __init__(self, platform: Platform, apps: tuple[App, ...], settings: Ds3Settings,
                 scheduler: str, scale: float, gap_seed: int, choice_seed: int,
                 dvfs: tuple[str, ...] | None = None) -> None:
        if settings.shared_memory:
            raise SocInputError("ds3_compat: the shared_memory communication mode is not "
                                "modelled; use PE_to_PE = yes")
        for t, mode in zip(platform.pe_types, dvfs or (), strict=False):
            if mode == "ondemand":
                raise SocInputError(f"ds3_compat: PE type {t.name!r} uses DVFS_mode ondemand, "
                                    "which changes frequency at run time and is not modelled; "
                                    "use performance, powersave or constant-<MHz>")
        self.platform, self.apps, self.s = platform, apps, settings
        self.scale = scale
        self.env = simpy.Environment()
        self.pes = []
        for k in platform.pe_type_of:
            t = platform.pe_types[k]
            slow = t.slowdown - 1 if t.opps else 0.0
            self.pes.append(_PE(k, dict(t.exec_us), slow, simpy.Resource(self.env, 1)))
        bw = platform.bandwidth_matrix()
        self.bw = [[INF if b is None else b for b in row] for row in bw]
        self.schedule = _SCHEDULERS[scheduler]
        self.scheduler_name = scheduler
        self.gap_rng = random.Random(gap_seed)
        self.choice_seed = choice_seed
        self.choice_rng = np.random.RandomState(choice_seed)
        self.validation = settings.simulation_mode == "validation"
        self.warmup = 0 if self.validation else settings.warmup_period
        if settings.job_list:
            self.snippet_size = sum(settings.job_list[0])
            self.max_num_jobs = self.snippet_size * len(settings.job_list)
            self.inject_fixed = True
            self.current_job_list = list(settings.job_list[0])
        else:
            self.max_num_jobs = self.snippet_size = settings.max_jobs
            self.inject_fixed = settings.inject_fixed_num_jobs
            self.current_job_list = []
        self.job_counter_list = [0] * len(self.current_job_list)
        self.snippet_inj, self.snippet_exec = -1, 0
        self.ready: list[_Task] = []
        self.executable: list[_Task] = []
        self.running: list[_Task] = []
        self.completed: list[_Task] = []
        self.completed_by_id: dict[int, _Task] = {}
        self.tasks: dict[int, _Task] = {}
        self.succ: dict[int, list[int]] = {}
        self.job_counter = 0
        self.injected = self.completed_jobs = 0
        self.cumulative = 0.0
        self.execution_time = 0.0
        self.latencies: list[float] = []
        self.dynamic_energy = 0.0
        self.etf_lb_assigned = [0] * len(self.pes)
        self.sim_done = self.env.event()
        self.generate = True
        self.generator = self.env.process(self._generator())
        self.env.process(self._manager())

    # ---------------------------------------------------------------- processes
    def _generator(self):
        env, s = self.env, self.s
        i = num_jobs = offset = 0
        while self.generate:
            if self.job_counter >= s.max_jobs_in_parallel or (
                    s.job_list and self.snippet_inj == self.snippet_exec):
                with contextlib.suppress(simpy.Interrupt):
                    yield env.timeout(s.clock)
                continue
            if s.job_list:
                self.current_job_list = list(s.job_list[min(self.snippet_exec,
                                                            len(s.job_list) - 1)])
            valid = [k for k, c in enumerate(self.job_counter_list)
                     if c < self.current_job_list[k]]
            if valid:
                sel = int(self.choice_rng.choice(valid))
            else:
                sel = int(self.choice_rng.choice(list(range(len(self.apps))), 1,
                                                 p=list(s.job_probabilities))[0])
            self._inject(self.apps[sel], sel, i, offset)
            offset += self.apps[sel].num_tasks
            self.job_counter += 1
            i += 1
            if env.now >= self.warmup or self.validation:
                num_jobs += 1
                if self.job_counter_list:
                    self.job_counter_list[sel] += 1
                    if self.job_counter_list == self.current_job_list and \
                            num_jobs < self.max_num_jobs:
                        self.snippet_inj += 1
                        self.choice_rng = np.random.RandomState(self.choice_seed)
                        self.job_counter_list = [0] * len(self.current_job_list)
            if (self.validation or self.inject_fixed) and num_jobs >= self.max_num_jobs:
                self.generate = False
            wait = self.scale if s.fixed_injection_rate else \
                int(self.gap_rng.expovariate(1 / self.scale))
            with contextlib.suppress(simpy.Interrupt):
                yield env.timeout(wait)

    def _inject(self, app: App, app_index: int, job: int, offset: int) -> None:
        entries = [t for t in range(app.num_tasks) if not app.pred[t]]
        exits = [t for t in range(app.num_tasks) if not app.succ[t]]
        for b in range(app.num_tasks):
            t = _Task(id=b + offset, job=job, base=b, app=app_index, func=app.functions[b],
                      preds=[q + offset for q, _ in app.pred[b]], head=b == entries[0],
                      tail=b == exits[-1])
            if t.head:
                t.job_start = self.env.now
            self.tasks[t.id] = t
            self.succ[t.id] = [d + offset for d, _ in app.succ[b]]
            if not t.preds:
                self.ready.append(t)

    def _manager(self):
        env = self.env
        while True:
            if self.ready:
                self.schedule(self, self.ready)
                self._to_executable()
            if self.executable:
                started = []
                for t in self.executable:
                    pe = self.pes[t.pe]
                    if t.time_stamp <= env.now and not pe.queue:
                        pe.queue.append(t)
                        env.process(self._run(t))
                        started.append(t)
                for t in started:
                    self.executable.remove(t)
            if not self.generate and not self.tasks:  # nothing can happen any more
                if not self.sim_done.triggered:  # (fewer than max_jobs counted: warm-up)
                    self.sim_done.succeed()
                return
            yield env.timeout(self.s.clock)

    def _to_executable(self) -> None:
        now = self.env.now
        for t in self.ready:
            if t.pe < 0:
                raise SocInputError(f"ds3_compat: scheduler {self.scheduler_name} left task "
                                    f"{t.func!r} unmapped")
            waits = [now] if t.head else []
            app = self.apps[t.app]
            for q, vol in app.pred[t.base]:
                pe, fin = self._pred_info(q + t.id - t.base)
                waits.append(int(vol / self.bw[pe][t.pe]) + fin)
            t.time_stamp = max(waits)
            self.executable.append(t)
        self.ready.clear()
        self.executable.sort(key=lambda x: x.job)

    def _pred_info(self, tid: int) -> tuple[int, float]:
        """A predecessor's PE and finish time; DS3 finds nothing (-1, -1) once it trimmed the
        predecessor from its completed list, and then indexes the last PE (the memory)."""
        t = self.completed_by_id.get(tid)
        return (t.pe, t.finish) if t is not None else (-1, -1)

    def _run(self, t: _Task):
        env, s = self.env, self.s
        pe = self.pes[t.pe]
        with pe.resource.request() as req:
            yield req
            pe.idle = False
            self.running.append(t)
            t.start = env.now
            if t.head and env.now >= self.warmup:
                self.injected += 1
            runtime = pe.exec_us[t.func]
            elapsed = 0.0
            while True:
                remaining = runtime - elapsed
                predicted = remaining + remaining * pe.slowdown
                window = s.sampling_rate - env.now % s.sampling_rate
                if predicted - window > 0:
                    step, done = window, False
                    elapsed += step / (pe.slowdown + 1)
                else:
                    step, done = predicted, True
                yield env.timeout(step)
                if done:
                    break
            t.finish = int(env.now)
            pe.idle = True
            if t.finish > self.warmup:
                busy = t.finish - max(t.start, self.warmup)
                pe.busy_time += busy
                self.dynamic_energy += self.platform.pe_types[pe.type_index].busy_power_w * busy
            if t.tail:
                self.job_counter -= 1
                if not self.validation:
                    self._trim_completed()
                if env.now >= self.warmup:
                    self.execution_time = env.now
                    self.completed_jobs += 1
                    if self.generate and s.inject_jobs_asap and self.generator.is_alive:
                        self.generator.interrupt()
                    for c in self.completed:
                        if c.head and c.job == t.job:
                            self.cumulative += env.now - c.job_start
                            self.latencies.append(env.now - c.job_start)
            self._task_done(t)
            if t.tail and env.now >= self.warmup and \
                    self.completed_jobs % self.snippet_size == 0:
                self.snippet_exec += 1
                if s.job_list and self.snippet_exec < self.max_num_jobs / self.snippet_size:
                    self.current_job_list = list(s.job_list[self.snippet_exec])
                if self.completed_jobs == self.max_num_jobs and not self.sim_done.triggered:
                    self.sim_done.succeed()

    def _trim_completed(self) -> None:
        """DS3's ``update_completed_queue``: sort by job, and when more than 15 job IDs are
        present delete tasks of the oldest job (DS3 deletes while iterating, so every other)."""
        lst = self.completed
        lst.sort(key=lambda x: x.job)
        first = lst[0].job if lst else 0
        if lst and lst[-1].job - first > 15:
            i = 0
            while i < len(lst):
                if lst[i].job == first:
                    del self.completed_by_id[lst[i].id]
                    del lst[i]
                i += 1

    def _task_done(self, t: _Task) -> None:
        self.completed.append(t)
        self.completed_by_id[t.id] = t
        self.pes[t.pe].queue.remove(t)
        self.running.remove(t)
        newly = []
        for d in self.succ.pop(t.id):
            task = self.tasks[d]
            task.preds.remove(t.id)
            if not task.preds:
                newly.append(task)
        self.ready.extend(sorted(newly, key=lambda x: x.id))
        del self.tasks[t.id]

    # ---------------------------------------------------------------- run
    def run(self) -> None:
        if self.inject_fixed and not self.validation:
            self.env.run(until=self.sim_done)
        else:
            self.env.run(until=self.s.simulation_length)

    def comparison(self, t: _Task, with_slowdown: bool = False) -> list[float]:
        """DS3's EFT/ETF estimate per PE: ``exec + max(comm_ready, PE wait)`` (inf where the
        PE cannot run the task)."""
        now = self.env.now
        app = self.apps[t.app]
        preds = [(self._pred_info(q + t.id - t.base), vol) for q, vol in app.pred[t.base]]
        out = []
        for i, pe in enumerate(self.pes):
            perf = pe.exec_us.get(t.func)
            if perf is None:
                out.append(INF)
                continue
            comm = 0.0
            for (ppe, fin), vol in preds:
                c = fin + int(vol / self.bw[ppe][i]) - now
                comm = max(comm, c if c > 0 else 0)
            wait = pe.available_time - now
            wait = wait if wait > 0 else 0
            if with_slowdown:
                perf = perf * (1 + pe.slowdown)
            out.append(perf + max(comm, wait))
        return out

    def result(self, seed: int) -> Ds3Run:
        now = self.execution_time
        static = sum(self.platform.pe_types[p.type_index].leakage_w for p in self.pes) * \
            max(0.0, now - self.warmup)
        mean = self.cumulative / self.completed_jobs if self.completed_jobs else 0.0
        return Ds3Run(seed=seed, scale=self.scale, mean_job_latency_us=mean,
                      completed_jobs=self.completed_jobs, injected_jobs=self.injected,
                      execution_time_us=now, energy_j=(self.dynamic_energy + static) * 1e-6,
                      job_latencies_us=tuple(self.latencies))


# ---------------------------------------------------------------------------- schedulers
def _unmappable(t: _Task) -> SocInputError:
    return SocInputError(f"ds3_compat: no PE of the SoC supports function {t.func!r}")


def _met(sim: Ds3Simulation, ready: list[_Task]) -> None:
    assigned = [0] * len(sim.pes)
    for t in ready:
        times = [pe.exec_us.get(t.func, INF) for pe in sim.pes]
        best = min(times)
        if best == INF:
            raise _unmappable(t)
        ids = [i for i, x in enumerate(times) if x == best]
        if len(ids) > 1:
            busy = [not sim.pes[i].idle for i in ids]
            if True in busy and False in busy:
                for b in busy:  # DS3 removes by the first busy position each time
                    if b:
                        ids.remove(ids[busy.index(b)])
            counts = [assigned[i] for i in ids]
            t.pe = ids[counts.index(min(counts))]
        else:
            t.pe = ids[0]
        assigned[t.pe] += 1


def _stf(sim: Ds3Simulation, ready: list[_Task]) -> None:
    pending = list(ready)
    while pending:
        best_time, best_task, best_pe = INF, None, -1
        for t in pending:
            times = [pe.exec_us.get(t.func, INF) for pe in sim.pes]
            m = min(times)
            if m < best_time:
                best_time, best_task, best_pe = m, t, times.index(m)
        if best_task is None:
            raise _unmappable(pending[0])
        best_task.pe = best_pe
        pending.remove(best_task)


def _eft(sim: Ds3Simulation, ready: list[_Task]) -> None:
    for t in ready:
        comp = sim.comparison(t)
        best = min(comp)
        if best == INF:
            raise _unmappable(t)
        t.pe = comp.index(best)
        sim.pes[t.pe].available_time = sim.env.now + best


def _etf(sim: Ds3Simulation, ready: list[_Task], load_balance: bool = False) -> None:
    pending = list(ready)
    counter = 0
    assigned = sim.etf_lb_assigned  # DS3 keeps ETF_LB's counts across calls
    while pending:
        best_time, best_task, best_pe, best_comp = INF, None, -1, None
        for t in pending:
            comp = sim.comparison(t, with_slowdown=load_balance)
            m = min(comp)
            if m < best_time:
                best_time, best_task, best_comp = m, t, comp
                ids = [i for i, x in enumerate(comp) if x == m]
                if load_balance and len(ids) > 1:
                    counts = [assigned[i] for i in ids]
                    best_pe = ids[counts.index(min(counts))]
                else:
                    best_pe = comp.index(m)
                if load_balance:
                    assigned[best_pe] += 1
        if best_task is None:
            raise _unmappable(pending[0])
        best_task.pe = best_pe
        k = ready.index(best_task)
        ready[k], ready[counter] = ready[counter], ready[k]
        sim.pes[best_pe].available_time = sim.env.now + best_comp[best_pe]
        pending.remove(best_task)
        counter += 1


def _cpu_only(sim: Ds3Simulation, ready: list[_Task]) -> None:
    for t in ready:
        if t.func not in sim.pes[0].exec_us:
            raise SocInputError(f"ds3_compat: CPU_only maps every task to PE 0, which does not "
                                f"support {t.func!r}")
        t.pe = 0


def _heft_rt(sim: Ds3Simulation, ready: list[_Task]) -> None:
    """HEFT over the ready tasks alone: rank = mean execution time over the PEs that support
    the task (decreasing, lower task ID on ties); each task to the PE with the earliest finish
    after that PE's running task and the tasks already queued for it."""
    now = sim.env.now
    busy_until = [now] * len(sim.pes)
    for t in sim.running:
        busy_until[t.pe] = max(busy_until[t.pe], t.start + sim.pes[t.pe].exec_us[t.func])
    for t in sim.executable:
        busy_until[t.pe] = busy_until[t.pe] + sim.pes[t.pe].exec_us[t.func]

    def rank(t: _Task) -> float:
        times = [pe.exec_us[t.func] for pe in sim.pes if t.func in pe.exec_us]
        if not times:
            raise _unmappable(t)
        return sum(times) / len(times)

    for t in sorted(ready, key=lambda x: (-rank(x), x.id)):
        fin = [busy_until[i] + pe.exec_us[t.func] if t.func in pe.exec_us else INF
               for i, pe in enumerate(sim.pes)]
        t.pe = fin.index(min(fin))
        busy_until[t.pe] = fin[t.pe]


_SCHEDULERS: dict[str, Callable[[Ds3Simulation, list[_Task]], None]] = {
    "MET": _met, "EFT": _eft, "STF": _stf, "ETF": _etf,
    "ETF_LB": lambda sim, ready: _etf(sim, ready, load_balance=True),
    "CPU_only": _cpu_only, "HEFT_RT": _heft_rt,
}
#: DS3 scheduler names accepted by ``ds3_compat``
DS3_SCHEDULERS = tuple(_SCHEDULERS)


# ---------------------------------------------------------------------------- entry point
@dataclass(frozen=True)
class Ds3Result:
    """Every run of a DS3 configuration and DS3's averages (over iterations, per scale)."""

    config: str
    scheduler: str
    simulation_mode: str
    runs: tuple[Ds3Run, ...]

    @property
    def mean_job_latency_us(self) -> float:
        """DS3's ``ave_job_execution_time``: the mean over runs of each run's mean latency."""
        return float(np.mean([r.mean_job_latency_us for r in self.runs]))

    def to_dict(self) -> dict[str, Any]:
        runs = [r.to_dict() for r in self.runs]
        return {"config": self.config, "scheduler": self.scheduler, "mode": "ds3_compat",
                "simulation_mode": self.simulation_mode,
                "mean_job_latency_us": self.mean_job_latency_us,
                "completed_jobs": sum(r.completed_jobs for r in self.runs),
                "injected_jobs": sum(r.injected_jobs for r in self.runs),
                "runs": runs}


def canonical_ds3_scheduler(name: str) -> str:
    for k in _SCHEDULERS:
        if k.lower() == name.strip().lower():
            return k
    if name.strip().upper() == "CP":
        raise SocInputError("ds3_compat: DS3's constraint-programming scheduler CP needs IBM "
                            "CP Optimizer and is not modelled")
    raise SocInputError(f"unknown DS3 scheduler {name!r}; ds3_compat offers "
                        f"{', '.join(_SCHEDULERS)}")


def run_ds3(config: Ds3Config, scheduler: str | None = None, seed: int | None = None,
            settings: dict[str, Any] | None = None) -> Ds3Result:
    """Run a DS3 configuration as DS3 would: in performance mode every scale value times
    ``num_of_iterations`` iterations (iteration ``k`` seeds both random streams with ``k``),
    in validation mode one run (``random_seed`` for the gaps). ``seed`` runs one iteration
    with that seed instead; ``settings`` overrides ini settings by name."""
    s = replace(config.settings, **(settings or {}))
    name = canonical_ds3_scheduler(scheduler or s.scheduler)
    runs = []
    if s.simulation_mode == "validation":
        gap = s.random_seed if seed is None else seed
        sim = Ds3Simulation(config.soc.platform, config.apps, s, name, s.scale, gap, 1,
                            config.soc.dvfs)
        sim.run()
        runs.append(sim.result(gap))
    else:
        seeds = range(s.num_of_iterations) if seed is None else [seed]
        for scale in s.scale_values:
            for k in seeds:
                sim = Ds3Simulation(config.soc.platform, config.apps, s, name, scale, k, k,
                                    config.soc.dvfs)
                sim.run()
                runs.append(sim.result(k))
    return Ds3Result(config=config.path, scheduler=name, simulation_mode=s.simulation_mode,
                     runs=tuple(runs))
