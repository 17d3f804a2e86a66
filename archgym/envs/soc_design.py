"""``archgym/SoCDesign-v0``: design a heterogeneous SoC for a stream of jobs (FARSI style).

One step evaluates one design point: the base SoC (``soc``: a shipped SoC or an
``archgym-soc/1`` file; default DS3's reference SoC, 4 Cortex-A7, 4 Cortex-A15, 2 matrix,
4 FFT and 2 Viterbi accelerators) with the design's PE mix, DVFS points, interconnect
bandwidth and scheduler runs ``jobs`` Poisson arrivals (``rate`` jobs/ms, seeded by
``arrival_seed``) of ``workload`` (a mix of DS3 applications, or an application JSON file)
in the exact dynamic simulator (:mod:`simulators.soc.dynamic`, through
:func:`simulators.soc.design.evaluate_design`).
The default, 30 WiFi jobs (TX 0.8 / RX 0.2, DS3's second example) at 5 jobs/ms (DS3's scale
200 us), takes tens of milliseconds per design.

**Knobs** (``values`` narrows or replaces a knob's values):

====================  ==========================  ============================================
knob                  values (DS3 reference SoC)  meaning
====================  ==========================  ============================================
``count_<type>``      0..4 (or the base count)    PEs of each compute type (A7, A15, MM, FFT,
                                                  VIT): FARSI's PE allocation
``freq_<type>_mhz``   the type's operating points DVFS point of each cluster with more than
                      (A7 600-1400, A15 600-2000) one point (Odroid-XU3's tables, via DS3)
``bandwidth_mb_s``    10, 50, 100, 250, 500,      every interconnect link, bytes/us (uniform;
                      1000, 2000, 4000            replaces the SoC's per-pair bandwidths)
``scheduler``         heft, peft, etf, mct, met   the run-time scheduler
====================  ==========================  ============================================

The default design is the base SoC's own (counts, fastest points) with a uniform 1000 MB/s
interconnect (DS3's CPU-cluster bandwidth) and HEFT. A frequency scales execution time by
``f_max / f`` and dynamic power by ``(f/f_max)(V/V_max)^2``, leakage by ``V/V_max``
(:mod:`simulators.soc.platform`). Constraint: for every function of the workload some PE
type that runs it has a positive count (``count_A7 + count_A15 >= 1`` for WiFi).

**Metrics**: ``mean_job_latency_us``, ``p95_job_latency_us``, ``makespan_us``,
``throughput_jobs_per_ms``, ``energy_uj`` (dynamic while busy plus leakage of every PE over
the run), ``energy_per_job_uj`` (DS3's: total / jobs), ``edp_uj_us`` (energy per job x mean
latency), ``area_mm2`` (sum of the PEs' areas, :data:`simulators.soc.platform.AREA_SOURCES`),
``mean_pe_utilisation`` and ``bandwidth_mb_s`` (the provisioned link bandwidth: a cost
objectives can cap). Observation: latency, p95 latency, energy per job, area, each scaled
by the default design's value.

**Objectives**: any string of :func:`archgym.objectives.parse` over the metrics, plus the
aliases ``latency``, ``energy``, ``area``, ``edp``, ``throughput``, ``targets`` (ArchGym's
target reward on latency, energy and area), ``pareto`` (the three) and the default
``budget``: the lowest mean latency with no more area, energy per job and link bandwidth
than the default design (without a budget the largest, fastest SoC always wins).
``target:METRIC`` without a value aims at a bound of :mod:`simulators.soc.design` that no
design passes; ``target_*`` parameters set targets explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archgym.contract import digest
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.objectives import parse
from archgym.space import Categorical, Constraint, DesignSpace, Ordinal
from simulators.soc.apps import read_app
from simulators.soc.design import (
    area_floor_mm2,
    critical_paths_us,
    energy_floor_uj,
    evaluate_design,
    latency_floor_us,
    p95_floor_us,
)
from simulators.soc.errors import SocInputError
from simulators.soc.platform import Platform
from simulators.soc.policies import DYNAMIC_SCHEDULERS
from simulators.soc.workload import Workload, poisson_arrivals
from workloads.soc import MIXES, SOCS, load_workload, resolve_soc

BANDWIDTHS = (10, 50, 100, 250, 500, 1000, 2000, 4000)
DEFAULT_BANDWIDTH = 1000
SCHEDULERS = ("heft", "peft", "etf", "mct", "met")
#: metric -> (unit, direction)
METRICS = {"mean_job_latency_us": ("us", "minimize"),
           "p95_job_latency_us": ("us", "minimize"),
           "makespan_us": ("us", "minimize"),
           "throughput_jobs_per_ms": ("jobs/ms", "maximize"),
           "energy_uj": ("uJ", "minimize"),
           "energy_per_job_uj": ("uJ", "minimize"),
           "edp_uj_us": ("uJ*us", "minimize"),
           "area_mm2": ("mm^2", "minimize"),
           "mean_pe_utilisation": ("1", "maximize"),
           "bandwidth_mb_s": ("MB/s", "minimize")}
OBSERVED = ("mean_job_latency_us", "p95_job_latency_us", "energy_per_job_uj", "area_mm2")


def load_base(soc: str) -> Platform:
    try:
        return resolve_soc(soc)
    except SocInputError as e:
        raise ArchGymError(f"soc: {e}") from None


def load_jobs(workload: str) -> Workload:
    """A named mix, or an application JSON file (``archgym-soc-app/1``) alone."""
    try:
        if workload in MIXES:
            return load_workload(workload)
        if Path(workload).is_file():
            app = read_app(workload)
            return Workload(name=app.name or Path(workload).stem, apps=(app,),
                            probabilities=(1.0,))
    except SocInputError as e:
        raise ArchGymError(f"workload: {e}") from None
    raise ArchGymError(f"workload {workload!r} is neither a mix ({', '.join(MIXES)}) nor an "
                       "application JSON file")


def knob_values(base: Platform, values: Mapping[str, Sequence[Any]] | None
                ) -> dict[str, tuple[tuple, Any]]:
    """Knob -> (allowed values, default design's value), ``values`` applied."""
    knobs: dict[str, tuple[tuple, Any]] = {}
    for t in base.pe_types:
        if t.is_memory:
            continue
        knobs[f"count_{t.name}"] = (tuple(range(max(4, t.count) + 1)), t.count)
        if len(t.opps) > 1:
            knobs[f"freq_{t.name}_mhz"] = (tuple(f for f, _ in t.opps), t.opps[t.opp][0])
    knobs["bandwidth_mb_s"] = (BANDWIDTHS, DEFAULT_BANDWIDTH)
    knobs["scheduler"] = (SCHEDULERS, "heft")
    out = dict(knobs)
    for name, given in (values or {}).items():
        if name not in knobs:
            raise ArchGymError(f"unknown SoCDesign knob {name!r}; knobs: {', '.join(knobs)}")
        if isinstance(given, str) or not isinstance(given, Sequence) or not given:
            raise ArchGymError(f"values for {name} must be a non-empty list, got {given!r}")
        chosen = tuple(dict.fromkeys(given))
        bad = [v for v in chosen if not _allowed(name, v, knobs[name][0])]
        if bad:
            raise ArchGymError(f"values for {name}: {bad} not allowed; {_describe(name, knobs)}")
        if name != "scheduler":
            chosen = tuple(sorted(chosen))
        out[name] = (chosen, knobs[name][1])
    return out


def _allowed(name: str, v: Any, defaults: tuple) -> bool:
    if name.startswith("count_"):
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 64
    if name == "bandwidth_mb_s":
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) \
            and v > 0
    return v in defaults  # operating points and schedulers: only the real ones


def _describe(name: str, knobs: Mapping[str, tuple[tuple, Any]]) -> str:
    if name.startswith("count_"):
        return "allowed: integers 0..64"
    if name == "bandwidth_mb_s":
        return "allowed: positive numbers (bytes/us)"
    if name == "scheduler":
        return f"allowed: {', '.join(DYNAMIC_SCHEDULERS)}"
    return f"allowed: the operating points {', '.join(map(str, knobs[name][0]))} (MHz)"


def coverage_rules(base: Platform, workload: Workload) -> dict[str, str]:
    """One rule per distinct minimal set of PE types able to run some function."""
    sets = set()
    for app in workload.apps:
        for f in app.functions:
            sets.add(frozenset(t.name for t in base.pe_types
                               if not t.is_memory and f in t.exec_us))
    minimal = [s for s in sets if not any(o < s for o in sets)]
    rules = {}
    for s in sorted(minimal, key=sorted):
        if not s:
            raise ArchGymError(f"workload {workload.name!r}: a function runs on no PE type of "
                               f"SoC {base.name!r}")
        names = sorted(s)
        rules[f"runs_on_{'_or_'.join(names)}"] = " + ".join(f"count_{n}" for n in names) + \
            " >= 1"
    return rules


def design_space(knobs: Mapping[str, tuple[tuple, Any]], rules: Mapping[str, str]
                 ) -> DesignSpace:
    params = []
    for name, (chosen, default) in knobs.items():
        kind = Categorical if name == "scheduler" else Ordinal
        params.append(kind(name, chosen, default=default if default in chosen else None))
    groups = {"pes": [n for n in knobs if n.startswith("count_")],
              "dvfs": [n for n in knobs if n.startswith("freq_")],
              "interconnect": ["bandwidth_mb_s"], "scheduler": ["scheduler"]}
    return DesignSpace(params, [Constraint(n, r) for n, r in rules.items()],
                       {g: m for g, m in groups.items() if m})


class SocDesignEvaluator(Evaluator):
    """Runs the job stream on one design (see the module docstring)."""

    def __init__(self, space: DesignSpace, base: Platform, workload: Workload, jobs: int,
                 rate: float, seed: int, label: str) -> None:
        super().__init__()
        self.space, self.base, self.jobs_workload = space, base, workload
        try:
            self.arrivals = poisson_arrivals(workload, jobs, rate, seed)
        except SocInputError as e:
            raise ArchGymError(str(e)) from None
        self.workload = label
        self.workload_hash = digest(base.to_dict(), [a.to_dict() for a in workload.apps],
                                    list(workload.probabilities), jobs, rate, seed)
        default = space.default()
        try:
            first = self._evaluate(space.validate(default))
        except (SocInputError, ArchGymError) as e:
            raise ArchGymError(f"SoCDesign-v0: the default design cannot run: {e}") from None
        #: the default design's metrics: observation scales and the budget
        self.reference = {n: float(first[n]) for n in METRICS}
        self.metric_specs = tuple(
            MetricSpec(n, unit, d, scale=self.reference[n] if self.reference[n] > 0 else 1.0)
            for n, (unit, d) in METRICS.items())
        self._remember(space.key(default), dict(self.reference))

    def _evaluate(self, config: Mapping[str, Any]) -> Metrics:
        counts = {k[len("count_"):]: v for k, v in config.items() if k.startswith("count_")}
        freqs = {k[len("freq_"):-len("_mhz")]: v for k, v in config.items()
                 if k.startswith("freq_")}
        m = evaluate_design(self.base, self.jobs_workload, self.arrivals, counts, freqs,
                            float(config["bandwidth_mb_s"]), config["scheduler"])
        m["bandwidth_mb_s"] = float(config["bandwidth_mb_s"])
        return m

    def floors(self) -> dict[str, float]:
        """Bounds no design of the space passes (the default ``target:`` values)."""
        counts = {n[len("count_"):]: self.space[n].values for n in self.space.names
                  if n.startswith("count_")}
        freqs = {n[len("freq_"):-len("_mhz")]: self.space[n].values for n in self.space.names
                 if n.startswith("freq_")}
        args = (self.base, self.jobs_workload, self.arrivals, counts, freqs)
        paths = critical_paths_us(*args)
        latency, energy = latency_floor_us(paths), energy_floor_uj(*args)
        return {"mean_job_latency_us": latency, "p95_job_latency_us": p95_floor_us(paths),
                "energy_per_job_uj": energy, "edp_uj_us": latency * energy,
                "area_mm2": area_floor_mm2(self.base, self.jobs_workload, counts),
                "bandwidth_mb_s": float(min(self.space["bandwidth_mb_s"].values))}


def aliases(reference: Mapping[str, float]) -> dict[str, str]:
    """Objective words; ``budget`` caps area and energy per job (rounded up in the 4th
    significant digit) and bandwidth at the default design's."""
    def up(x: float) -> str:
        e = math.floor(math.log10(x)) - 3 if x > 0 else 0
        return f"{math.ceil(x / 10 ** e) * 10 ** e:.6g}"

    return {"budget": f"mean_job_latency_us; area_mm2<={up(reference['area_mm2'])}; "
                      f"energy_per_job_uj<={up(reference['energy_per_job_uj'])}; "
                      f"bandwidth_mb_s<={reference['bandwidth_mb_s']:g}",
            "latency": "mean_job_latency_us", "energy": "energy_per_job_uj",
            "area": "area_mm2", "edp": "edp_uj_us", "throughput": "throughput_jobs_per_ms",
            "targets": "target:mean_job_latency_us,energy_per_job_uj,area_mm2",
            "pareto": "pareto:mean_job_latency_us,energy_per_job_uj,area_mm2"}


def workload_label(workload: str, jobs: int, rate: float, soc: str) -> str:
    """The dataset's ``workload`` column: ``wifi[30@5/ms]``, ``@soc`` when not the default."""
    name = workload if workload in MIXES else Path(workload).stem
    return f"{name}[{jobs}@{rate:g}/ms]" + ("" if soc == "ds3_reference" else
                                           f"@{soc if soc in SOCS else Path(soc).stem}")


class SocDesignEnv(DesignEnv):
    """Heterogeneous SoC design: one step = one design point run on the whole job stream."""

    def __init__(self, soc: str = "ds3_reference", workload: str = "wifi", jobs: int = 30,
                 rate: float = 5.0, arrival_seed: int = 0, objective: str = "budget",
                 target_mean_job_latency_us: float | None = None,
                 target_energy_per_job_uj: float | None = None,
                 target_area_mm2: float | None = None,
                 target_edp_uj_us: float | None = None,
                 values: Mapping[str, Sequence[Any]] | None = None,
                 max_steps: int = 100) -> None:
        if jobs < 1:
            raise ArchGymError(f"jobs must be >= 1, got {jobs}")
        if not rate > 0:
            raise ArchGymError(f"rate must be > 0 jobs per ms, got {rate}")
        base, the_jobs = load_base(soc), load_jobs(workload)
        if base.area_mm2 is None:
            raise ArchGymError(f"soc {soc!r}: every compute PE type needs area_mm2 (the area "
                               "metric)")
        knobs = knob_values(base, values)
        space = design_space(knobs, coverage_rules(base, the_jobs))
        evaluator = SocDesignEvaluator(space, base, the_jobs, jobs, rate, arrival_seed,
                                       workload_label(workload, jobs, rate, soc))
        self.objective_aliases = aliases(evaluator.reference)
        self.targets = evaluator.floors()
        given = {"mean_job_latency_us": target_mean_job_latency_us,
                 "energy_per_job_uj": target_energy_per_job_uj,
                 "area_mm2": target_area_mm2, "edp_uj_us": target_edp_uj_us}
        self.targets.update({k: v for k, v in given.items() if v is not None})
        objective_ = parse(objective, evaluator.metric_specs, self.objective_aliases,
                           self.targets)
        super().__init__(evaluator, objective_, max_steps=max_steps,
                         observation_metrics=OBSERVED)
