"""``archgym/SoCScheduling-v0``: schedule tasks on a heterogeneous SoC one decision per step,
DeepSoCS style (Sung et al., "DeepSoCS: A Neural Scheduler for Heterogeneous System-on-Chip
Resource Scheduling", Electronics 9(6), 2020, trained in DS3: Arda et al., IEEE TC 2020), on
the exact simulators of :mod:`simulators.soc` (``docs/soc.md``).

**Modes.** ``mode="static"``: one task graph (``graph``, a shipped name or an
``archgym-soc-dag/1`` file); every step places one ready task on a processor at its earliest
start (:class:`~simulators.soc.ScheduleBuilder`, insertion-based unless
``insertion=False``); the metric is the makespan. ``mode="dynamic"``: a job stream
(``jobs`` Poisson arrivals at ``rate`` jobs/ms of the ``workload`` mix) runs on ``soc`` in
the event-driven simulator (:class:`~simulators.soc.DynamicSim`); at each decision point
(a task became ready or a PE free) the steps map the ready tasks to PEs, one per step,
until none is left, then the simulation runs to the next decision point; the metrics are
the stream's job latencies. Each episode's stream is drawn from the episode seed (unless
``stream_seed`` fixes one); ``reset`` draws seeds below ``2**31`` (:data:`HELD_OUT_SEEDS`),
so streams reset with ``options={"episode_seed": s}``, ``s >= 2**31``, are held out from
any training.

**Action**: ``Discrete(max_ready * P)``, ``a = slot * P + pe``: the ready task in window
slot ``slot`` to processor (static) or compute PE (dynamic) ``pe``. The window lists the
first ``max_ready`` ready tasks, by index (static) or in the simulator's order (earliest
ready, lower job, lower task index; dynamic); the others wait for a free slot. The mask
allows the pairs of a filled slot and a PE that can run the task.

**Observation** (``observation="dict"``, or ``"flat"``: the arrays concatenated), times
divided by the time scale ``S`` (static: HEFT's makespan; dynamic: the mix's mean HEFT
makespan of one job on the idle SoC) and relative to now (dynamic; static: to time 0):

- ``tasks`` ``(max_ready, 7)``: filled, ``rank_u``, mean execution time, successors
  (over the most in the graph(s)), remaining work of its job (static: of the graph), age of
  its job (static: makespan so far), time it has waited ready (static: 0);
- ``pes`` ``(P, 3)``: when the PE is next free, tasks queued on it (over ``max_ready``;
  static: tasks placed over ``n``), busy share so far;
- ``pairs`` ``(max_ready, P, 3)``: legal, estimated start and finish of the pair (the
  simulator's estimates: :meth:`ScheduleBuilder.est_eft`, :meth:`DynamicSim.est_eft`).

Values are clipped to ``[0, 100]``.

**Reward.** The objective's reward of the finished schedule (default ``latency``:
``makespan`` in static mode, ``mean_job_latency_us`` in dynamic mode, i.e. ``-value /
scale``). With ``reward="shaped"`` each step also receives the change of a potential (static:
``-makespan so far / scale``; dynamic: ``-sum over arrived jobs of (min(now, finish) -
arrival) / (jobs * scale)``, Decima's and DeepSoCS's "jobs in the system x elapsed time"),
and the last step gives back what the steps received, so the return is the objective's
reward in both modes, only earlier (for the default objective the potential reaches it
exactly).

**Metrics**: static ``makespan`` and ``makespan_vs_heft``; dynamic ``mean_job_latency_us``,
``p95_job_latency_us``, ``latency_vs_heft`` (against HEFT on the same stream),
``throughput_jobs_per_ms``, ``energy_per_job_uj``, ``edp_uj_us``, ``mean_pe_utilisation``.
Scales are HEFT's figures (dynamic: on the stream of seed 0).

**Policies**: ``heft``, ``peft``, ``etf``, ``met`` (and ``mct``): the simulator's own
heuristics as one-decision choosers (:mod:`simulators.soc.choosers`,
:data:`simulators.soc.policies.DYNAMIC_CHOOSERS`) over the window's tasks; when the window
holds every ready task they build exactly the simulator's schedule (static ETF, MET and MCT
are defined appended: use ``insertion=False``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import gymnasium
import numpy as np

from archgym.contract import BestKnown, digest
from archgym.errors import ArchGymError
from archgym.evaluator import Metrics, MetricSpec
from archgym.policy import Policy
from archgym.sequential import SEED_RANGE, SequentialEnv
from simulators.soc import (
    DynamicSim,
    ScheduleBuilder,
    SocInputError,
    poisson_arrivals,
    read_graph,
    schedule,
    simulate,
)
from simulators.soc.choosers import STATIC_CHOOSERS
from simulators.soc.policies import DYNAMIC_CHOOSERS
from simulators.soc.ranks import upward_rank
from simulators.soc.workload import app_to_graph
from workloads import soc as soc_workloads

#: ``reset`` draws episode seeds below this; seeds from here on give held-out job streams
HELD_OUT_SEEDS = SEED_RANGE
TASK_FEATURES = ("filled", "rank_u", "mean_exec", "successors", "job_remaining_work",
                 "job_age", "waited")
PE_FEATURES = ("free_in", "queued", "busy_share")
PAIR_FEATURES = ("legal", "start_in", "finish_in")
CLIP = 100.0
#: HEFT results kept per stream seed for ``latency_vs_heft``
_HEFT_CACHE = 64


def _mean_exec(row) -> float:
    xs = [float(x) for x in row if x is not None]
    return sum(xs) / len(xs)


class SoCSchedulingEnv(SequentialEnv):
    """Map ready tasks to PEs one per step (module docstring)."""

    def __init__(self, mode: Literal["static", "dynamic"] = "static",
                 graph: str = "topcuoglu2002_fig2", soc: str = "ds3_reference",
                 workload: str = "wifi", jobs: int = 10, rate: float = 5.0,
                 stream_seed: int | None = None, max_ready: int = 8, insertion: bool = True,
                 observation: Literal["dict", "flat"] = "dict",
                 reward: Literal["final", "shaped"] = "final",
                 objective: str = "latency") -> None:
        if mode not in ("static", "dynamic"):
            raise ArchGymError(f"mode must be 'static' or 'dynamic', got {mode!r}")
        if observation not in ("dict", "flat"):
            raise ArchGymError(f"observation must be 'dict' or 'flat', got {observation!r}")
        if reward not in ("final", "shaped"):
            raise ArchGymError(f"reward must be 'final' or 'shaped', got {reward!r}")
        if max_ready < 1:
            raise ArchGymError(f"max_ready must be an integer >= 1, got {max_ready}")
        self.mode, self.static = mode, mode == "static"
        self.max_ready, self.insertion = max_ready, insertion
        self.flat, self.shaped = observation == "flat", reward == "shaped"
        try:
            if self.static:
                self._setup_static(graph)
            else:
                self._setup_dynamic(soc, workload, jobs, rate, stream_seed)
        except (SocInputError, FileNotFoundError) as e:
            raise ArchGymError(str(e)) from None
        self.objective_aliases = {"latency": "makespan" if self.static
                                  else "mean_job_latency_us"}
        self.objective = self.parse_objective(objective)
        P, K = self.num_pes, max_ready
        self.action_space = gymnasium.spaces.Discrete(K * P)
        parts = {"tasks": (K, len(TASK_FEATURES)), "pes": (P, len(PE_FEATURES)),
                 "pairs": (K, P, len(PAIR_FEATURES))}
        if self.flat:
            size = sum(int(np.prod(s)) for s in parts.values())
            self.observation_space = gymnasium.spaces.Box(0.0, CLIP, shape=(size,),
                                                          dtype=np.float32)
        else:
            self.observation_space = gymnasium.spaces.Dict(
                {k: gymnasium.spaces.Box(0.0, CLIP, shape=s, dtype=np.float32)
                 for k, s in parts.items()})
        self._builder: ScheduleBuilder | None = None
        self._sim: DynamicSim | None = None
        self._heft_cache: dict[int, float] = {}

    # ---- problem set-up
    def _setup_static(self, graph: str) -> None:
        if graph in soc_workloads.GRAPHS:
            self.graph = soc_workloads.load_graph(graph)
        elif Path(graph).is_file():
            self.graph = read_graph(graph)
        else:
            raise ArchGymError(f"graph {graph!r}: no such file, and not a shipped graph "
                               f"({', '.join(soc_workloads.GRAPHS)})")
        g = self.graph
        self.num_pes = g.num_procs
        self.heft = schedule(g, "heft")
        self.scale = float(self.heft.makespan)
        if not self.scale > 0:
            raise ArchGymError(f"graph {graph!r}: HEFT's makespan is 0; nothing to schedule")
        self.rank = [float(r) for r in upward_rank(g)]
        self.mean_exec = [_mean_exec(row) for row in g.exec_time]
        self.max_succ = max(1, max(len(s) for s in g.succ))
        self.workload = g.name or graph
        self.workload_hash = digest(g.to_dict())
        self.metric_specs = (
            MetricSpec("makespan", "time", "minimize", scale=self.scale),
            MetricSpec("makespan_vs_heft", "1", "minimize", scale=1.0))

    def _setup_dynamic(self, soc: str, workload: str, jobs: int, rate: float,
                       stream_seed: int | None) -> None:
        if jobs < 1:
            raise ArchGymError(f"jobs must be an integer >= 1, got {jobs}")
        if not rate > 0:
            raise ArchGymError(f"rate must be > 0 jobs per ms, got {rate}")
        self.platform = soc_workloads.resolve_soc(soc)
        self.wl = soc_workloads.load_workload(workload)
        self.wl.check_runs_on(self.platform)
        self.jobs, self.rate, self.stream_seed = jobs, float(rate), stream_seed
        probe = DynamicSim(self.platform, self.wl, poisson_arrivals(self.wl, 1, rate))
        self.pes = probe.compute_pes
        self.num_pes = len(self.pes)
        graphs = [app_to_graph(a, self.platform) for a in self.wl.apps]
        self.scale = float(sum(p * float(schedule(g, "heft").makespan)
                               for p, g in zip(self.wl.probabilities, graphs, strict=True)))
        self.max_succ = max(1, max(len(s) for a in self.wl.apps for s in a.succ))
        self.app_mean_exec = [[_mean_exec(row) for row in g.exec_time] for g in graphs]
        ref = self._heft_result(0)
        self.workload = f"{self.wl.name}@{self.platform.name}"
        self.workload_hash = digest([a.to_dict() for a in self.wl.apps],
                                    list(self.wl.probabilities), self.platform.name,
                                    Path(soc_workloads.soc_path(soc)).read_text()
                                    if soc in soc_workloads.SOCS else Path(soc).read_text(),
                                    jobs, self.rate)
        mean = ref.mean_job_latency_us
        self.metric_specs = (
            MetricSpec("mean_job_latency_us", "us", "minimize", scale=mean),
            MetricSpec("p95_job_latency_us", "us", "minimize", scale=ref.p95_job_latency_us),
            MetricSpec("latency_vs_heft", "1", "minimize", scale=1.0),
            MetricSpec("throughput_jobs_per_ms", "1/ms", "maximize",
                       scale=ref.throughput_jobs_per_ms),
            MetricSpec("energy_per_job_uj", "uJ", "minimize", scale=ref.energy_per_job_uj),
            MetricSpec("edp_uj_us", "uJ*us", "minimize", scale=ref.edp_uj_us),
            MetricSpec("mean_pe_utilisation", "1", "maximize",
                       scale=max(ref.mean_pe_utilisation, 1e-9)))

    def arrivals(self, stream_seed: int):
        """The job stream of a stream seed."""
        return poisson_arrivals(self.wl, self.jobs, self.rate, seed=stream_seed)

    def _heft_result(self, stream_seed: int):
        return simulate(self.platform, self.wl, self.arrivals(stream_seed), "heft")

    def heft_latency(self, stream_seed: int) -> float:
        """HEFT's mean job latency on a stream (cached)."""
        if stream_seed not in self._heft_cache:
            if len(self._heft_cache) >= _HEFT_CACHE:
                self._heft_cache.pop(next(iter(self._heft_cache)))
            self._heft_cache[stream_seed] = self._heft_result(stream_seed).mean_job_latency_us
        return self._heft_cache[stream_seed]

    # ---- the episode
    def _begin(self, rng: np.random.Generator) -> None:
        self._given = 0.0
        self._window: list = []
        if self.static:
            self._builder = ScheduleBuilder(self.graph, insertion=self.insertion)
            self._done = False
        else:
            self._stream = (self._episode_seed if self.stream_seed is None
                            else int(self.stream_seed))
            self._sim = DynamicSim(self.platform, self.wl, self.arrivals(self._stream))
            self._done = not self._sim.run_until_decision()
        self._refresh()

    def _refresh(self) -> None:
        """The window of ready tasks and their (EST, EFT) per PE."""
        K = self.max_ready
        if self.static:
            b = self._builder
            self._window = b.ready[:K]
            self._times = [b.est_eft(i) for i in self._window]
        else:
            sim = self._sim
            self._window = sorted(sim.ready, key=lambda t: (t.ready_at, t.job, t.index))[:K]
            self._times = [[sim.est_eft(t)[p] for p in self.pes] for t in self._window]

    def _legal(self) -> np.ndarray:
        mask = np.zeros((self.max_ready, self.num_pes), dtype=bool)
        for k, row in enumerate(self._times):
            mask[k] = [t is not None for t in row]
        return mask.ravel()

    def _potential(self) -> float:
        if self.static:
            return -float(self._builder.makespan) / self.metric_specs[0].scale
        sim, now = self._sim, self._sim.now
        total = sum((j.finish if j.finish <= now else now) - j.arrival for j in sim.jobs)
        return -total / (self.jobs * self.metric_specs[0].scale)

    def _apply(self, action: int) -> float:
        slot, pe = divmod(action, self.num_pes)
        task = self._window[slot]
        if self.static:
            self._builder.place(task, pe)
            self._done = self._builder.done
        else:
            self._sim.decide(self.pes[pe], task.uid)
            if not self._sim.ready:
                self._done = not self._sim.run_until_decision()
        self._refresh()
        if not self.shaped:
            return 0.0
        if self._done:  # the objective's reward follows: give back what the steps received
            return -self._given
        step = self._potential() - self._given
        self._given += step
        return step

    def _complete(self) -> bool:
        return self._done

    def _observe(self):
        K, P, S = self.max_ready, self.num_pes, self.scale
        tasks = np.zeros((K, len(TASK_FEATURES)), dtype=np.float64)
        pes = np.zeros((P, len(PE_FEATURES)), dtype=np.float64)
        pairs = np.zeros((K, P, len(PAIR_FEATURES)), dtype=np.float64)
        if self.static:
            now, b, g = 0.0, self._builder, self.graph
            left = sum(m for i, m in enumerate(self.mean_exec) if b.proc[i] is None)
            span = float(b.makespan)
            for k, i in enumerate(self._window):
                tasks[k] = (1, self.rank[i] / S, self.mean_exec[i] / S,
                            len(g.succ[i]) / self.max_succ, left / S, span / S, 0)
            placed = [0] * P
            busy = [0.0] * P
            for i, p in enumerate(b.proc):
                if p is not None:
                    placed[p] += 1
                    busy[p] += float(g.exec_time[i][p])
            for p in range(P):
                pes[p] = (float(b.proc_available(p)) / S, placed[p] / g.num_tasks,
                          busy[p] / span if span > 0 else 0.0)
        elif self._sim is not None:
            sim = self._sim
            now = sim.now
            for k, t in enumerate(self._window):
                job = sim.jobs[t.job]
                tasks[k] = (1, sim.upward_rank(t) / S, self.app_mean_exec[t.app][t.index] / S,
                            sim.num_successors(t) / self.max_succ,
                            sim.remaining_work(t.job) / S, (now - job.arrival) / S,
                            (now - t.ready_at) / S)
            for c, p in enumerate(self.pes):
                pes[c] = ((sim.pe_available_at(p) - now) / S,
                          len(sim.pe_backlog[p]) / K,
                          sim.pe_busy_time[p] / now if now > 0 else 0.0)
        else:
            now = 0.0
        for k, row in enumerate(self._times):
            for p, t in enumerate(row):
                if t is not None:
                    pairs[k, p] = (1, (float(t[0]) - now) / S, (float(t[1]) - now) / S)
        obs = {"tasks": tasks, "pes": pes, "pairs": pairs}
        obs = {k: np.clip(v, 0.0, CLIP).astype(np.float32) for k, v in obs.items()}
        if self.flat:
            return np.concatenate([a.ravel() for a in obs.values()])
        return obs

    def _result(self) -> tuple[Metrics, dict[str, Any]]:
        if self.static:
            s = self._builder.result("env")
            m = float(s.makespan)
            return ({"makespan": m, "makespan_vs_heft": m / self.scale},
                    {"graph": self.workload, "schedule": s.to_dict()["schedule"]})
        r = self._sim.result("env")
        metrics = {"mean_job_latency_us": r.mean_job_latency_us,
                   "p95_job_latency_us": r.p95_job_latency_us,
                   "latency_vs_heft": r.mean_job_latency_us / self.heft_latency(self._stream),
                   "throughput_jobs_per_ms": r.throughput_jobs_per_ms,
                   "energy_per_job_uj": r.energy_per_job_uj, "edp_uj_us": r.edp_uj_us,
                   "mean_pe_utilisation": r.mean_pe_utilisation}
        tasks = sorted(self._sim.tasks.values(), key=lambda t: t.uid)
        return metrics, {"stream_seed": self._stream,
                         "mapping": [[t.job, t.index, self._sim.pe_names[t.pe], t.start,
                                      t.finish] for t in tasks]}

    def best_known(self) -> BestKnown | None:
        """Static mode on an integer graph: the minimum makespan (CP-SAT, one worker, 10 s),
        which bounds every schedule the env can build; a job stream knows no optimum."""
        if not self.static or not self.graph.is_integral:
            return None
        s = schedule(self.graph, "optimal", time_limit=10.0)
        m, proven = float(s.makespan), bool(s.extra["proven_optimal"])
        how = "minimum makespan" if proven else \
            "best schedule CP-SAT found in 10 s (not proven optimal)"
        reward = self.objective.reward({"makespan": m, "makespan_vs_heft": m / self.scale})
        return BestKnown(float(reward), proven,
                         f"{how} of {self.workload} (simulators.soc.optimal)")

    # ---- the window, for policies
    def window(self) -> list:
        """The ready tasks the action's slots refer to (static: indices; dynamic: tasks)."""
        return list(self._window)

    def action_of(self, task, pe: int) -> int:
        """The action placing ``task`` (a window entry) on processor / PE id ``pe``."""
        slot = self._window.index(task)
        col = pe if self.static else self.pes.index(pe)
        return slot * self.num_pes + col

    # ---- pickling: a simulation holds generators; the episode is re-played instead
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for k in ("_builder", "_sim", "_window", "_times"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._builder = self._sim = None
        self._window, self._times = [], []
        if "_episode_seed" in state:
            actions, shaped_given = list(self._actions), self._given
            self._begin(np.random.default_rng(self._episode_seed))
            for a in actions:
                if self._done or not (0 <= a < self.action_space.n and self._legal()[a]):
                    break  # finished, or ended by an illegal action (the mask says so)
                self._apply(a)
            self._given = shaped_given


# ------------------------------------------------------------------------------ policies


class _Heuristic(Policy):
    """The simulator's heuristic ``name`` as a one-decision chooser over the window."""

    def __init__(self, env: Any, seed: int = 0, **hparams: Any) -> None:
        super().__init__(env, seed=seed, **hparams)
        base = self.env
        self._static = STATIC_CHOOSERS[self.name](base.graph) if base.static else None
        self._episode = None

    def act(self, observation, info) -> int:
        env = self.env
        among = env.window()
        if env.static:
            task, pe = self._static(env._builder, among)
            return env.action_of(task, pe)
        if self._episode is not env._sim:  # per-run tables (PEFT's OCT) start afresh
            self._episode, self._dynamic = env._sim, DYNAMIC_CHOOSERS[self.name]()
        uid, pe = self._dynamic(env._sim, among)
        return env.action_of(env._sim.tasks[uid], pe)


class Heft(_Heuristic):
    """HEFT: the ready task of largest upward rank to its earliest-finish PE."""

    name = "heft"


class Peft(_Heuristic):
    """PEFT: the ready task of largest mean OCT to the PE minimising EFT + OCT."""

    name = "peft"


class Etf(_Heuristic):
    """ETF: the (ready task, PE) pair of earliest start (static) / finish (dynamic, DS3)."""

    name = "etf"


class Met(_Heuristic):
    """MET: the first ready task to its minimum-execution-time PE."""

    name = "met"


class Mct(_Heuristic):
    """MCT: the first ready task to its earliest-finish PE."""

    name = "mct"

