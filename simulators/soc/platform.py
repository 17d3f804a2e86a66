"""A heterogeneous SoC: processing-element (PE) types, DVFS operating points, power, area, and
the interconnect; and its JSON form (``schema: "archgym-soc/1"``, the ``--soc CONFIG`` file).

Model
-----
- A *PE type* (a cluster of identical PEs, as in DS3) has ``count`` PEs, each running one
  task at a time, and an execution time per function at its fastest operating point
  (``exec_us``; a function missing from the table cannot run on that type).
- DVFS: ``opps`` lists (frequency MHz, voltage mV) points; ``opp`` selects one (-1, the
  default, is the fastest). At frequency ``f`` a task takes ``exec_us * f_max / f`` (DS3's
  slowdown model, Arda et al., IEEE TC 2020, Sec. 4.3).
- Power: ``dynamic_power_w`` is the dynamic power of one busy PE at the fastest point;
  it scales as ``C f V^2`` (so by ``(f/f_max) (V/V_max)^2``). ``static_power_w`` is one PE's
  leakage at the fastest point's voltage, paid for the whole run by every PE, scaled
  linearly with ``V`` (the voltage term of DS3's leakage model, its temperature held at the
  ambient 42 C). Energy is power times time; nothing is power-gated.
- Area: ``area_mm2`` per PE; the SoC area is the sum over PEs (see ``AREA_SOURCES``).
- Interconnect: a shared interconnect of ``channels`` links, each ``bandwidth`` bytes/us
  (= MB/s); a transfer takes ``latency_us + volume / bandwidth(src, dst)`` and holds one
  link, so concurrent transfers queue (bandwidth contention). ``pair_bandwidth`` overrides
  the bandwidth between two PE types, ``pe_bandwidth`` between individual PEs (DS3's
  per-PE matrix); ``self_bandwidth`` is the same-PE copy bandwidth (``null``: free).

JSON form::

    {"schema": "archgym-soc/1", "name": "...",
     "pe_types": [{"name": "A15", "kind": "BIG", "count": 4,
                   "opps": [[600, 900], ..., [2000, 1362]], "opp": -1,
                   "dynamic_power_w": 3.3, "static_power_w": 0.018, "area_mm2": 2.25,
                   "exec_us": {"scrambler_encoder": 10, ...}}, ...],
     "interconnect": {"bandwidth": 1000, "channels": 1, "latency_us": 0,
                      "self_bandwidth": null,
                      "pair_bandwidth": [["A7", "FFT", 10], ...]}}
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Any

from simulators.soc.errors import SocInputError
from simulators.soc.jsonfile import read_json

SCHEMA = "archgym-soc/1"

#: where the per-PE areas of the shipped SoCs come from (mm^2)
AREA_SOURCES = {
    "Cortex-A7": "0.45 mm^2 per core in 28 nm (ARM, Cortex-A7 launch, Oct. 2011; reported by "
                 "EDA360 Insider, 'Some critical considerations ... ARM Cortex-A7', 1 Nov. 2011)",
    "Cortex-A15": "2.25 mm^2 = 5 x the A7 core: Samsung's ISSCC 2013 Exynos 5 Octa paper gives "
                  "the quad A15 cluster 5x the area of the quad A7 cluster (AnandTech, "
                  "'Samsung Details Exynos 5 Octa Architecture & Power at ISSCC 13', 2013)",
    "FFT": "0.34 mm^2: DS3 paper (Arda et al., IEEE TC 2020) Table 6, (16.29 - 14.94) / 4 "
           "between the 4-FFT and the accelerator-free configuration",
    "Viterbi": "0.27 mm^2: DS3 paper Table 6, 16.56 - 16.29 between 4 FFT + 1 Viterbi and "
               "4 FFT",
    "MM": "0.34 mm^2: no published figure; assumed equal to the FFT accelerator",
}


def _num(x: Any, where: str, source: str, low: float = 0.0, strict: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) \
            or x < low or (strict and x == low):
        rel = ">" if strict else ">="
        raise SocInputError(f"{source}: {where}: {x!r}; expected a number {rel} {low}")
    return x


@dataclass(frozen=True)
class PEType:
    """A cluster of ``count`` identical PEs (see the module docstring)."""

    name: str
    kind: str
    count: int
    exec_us: dict[str, float]
    opps: tuple[tuple[int, int], ...] = ()
    opp: int = -1
    dynamic_power_w: float = 0.0
    static_power_w: float = 0.0
    area_mm2: float | None = None

    @property
    def is_memory(self) -> bool:
        """DS3 lists the memory as a PE of kind MEM that runs no task."""
        return self.kind.upper() == "MEM"

    @property
    def slowdown(self) -> float:
        """``f_max / f`` at the selected operating point (1 without DVFS points)."""
        if not self.opps:
            return 1.0
        return self.opps[-1][0] / self.opps[self.opp][0]

    def exec_time(self, func: str) -> float | None:
        """Time of ``func`` at the selected operating point (None if unsupported)."""
        t = self.exec_us.get(func)
        if t is None:
            return None
        return t * self.slowdown if self.opps else t

    @property
    def busy_power_w(self) -> float:
        """Dynamic power of one busy PE at the selected point: ``P_max (f/f_max)(V/V_max)^2``."""
        if not self.opps:
            return self.dynamic_power_w
        (f, v), (fm, vm) = self.opps[self.opp], self.opps[-1]
        return self.dynamic_power_w * (f / fm) * (v / vm) ** 2

    @property
    def leakage_w(self) -> float:
        """Static power of one PE at the selected point's voltage."""
        if not self.opps:
            return self.static_power_w
        return self.static_power_w * self.opps[self.opp][1] / self.opps[-1][1]


@dataclass(frozen=True)
class Interconnect:
    """Shared links with contention (see the module docstring)."""

    bandwidth: float = 1000.0
    channels: int = 1
    latency_us: float = 0.0
    self_bandwidth: float | None = None
    pair_bandwidth: tuple[tuple[str, str, float], ...] = ()
    pe_bandwidth: tuple[tuple[float, ...], ...] | None = None


@dataclass(frozen=True)
class Platform:
    """A SoC: PE types in order (PE ``k`` is the ``k``-th PE over the types' counts)."""

    name: str
    pe_types: tuple[PEType, ...]
    interconnect: Interconnect = field(default_factory=Interconnect)
    description: str = ""
    source: str = field(default="<Platform>", repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pe_types", tuple(self.pe_types))
        _validate(self)

    # ---------------------------------------------------------------- PEs
    @property
    def pe_type_of(self) -> list[int]:
        """Type index of every PE, in PE order."""
        return [k for k, t in enumerate(self.pe_types) for _ in range(t.count)]

    @property
    def num_pes(self) -> int:
        return sum(t.count for t in self.pe_types)

    def pe_names(self) -> list[str]:
        return [f"{t.name}_{i}" for t in self.pe_types for i in range(t.count)]

    @property
    def functions(self) -> set[str]:
        return {f for t in self.pe_types for f in t.exec_us}

    def bandwidth_matrix(self) -> list[list[float | None]]:
        """Bandwidth between every PE pair (None on the diagonal when same-PE copies are free)."""
        if self.interconnect.pe_bandwidth is not None:
            return [list(r) for r in self.interconnect.pe_bandwidth]
        ic = self.interconnect
        pair = {}
        for a, b, bw in ic.pair_bandwidth:
            pair[(a, b)] = pair[(b, a)] = bw
        names = [self.pe_types[k].name for k in self.pe_type_of]
        n = len(names)
        return [[ic.self_bandwidth if i == j else pair.get((names[i], names[j]), ic.bandwidth)
                 for j in range(n)] for i in range(n)]

    @property
    def area_mm2(self) -> float | None:
        """Sum of the PEs' areas (None if a compute PE type has no area)."""
        total = 0.0
        for t in self.pe_types:
            if t.is_memory:
                continue
            if t.area_mm2 is None:
                return None
            total += t.count * t.area_mm2
        return total

    def with_design(self, counts: dict[str, int] | None = None,
                    opps: dict[str, int] | None = None,
                    bandwidth: float | None = None) -> Platform:
        """A copy with other PE counts, DVFS points or link bandwidth (a design point)."""
        counts, opps = counts or {}, opps or {}
        names = {t.name for t in self.pe_types}
        for key, mapping in (("counts", counts), ("opps", opps)):
            for n in mapping:
                if n not in names:
                    raise SocInputError(f"{key}: unknown PE type {n!r}; types: "
                                        f"{', '.join(sorted(names))}")
        types = tuple(replace(t, count=counts.get(t.name, t.count), opp=opps.get(t.name, t.opp))
                      for t in self.pe_types)
        ic = self.interconnect
        if bandwidth is not None:
            ic = replace(ic, bandwidth=bandwidth,
                         pair_bandwidth=tuple((a, b, bandwidth) for a, b, _ in ic.pair_bandwidth))
        if ic.pe_bandwidth is not None and (counts or bandwidth is not None):
            raise SocInputError(f"{self.source}: interconnect.pe_bandwidth is a per-PE matrix; "
                                "use pair_bandwidth to vary PE counts or bandwidth")
        return replace(self, pe_types=types, interconnect=ic)

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        types = []
        for t in self.pe_types:
            d: dict[str, Any] = {"name": t.name, "kind": t.kind, "count": t.count}
            if t.opps:
                d["opps"] = [list(o) for o in t.opps]
                d["opp"] = t.opp
            d.update(dynamic_power_w=t.dynamic_power_w, static_power_w=t.static_power_w,
                     area_mm2=t.area_mm2, exec_us=dict(t.exec_us))
            types.append(d)
        ic = self.interconnect
        icd: dict[str, Any] = {"bandwidth": ic.bandwidth, "channels": ic.channels,
                               "latency_us": ic.latency_us, "self_bandwidth": ic.self_bandwidth}
        if ic.pair_bandwidth:
            icd["pair_bandwidth"] = [list(p) for p in ic.pair_bandwidth]
        if ic.pe_bandwidth is not None:
            icd["pe_bandwidth"] = [list(r) for r in ic.pe_bandwidth]
        return {"schema": SCHEMA, "name": self.name, "description": self.description,
                "pe_types": types, "interconnect": icd}

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Platform:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            got = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise SocInputError(f"{source}: schema: {got!r}; expected {SCHEMA!r}")
        if not isinstance(data.get("pe_types"), list) or not data["pe_types"]:
            raise SocInputError(f"{source}: pe_types: expected a non-empty list of PE types")
        types = []
        for k, d in enumerate(data["pe_types"]):
            where = f"pe_types[{k}]"
            if not isinstance(d, dict):
                raise SocInputError(f"{source}: {where}: expected an object")
            unknown = set(d) - {"name", "kind", "count", "opps", "opp", "dynamic_power_w",
                                "static_power_w", "area_mm2", "exec_us"}
            if unknown:
                raise SocInputError(f"{source}: {where}: unknown field(s) {sorted(unknown)}")
            for key in ("name", "count", "exec_us"):
                if key not in d:
                    raise SocInputError(f"{source}: {where}.{key}: missing")
            if not isinstance(d["exec_us"], dict):
                raise SocInputError(f"{source}: {where}.exec_us: expected an object "
                                    "{function: microseconds}")
            opps = d.get("opps", [])
            if not isinstance(opps, list) or any(
                    not isinstance(o, list) or len(o) != 2 for o in opps):
                raise SocInputError(f"{source}: {where}.opps: expected [[MHz, mV], ...]")
            types.append(PEType(
                name=str(d["name"]), kind=str(d.get("kind", "CPU")), count=d["count"],
                exec_us={str(f): _num(v, f"{where}.exec_us.{f}", source)
                         for f, v in d["exec_us"].items()},
                opps=tuple((o[0], o[1]) for o in opps), opp=d.get("opp", -1),
                dynamic_power_w=d.get("dynamic_power_w", 0.0),
                static_power_w=d.get("static_power_w", 0.0), area_mm2=d.get("area_mm2")))
        icd = data.get("interconnect", {})
        if not isinstance(icd, dict):
            raise SocInputError(f"{source}: interconnect: expected an object")
        unknown = set(icd) - {"bandwidth", "channels", "latency_us", "self_bandwidth",
                              "pair_bandwidth", "pe_bandwidth"}
        if unknown:
            raise SocInputError(f"{source}: interconnect: unknown field(s) {sorted(unknown)}")
        pairs = icd.get("pair_bandwidth", [])
        if not isinstance(pairs, list) or any(not isinstance(p, list) or len(p) != 3
                                              for p in pairs):
            raise SocInputError(f"{source}: interconnect.pair_bandwidth: expected "
                                "[[type, type, bandwidth], ...]")
        pe_bw = icd.get("pe_bandwidth")
        ic = Interconnect(bandwidth=icd.get("bandwidth", 1000.0), channels=icd.get("channels", 1),
                          latency_us=icd.get("latency_us", 0.0),
                          self_bandwidth=icd.get("self_bandwidth"),
                          pair_bandwidth=tuple((str(a), str(b), bw) for a, b, bw in pairs),
                          pe_bandwidth=None if pe_bw is None else tuple(tuple(r) for r in pe_bw))
        return cls(name=str(data.get("name", "")), pe_types=tuple(types), interconnect=ic,
                   description=str(data.get("description", "")), source=source)


def _validate(p: Platform) -> None:
    src = p.source
    names = set()
    for k, t in enumerate(p.pe_types):
        where = f"pe_types[{k}]"
        if t.name in names:
            raise SocInputError(f"{src}: {where}.name: duplicate PE type {t.name!r}")
        names.add(t.name)
        if not isinstance(t.count, int) or isinstance(t.count, bool) or t.count < 0:
            raise SocInputError(f"{src}: {where}.count: {t.count!r}; expected an integer >= 0")
        for f, v in t.exec_us.items():
            _num(v, f"{where}.exec_us.{f}", src)
        for j, (f, v) in enumerate(t.opps):
            _num(f, f"{where}.opps[{j}] frequency (MHz)", src, strict=True)
            _num(v, f"{where}.opps[{j}] voltage (mV)", src, strict=True)
        if list(t.opps) != sorted(t.opps):
            raise SocInputError(f"{src}: {where}.opps: must be sorted by frequency, ascending")
        n_opp = max(1, len(t.opps))
        if not isinstance(t.opp, int) or not -n_opp <= t.opp < n_opp:
            raise SocInputError(f"{src}: {where}.opp: {t.opp!r}; expected an index into opps "
                                f"(-{n_opp}..{n_opp - 1}, -1 = fastest)")
        _num(t.dynamic_power_w, f"{where}.dynamic_power_w", src)
        _num(t.static_power_w, f"{where}.static_power_w", src)
        if t.area_mm2 is not None:
            _num(t.area_mm2, f"{where}.area_mm2", src)
    if p.num_pes == 0:
        raise SocInputError(f"{src}: pe_types: the SoC has no PE (all counts are 0)")
    ic = p.interconnect
    _num(ic.bandwidth, "interconnect.bandwidth", src, strict=True)
    if not isinstance(ic.channels, int) or ic.channels < 1:
        raise SocInputError(f"{src}: interconnect.channels: {ic.channels!r}; expected an "
                            "integer >= 1")
    _num(ic.latency_us, "interconnect.latency_us", src)
    if ic.self_bandwidth is not None:
        _num(ic.self_bandwidth, "interconnect.self_bandwidth", src, strict=True)
    for j, (a, b, bw) in enumerate(ic.pair_bandwidth):
        for x in (a, b):
            if x not in names:
                raise SocInputError(f"{src}: interconnect.pair_bandwidth[{j}]: unknown PE type "
                                    f"{x!r}")
        _num(bw, f"interconnect.pair_bandwidth[{j}]", src, strict=True)
    if ic.pe_bandwidth is not None:
        n = p.num_pes
        if len(ic.pe_bandwidth) != n or any(len(r) != n for r in ic.pe_bandwidth):
            raise SocInputError(f"{src}: interconnect.pe_bandwidth: expected a {n} x {n} matrix "
                                "(one row and column per PE)")
        for i, row in enumerate(ic.pe_bandwidth):
            for j, bw in enumerate(row):
                _num(bw, f"interconnect.pe_bandwidth[{i}][{j}]", src, strict=True)


def read_platform(path: str | os.PathLike) -> Platform:
    """Read a SoC description (``archgym-soc/1`` JSON); errors name the file and field."""
    return Platform.from_dict(read_json(path, "SoC description"), source=str(path))
