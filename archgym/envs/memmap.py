"""``archgym/MemoryMapping-v0``: place an ML program's tensors in a two-tier memory, one
tensor per step (the mallocGame of Wang et al., arXiv:2305.07440, 2023, on the rules and
exact cost model of :mod:`simulators.memmap`; ``docs/memmap.md``).

**Episode.** The tensors are taken in order of first use (ties: lower index). The action is
one of ``num_slots`` offset slots in fast memory, or slow (action ``num_slots``, always
legal). Slot ``k`` is the ``k``-th lowest *gap-edge* offset of the tensor (each free gap
over its live range offers its lowest and its highest aligned offset;
:class:`simulators.memmap.game.Game`); slots past the list are masked, and a tensor larger
than fast memory, or with no gap that fits, can only go slow. So every legal play is a valid
placement (the independent checker confirms each finished one), and with 8 slots every
shipped program's proven optimum is reachable.

**Observation** (``observation="dict"``, or ``"flat"``: the same arrays concatenated in one
``Box``):

- ``occupancy``: a ``(time_bins, address_bins)`` map of fast memory, the share of each cell
  (ops x bytes) that placed tensors occupy, in [0, 1];
- ``tensors``: ``(lookahead, len(FEATURES))`` features of the next tensors in game order,
  the first being the one to place now (size against capacity, live range, benefit alone
  and given the placement so far, largest free gap, progress; padding rows are zeros);
- ``slots``: ``(num_slots, len(SLOT_FEATURES))``: where each slot puts the tensor (offset
  and end over capacity, size of its gap, low/high edge, best fit); masked slots are zeros.

**Reward.** The default objective ``saved_vs_greedy`` is the time saved against all-slow
normalised by the greedy baseline (XLA-style, :func:`simulators.memmap.greedy`) on the same
program: ``1 + (saved - greedy_saved) / greedy_saved``, i.e. ``saved / greedy_saved``: 1
matches greedy, above 1 beats it, 0 is all-slow. When greedy saves nothing the divisor is
the all-slow time instead (greedy and all-slow then score 1). It arrives when the last
tensor is placed. With ``reward="shaped"`` every move is rewarded at once with the exact
time it saved (or cost), divided the same way, and the last move also receives the
objective's reward minus what the moves already received: the return of an episode is the
same in both modes, only earlier (for ``saved_vs_greedy`` on a program where greedy saves
time, each step's reward is exactly its move's saving divided by greedy's).

**Programs.** ``program`` is a shipped program's name or a program JSON file.
``program_set`` (which then replaces ``program``) draws a program per episode, from the
episode's seed, for training across programs: a list of names/files (uniformly), or
``"random:LO-HI"`` (``"random"`` = ``"random:8-20"``):
:func:`workloads.memmap.random_program` with ``LO..HI`` tensors (uniform), a fast capacity
of 30 % to 70 % of the peak live bytes (uniform) and the episode seed as the generator's
seed. ``reset`` draws episode seeds below ``2**31`` (:data:`HELD_OUT_SEEDS`): episodes
reset with ``options={"episode_seed": s}``, ``s >= 2**31``, play programs no training
episode can have seen.

**Metrics**: ``saved_vs_greedy``, ``time_s`` (program time), ``time_saved_s`` (against
all-slow), ``energy_j`` (dynamic energy, :func:`simulators.memmap.hardware_cost`),
``peak_fast_bytes`` and ``fragmentation`` (:class:`simulators.memmap.MemmapResult`). Scales
are the greedy placement's figures on the program (with a set: on a reference program, the
first listed or a mid-sized generated one).

**Policies**: ``greedy-placement`` (the greedy baseline's placement, played through the
slots), ``online-best-fit`` (decides in game order: the best-fit slot when it saves time
now) and ``all-slow``. **Design-point view** (one program only): a tier per tensor that fits
(``slow``/``fast``), decoded by the greedy's packer: in the greedy's priority order each
tensor marked fast gets the best-fit offset if a gap fits, else stays slow. Its default is
the greedy's own choice, so the default design is the greedy placement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import gymnasium
import numpy as np

from archgym.contract import BestKnown, digest
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.policy import Policy
from archgym.sequential import SEED_RANGE, DesignPointView, SequentialEnv
from archgym.space import Categorical, DesignSpace
from simulators.memmap import (
    FEATURES,
    SLOT_FEATURES,
    Game,
    MemmapResult,
    Placement,
    Program,
    TimeModel,
    actions_for,
    evaluate,
    greedy,
    greedy_action,
    hardware_cost,
    optimal,
    placement_to_json,
)
from simulators.memmap.allocator import FastMemory
from simulators.memmap.greedy import priority_order
from workloads import memmap as memmap_workloads

#: ``reset`` draws episode seeds below this; seeds from here on are for held-out programs
HELD_OUT_SEEDS = SEED_RANGE
#: fast capacity of generated programs, as a fraction of their peak live bytes (uniform)
CAPACITY_FRACTIONS = (0.3, 0.7)
_RANDOM = re.compile(r"^random(?::(\d+)-(\d+))?$")
#: observation bounds of the :data:`~simulators.memmap.FEATURES` columns (default [0, 1])
_FEATURE_BOUNDS = {"log2_size_over_capacity": (-20.0, 4.0), "benefit_alone": (-1.0, 1.0),
                   "benefit_now": (-1.0, 1.0)}


def load_program(name_or_file: str) -> Program:
    """A shipped program by name or a program file, errors as :class:`ArchGymError`."""
    try:
        return memmap_workloads.load(name_or_file)
    except (ValueError, FileNotFoundError) as e:
        raise ArchGymError(str(e)) from None


@dataclass(frozen=True)
class Baseline:
    """A program with its time model and the greedy baseline the reward is measured by."""

    program: Program
    model: TimeModel
    greedy: MemmapResult
    greedy_energy_j: float
    #: divisor of ``saved_vs_greedy``: greedy's time saved, or the all-slow time if it saves
    #: nothing (exact, seconds)
    norm_exact: Fraction

    @classmethod
    def of(cls, program: Program) -> Baseline:
        model = TimeModel.of(program)
        g = evaluate(program, greedy(program, model), "greedy", model=model)
        saved = Fraction(g.time_saved_exact)
        norm = saved if saved > 0 else Fraction(g.total_time_exact) + saved
        return cls(program, model, g, hardware_cost(program, g)["energy_j"], norm)

    def metrics(self, placement: Placement) -> tuple[Metrics, MemmapResult]:
        """The env's metrics of a placement, which the independent checker must accept."""
        r = evaluate(self.program, placement, model=self.model)
        if not r.valid:
            raise RuntimeError(f"{self.program.name}: the env produced an invalid placement: "
                               f"{'; '.join(r.violations[:3])}")
        excess = Fraction(r.time_saved_exact) - Fraction(self.greedy.time_saved_exact)
        return {"saved_vs_greedy": float(1 + excess / self.norm_exact),
                "time_s": r.total_time_s, "time_saved_s": r.time_saved_s,
                "energy_j": hardware_cost(self.program, r)["energy_j"],
                "peak_fast_bytes": float(r.peak_fast_bytes),
                "fragmentation": r.fragmentation}, r

    def metric_specs(self) -> tuple[MetricSpec, ...]:
        g, cap = self.greedy, self.program.hierarchy.capacity_bytes
        return (MetricSpec("saved_vs_greedy", "1", "maximize", scale=1.0),
                MetricSpec("time_s", "s", "minimize", scale=g.total_time_s),
                MetricSpec("time_saved_s", "s", "maximize", scale=float(self.norm_exact)),
                MetricSpec("energy_j", "J", "minimize", scale=self.greedy_energy_j),
                MetricSpec("peak_fast_bytes", "B", "minimize", scale=float(max(cap, 1))),
                MetricSpec("fragmentation", "1", "minimize", scale=1.0))


class ProgramSource:
    """Where each episode's program comes from: one program, a list, or the generator."""

    def __init__(self, program: str, program_set: str | Sequence[str] | None) -> None:
        self.programs: list[Program] = []
        self.random: tuple[int, int] | None = None
        if program_set is None:
            self.programs = [load_program(program)]
            self.label = self.programs[0].name
        elif isinstance(program_set, str):
            m = _RANDOM.match(program_set.strip())
            if not m:
                raise ArchGymError(f"program_set {program_set!r}: a list of shipped program "
                                   "names or files, or 'random[:LO-HI]' (generated programs "
                                   "of LO to HI tensors, e.g. 'random:8-20')")
            lo, hi = (int(m.group(1)), int(m.group(2))) if m.group(1) else (8, 20)
            if not 2 <= lo <= hi:
                raise ArchGymError(f"program_set {program_set!r}: tensor counts need 2 <= LO "
                                   f"<= HI, got {lo}-{hi}")
            self.random = (lo, hi)
            self.label = f"random:{lo}-{hi}"
        else:
            if not program_set:
                raise ArchGymError("program_set is empty: give at least one program")
            self.programs = [load_program(p) for p in program_set]
            self.label = "set:" + ",".join(p.name for p in self.programs)
        self._cache: dict[int, Baseline] = {}

    @property
    def fixed(self) -> bool:
        """One program for every episode."""
        return self.random is None and len(self.programs) == 1

    def generated(self, seed: int, rng: np.random.Generator) -> Program:
        lo, hi = self.random
        n = int(rng.integers(lo, hi + 1))
        frac = float(rng.uniform(*CAPACITY_FRACTIONS))
        return memmap_workloads.random_program(n, seed, capacity_fraction=frac,
                                               name=f"random{n}_s{seed}")

    def reference(self) -> Baseline:
        """The program metric scales come from."""
        if self.random is None:
            return self.baseline(0)
        lo, hi = self.random
        return Baseline.of(memmap_workloads.random_program((lo + hi) // 2, 0))

    def baseline(self, k: int) -> Baseline:
        if k not in self._cache:
            self._cache[k] = Baseline.of(self.programs[k])
        return self._cache[k]

    def draw(self, episode_seed: int, rng: np.random.Generator) -> Baseline:
        """The episode's program (from its seed and generator only)."""
        if self.random is not None:
            return Baseline.of(self.generated(episode_seed, rng))
        return self.baseline(int(rng.integers(len(self.programs))) if len(self.programs) > 1
                             else 0)

    def content_hash(self) -> str:
        if self.random is None:
            return digest(*(p.to_dict() for p in self.programs))
        lo, hi = self.random
        probe = [self.generated(s, np.random.default_rng(s)).to_dict() for s in (0, 1)]
        return digest("random", lo, hi, CAPACITY_FRACTIONS, *probe)


def _feature_bounds(rows: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([_FEATURE_BOUNDS.get(f, (0.0, 1.0))[0] for f in FEATURES], dtype=np.float32)
    hi = np.array([_FEATURE_BOUNDS.get(f, (0.0, 1.0))[1] for f in FEATURES], dtype=np.float32)
    return np.tile(lo, (rows, 1)), np.tile(hi, (rows, 1))


class MemoryMappingEnv(SequentialEnv):
    """Place a program's tensors one per step (module docstring)."""

    objective_aliases = {"time": "time_s", "energy": "energy_j"}

    def __init__(self, program: str = "small_mlp", program_set: str | Sequence[str] | None
                 = None, num_slots: int = 8, time_bins: int = 32, address_bins: int = 32,
                 lookahead: int = 4, observation: Literal["dict", "flat"] = "dict",
                 reward: Literal["final", "shaped"] = "final",
                 objective: str = "saved_vs_greedy") -> None:
        for name, value in (("num_slots", num_slots), ("time_bins", time_bins),
                            ("address_bins", address_bins), ("lookahead", lookahead)):
            if value < 1:
                raise ArchGymError(f"{name} must be an integer >= 1, got {value}")
        if observation not in ("dict", "flat"):
            raise ArchGymError(f"observation must be 'dict' or 'flat', got {observation!r}")
        if reward not in ("final", "shaped"):
            raise ArchGymError(f"reward must be 'final' or 'shaped', got {reward!r}")
        self.source = ProgramSource(program, program_set)
        self.num_slots, self.lookahead = num_slots, lookahead
        self.bins = (time_bins, address_bins)
        self.flat, self.shaped = observation == "flat", reward == "shaped"
        self.metric_specs = self.source.reference().metric_specs()
        self.objective = self.parse_objective(objective)
        self.workload = self.source.label
        self.workload_hash = self.source.content_hash()
        self.action_space = gymnasium.spaces.Discrete(num_slots + 1)
        f_lo, f_hi = _feature_bounds(lookahead)
        parts = {
            "occupancy": gymnasium.spaces.Box(0.0, 1.0, shape=self.bins, dtype=np.float32),
            "tensors": gymnasium.spaces.Box(f_lo, f_hi, dtype=np.float32),
            "slots": gymnasium.spaces.Box(0.0, 1.0, shape=(num_slots, len(SLOT_FEATURES)),
                                          dtype=np.float32),
        }
        self._bounds = {"tensors": (f_lo, f_hi)}
        if self.flat:
            lows = np.concatenate([s.low.ravel() for s in parts.values()])
            highs = np.concatenate([s.high.ravel() for s in parts.values()])
            self.observation_space = gymnasium.spaces.Box(lows, highs, dtype=np.float32)
        else:
            self.observation_space = gymnasium.spaces.Dict(parts)
        self.baseline: Baseline | None = None
        self.game: Game | None = None

    # ---- the episode
    def _begin(self, rng: np.random.Generator) -> None:
        self.baseline = self.source.draw(self._episode_seed, rng)
        self.game = Game(self.baseline.program, self.num_slots, self.baseline.model)
        self._potential = 0.0

    def _observe(self):
        lo, hi = self._bounds["tensors"]
        obs = {"occupancy": self.game.occupancy(*self.bins),
               "tensors": np.clip(self.game.features(self.lookahead), lo, hi),
               "slots": self.game.slot_features()}
        if self.flat:
            return np.concatenate([a.ravel() for a in obs.values()])
        return obs

    def _legal(self) -> np.ndarray:
        return self.game.action_mask()

    def _apply(self, action: int) -> float:
        self.game.place(action)
        if not self.shaped:
            return 0.0
        if self.game.done:  # the objective's reward follows: give back what moves received
            return -self._potential
        b = self.baseline
        now = float(self.game.saved_units * b.model.unit_s / b.norm_exact)
        step, self._potential = now - self._potential, now
        return step

    def _complete(self) -> bool:
        return self.game.done

    def _result(self) -> tuple[Metrics, dict[str, Any]]:
        metrics, _ = self.baseline.metrics(self.game.placement)
        return metrics, {"program": self.baseline.program.name,
                         "placement": placement_to_json(self.game.placement)}

    #: objectives that only the program's time decides (higher reward = less time), so the
    #: minimum-time placement is their optimum
    TIME_METRICS = ("saved_vs_greedy", "time_s", "time_saved_s")

    def best_known(self) -> BestKnown | None:
        """The minimum-time placement's reward (:func:`simulators.memmap.optimal`: exact DP
        or CP-SAT, one worker, 10 s), for one program and an objective of time alone."""
        d = self.objective.describe()
        if not self.source.fixed or d.get("kind") != "optimize" \
                or d.get("metric") not in self.TIME_METRICS:
            return None
        b = self.source.baseline(0)
        sol = optimal(b.program, time_limit_s=10.0, model=b.model)
        metrics, _ = b.metrics(sol.placement)
        how = "minimum-time placement" if sol.proven_optimal else \
            "best placement the solver found in 10 s (not proven optimal)"
        return BestKnown(float(self.objective.reward(metrics)), bool(sol.proven_optimal),
                         f"{how} of {b.program.name} (simulators.memmap.optimal)")

    # ---- black-box view
    def design_point_view(self) -> DesignPointView | None:
        """Tiers per tensor decoded by the greedy's packer (one program only)."""
        if not self.source.fixed or not any(self.source.programs[0].fits(i) for i in
                                             range(len(self.source.programs[0].tensors))):
            return None
        return DesignPointView(self, TierEvaluator(self.source.baseline(0), self.workload,
                                                   self.workload_hash, self.metric_specs))


class TierEvaluator(Evaluator):
    """A tier (``slow``/``fast``) per tensor that fits, packed in the greedy's order."""

    def __init__(self, baseline: Baseline, workload: str, workload_hash: str,
                 metric_specs: tuple[MetricSpec, ...]) -> None:
        super().__init__()
        self.baseline = baseline
        p = baseline.program
        self.order = priority_order(p, baseline.model)
        names = [p.tensors[i].name for i in self.order]
        if len(set(names)) != len(names):
            names = [f"{i}:{p.tensors[i].name}" for i in self.order]
        self.names = dict(zip(self.order, names, strict=True))
        chosen = baseline.greedy.placement
        self.space = DesignSpace([
            Categorical(self.names[i], ("slow", "fast"),
                        default="fast" if chosen[i] is not None else "slow")
            for i in sorted(self.order)])
        self.metric_specs = metric_specs
        self.workload, self.workload_hash = workload, workload_hash

    def decode(self, config: dict[str, Any]) -> Placement:
        """The placement a design stands for (module docstring)."""
        p = self.baseline.program
        mem = FastMemory(p)
        for i in self.order:
            if config[self.names[i]] == "fast":
                offset = mem.best_fit(i)
                if offset is not None:
                    mem.place(i, offset)
        return tuple(mem.placed.get(i) for i in range(len(p.tensors)))

    def _evaluate(self, config):
        return self.baseline.metrics(self.decode(config))[0]


# ------------------------------------------------------------------------------ policies


class GreedyPlacement(Policy):
    """The greedy baseline's placement played through the slots: the moves that make
    exactly its fast tensors fast (:func:`simulators.memmap.actions_for`; the time depends
    only on which tensors are fast), so it scores ``saved_vs_greedy == 1``. Where no such
    play is found it falls back to ``online-best-fit``."""

    name = "greedy-placement"

    def act(self, observation, info) -> int:
        game = self.env.game
        if getattr(self, "_game", None) is not game:
            self._game = game
            fast = {i for i, o in enumerate(self.env.baseline.greedy.placement)
                    if o is not None}
            self._plan = actions_for(game.program, fast, game.num_slots)
        plan, k = self._plan, game.step_index
        if plan is not None and k < len(plan) and info["action_mask"][plan[k]]:
            return int(plan[k])
        return greedy_action(game)


class OnlineBestFit(Policy):
    """Decides in game order: the best-fit slot if making the tensor fast saves time given
    the tensors placed so far, else slow (:func:`simulators.memmap.greedy_action`)."""

    name = "online-best-fit"

    def act(self, observation, info) -> int:
        return greedy_action(self.env.game)


class AllSlow(Policy):
    """Every tensor in slow memory (``saved_vs_greedy == 0``)."""

    name = "all-slow"

    def act(self, observation, info) -> int:
        return self.env.num_slots
