"""Read and write DS3's files: ``config_file.ini``, SoC files (``SoC.*.txt`` and the older
``DASH.SoC.*.txt``) and job files (``job_*.txt``), so DS3 and DeepSoCS users bring their work
unchanged. (DS3: Arda et al., "DS3: A System-Level Domain-Specific System-on-Chip Simulation
Framework", IEEE TC 69(8), 2020; https://github.com/segemena/DS3.)

Formats, as DS3's parsers read them (one record per line, tokens separated by spaces, lines
starting with ``#`` ignored):

SoC file
    ``add_new_resource resource_type T resource_name N resource_ID k capacity c
    num_supported_functionalities m DVFS_mode D`` (the older DASH.SoC form omits the
    keywords: ``add_new_resource T N k c m D``), then ``opp MHz mV``, ``trip_freq``,
    ``DTPM_trip_freq``, ``power_profile MHz W1..Wc``, ``PG_profile ...``,
    ``mesh_information ...`` and ``m`` lines ``function microseconds``. A resource of
    capacity ``c`` is ``c`` identical PEs (a cluster); ``resource_ID`` is the cluster's index.
    After the resources: ``comm_band_self B`` (same-PE bandwidth) and ``comm_band a b B``,
    between clusters ``a`` and ``b`` (between PEs ``a`` and ``b`` in the older form).
    Unlisted pairs keep DS3's default bandwidth of 1, and each new resource resets the matrix,
    so only ``comm_band`` lines after the last resource count.
Job file
    ``job_name N``, ``add_new_tasks n``, then per task ``name id pred...``, optional
    ``name HEAD`` / ``name TAIL`` and ``name earliest_start s deadline d [input_vol i
    output_vol o]`` (ignored by the simulation), then ``comm_vol src dst volume`` lines.
    DS3 measures a job from its HEAD's injection to its TAIL's completion, so a job needs
    exactly one HEAD (its only task without predecessors) and one TAIL (its only task without
    successors).
``config_file.ini``
    DS3's keys; missing ones take the values of DS3's own ``config_file.ini``. The SoC and
    job files are resolved against the ini's folder: ``<dir>/<name>``, then
    ``<dir>/config_SoC/<name>`` (``config_Jobs`` for jobs), then ``<dir>/../config_SoC/<name>``
    (DS3's ``config_Files/*.ini`` examples).

Errors name the file and line and say what was expected.
"""

from __future__ import annotations

import ast
import configparser
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.soc.apps import App
from simulators.soc.errors import SocInputError
from simulators.soc.platform import Interconnect, PEType, Platform

#: DS3's leakage model (DTPM_power_models.compute_static_power_dissipation) at its ambient
#: temperature, with the Odroid-XU3 coefficients of DS3's config_file.ini
DS3_C1, DS3_C2, DS3_IGATE, DS3_T_AMBIENT = 0.002488, 2660, 0.000519, 42.0
_RESOURCE_KEYS = ("resource_type", "resource_name", "resource_ID", "capacity",
                  "num_supported_functionalities", "DVFS_mode")
_PROFILE_KEYS = ("opp", "trip_freq", "DTPM_trip_freq", "power_profile", "PG_profile",
                 "mesh_information")


def _lines(path: Path, what: str):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SocInputError(f"{path}: cannot read DS3 {what} file ({exc.strerror})") from None
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        tokens = line.split()
        if not tokens or "#" in tokens[0]:
            continue
        yield no, tokens


def _int(tok: str, path: Path, no: int, what: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise SocInputError(f"{path}:{no}: {what}: {tok!r} is not an integer") from None


def _float(tok: str, path: Path, no: int, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise SocInputError(f"{path}:{no}: {what}: {tok!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise SocInputError(f"{path}:{no}: {what}: {tok!r}; expected a number >= 0")
    return v


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def ds3_leakage_w(voltage_mv: float, kind: str) -> float:
    """One core's leakage by DS3's model at 42 C: ``V C1 T^2 exp(-C2/T) + Igate V`` per
    cluster of four cores (a LITTLE cluster a quarter of that); 0 for accelerators."""
    if kind.upper().startswith("ACC") or kind.upper() == "MEM":
        return 0.0
    t = 273 + DS3_T_AMBIENT
    v = voltage_mv / 1000
    cluster = v * DS3_C1 * t * t * math.exp(-DS3_C2 / t) + DS3_IGATE * v
    if kind.upper() == "LTL":
        cluster /= 4
    return cluster / 4


@dataclass
class _Resource:
    kind: str
    name: str
    cluster: int
    count: int
    n_func: int
    dvfs: str
    line: int
    opps: list[tuple[int, int]] = field(default_factory=list)
    power: dict[int, list[float]] = field(default_factory=dict)
    exec_us: dict[str, float] = field(default_factory=dict)
    n_read: int = 0


@dataclass(frozen=True)
class Ds3Soc:
    """A DS3 SoC file: the platform, each type's DVFS mode, and the dialect it was written in."""

    platform: Platform
    dvfs: tuple[str, ...]
    legacy: bool


def read_ds3_soc(path: str | os.PathLike) -> Ds3Soc:
    """Parse a DS3 SoC file into a :class:`Platform` (exact DS3 bandwidth semantics)."""
    path = Path(path)
    res: list[_Resource] = []
    cur: _Resource | None = None
    legacy: bool | None = None
    self_bw: float = 1.0
    band: list[tuple[int, int, int, float]] = []  # (line, a, b, value) after the last resource
    for no, tok in _lines(path, "SoC"):
        if cur is not None:
            key = tok[0]
            if key == "opp":
                if len(tok) < 3:
                    raise SocInputError(f"{path}:{no}: opp: expected 'opp <MHz> <mV>'")
                cur.opps.append((_int(tok[1], path, no, "opp frequency"),
                                 _int(tok[2], path, no, "opp voltage")))
            elif key in ("power_profile", "PG_profile"):
                if key == "power_profile" and len(tok) > 2:
                    cur.power[_int(tok[1], path, no, "power_profile frequency")] = [
                        _float(t, path, no, "power_profile watts") for t in tok[2:]]
            elif key in _PROFILE_KEYS:
                pass  # thermal trip points and floorplan: not simulated
            elif key in ("add_new_resource", "comm_band", "comm_band_self"):
                raise SocInputError(f"{path}:{no}: resource {cur.name!r} (line {cur.line}) "
                                    f"lists {cur.n_read} of its {cur.n_func} functionalities")
            else:
                if len(tok) < 2:
                    raise SocInputError(f"{path}:{no}: expected '<function> <microseconds>' "
                                        f"({cur.n_read} of {cur.n_func} read for "
                                        f"{cur.name!r})")
                t = _float(tok[1], path, no, f"execution time of {tok[0]}")
                cur.exec_us.setdefault(tok[0], t)  # DS3 looks a function up by its first line
                cur.n_read += 1
                if cur.n_read == cur.n_func:
                    res.append(cur)
                    cur = None
            continue
        if tok[0] == "add_new_resource":
            kw = len(tok) >= 13  # keywords at odd positions (DS3 reads by position only)
            if legacy is None:
                legacy = not kw
            if kw:
                fields = [tok[2], tok[4], tok[6], tok[8], tok[10], tok[12]]
            elif len(tok) == 7:
                fields = tok[1:7]
            else:
                raise SocInputError(
                    f"{path}:{no}: add_new_resource: expected 'add_new_resource resource_type T "
                    "resource_name N resource_ID k capacity c num_supported_functionalities m "
                    "DVFS_mode D' (or the DASH.SoC form 'add_new_resource T N k c m D')")
            kind, name, cid, cap, nf, dvfs = fields
            cur = _Resource(kind, name, _int(cid, path, no, "resource_ID"),
                            max(1, _int(cap, path, no, "capacity")),
                            _int(nf, path, no, "num_supported_functionalities"), dvfs, no)
            if cur.cluster != len(res):
                raise SocInputError(f"{path}:{no}: resource_ID {cur.cluster}: DS3 indexes "
                                    f"clusters by position; expected {len(res)}")
            if cur.n_func < 1:
                raise SocInputError(f"{path}:{no}: num_supported_functionalities must be >= 1")
            band = []
        elif tok[0] == "comm_band_self" and len(tok) >= 2:
            self_bw = _float(tok[1], path, no, "comm_band_self")
        elif tok[0] == "comm_band" and len(tok) >= 4:
            band.append((no, _int(tok[1], path, no, "comm_band source"),
                         _int(tok[2], path, no, "comm_band destination"),
                         _float(tok[3], path, no, "comm_band bandwidth")))
        else:
            raise SocInputError(f"{path}:{no}: cannot recognise {' '.join(tok)!r}; expected "
                                "add_new_resource, comm_band_self or comm_band")
    if cur is not None:
        raise SocInputError(f"{path}:{cur.line}: resource {cur.name!r} lists "
                            f"{cur.n_read} of its {cur.n_func} functionalities")
    if not res:
        raise SocInputError(f"{path}: no add_new_resource line; a SoC needs resources")
    types = []
    for r in res:
        opps = tuple(sorted(r.opps))
        dyn = stat = 0.0
        if opps:
            vmax = opps[-1][1]
            stat = ds3_leakage_w(vmax, r.kind)
            fmax = opps[-1][0]
            prof = next((v for f, v in r.power.items() if fmax <= f), None)
            if prof:
                dyn = max(0.0, prof[0] - stat * len(prof))
        types.append(PEType(name=r.name, kind=r.kind, count=r.count, exec_us=r.exec_us,
                            opps=opps, opp=_ds3_opp(r, path), dynamic_power_w=dyn,
                            static_power_w=stat, area_mm2=None))
    n_pe = sum(r.count for r in res)
    if legacy:
        mat = [[1.0] * n_pe for _ in range(n_pe)]
        for no, a, b, v in band:
            if not (a < n_pe and b < n_pe):
                continue  # DS3 ignores PE indices beyond the SoC
            if v == 0 and a != b:
                raise SocInputError(f"{path}:{no}: comm_band {a} {b}: bandwidth 0 between two "
                                    "PEs (every transfer would take forever)")
            mat[a][b] = mat[b][a] = v if v > 0 else 1.0
        ic = Interconnect(bandwidth=1.0, pe_bandwidth=tuple(tuple(r) for r in mat))
    else:
        pairs = {}
        for no, a, b, v in band:
            if a >= n_pe or b >= n_pe:
                continue  # DS3 skips these lines
            if a >= len(res) or b >= len(res):
                raise SocInputError(f"{path}:{no}: comm_band {a} {b}: clusters are 0.."
                                    f"{len(res) - 1}")
            distinct = a != b or res[a].count > 1
            if not distinct:
                continue  # only the diagonal, which comm_band_self sets
            if v == 0:
                raise SocInputError(f"{path}:{no}: comm_band {a} {b}: bandwidth 0 between two "
                                    "PEs (every transfer would take forever)")
            pairs[tuple(sorted((a, b)))] = v
        ic = Interconnect(bandwidth=1.0, self_bandwidth=self_bw,
                          pair_bandwidth=tuple((res[a].name, res[b].name, v)
                                               for (a, b), v in sorted(pairs.items())))
    platform = Platform(name=path.stem, pe_types=tuple(types), interconnect=ic,
                        description=f"read from DS3 SoC file {path.name}", source=str(path))
    return Ds3Soc(platform, tuple(r.dvfs for r in res), bool(legacy))


def _ds3_opp(r: _Resource, path: Path) -> int:
    """Operating point DS3's DVFS mode sets at start: performance = fastest, powersave =
    slowest, constant-<MHz> = that one; ondemand changes it at run time (not modelled)."""
    if not r.opps:
        return -1
    mode = r.dvfs
    freqs = sorted(f for f, _ in r.opps)
    if mode in ("performance", "none"):
        return -1
    if mode == "powersave":
        return 0
    if mode.startswith("constant-"):
        f = _int(mode.split("-", 1)[1], path, r.line, "DVFS_mode constant-<MHz>")
        if f not in freqs:
            raise SocInputError(f"{path}:{r.line}: DVFS_mode {mode}: {f} MHz is not one of the "
                                f"opp frequencies {freqs}")
        return freqs.index(f)
    if mode == "ondemand":
        return -1
    raise SocInputError(f"{path}:{r.line}: DVFS_mode {mode!r}; expected performance, powersave, "
                        "ondemand, constant-<MHz> or none")


def read_ds3_job(path: str | os.PathLike) -> App:
    """Parse a DS3 job file into an :class:`App` (task functions, data volumes)."""
    path = Path(path)
    name = path.stem
    n_tasks: int | None = None
    tasks: dict[int, tuple[str, list[int], int]] = {}
    order: list[int] = []
    heads, tails = set(), set()
    vol: dict[tuple[int, int], float] = {}
    reading = False
    for no, tok in _lines(path, "job"):
        if reading:
            if tok[0] in ("comm_vol", "job_name", "add_new_tasks"):
                raise SocInputError(f"{path}:{no}: add_new_tasks {n_tasks} but {len(tasks)} "
                                    f"tasks listed before {tok[0]}")
            if len(tok) >= 2 and tok[1] in ("HEAD", "TAIL"):
                if not order:
                    raise SocInputError(f"{path}:{no}: {tok[1]} before any task")
                (heads if tok[1] == "HEAD" else tails).add(order[-1])
                continue
            if len(tok) >= 2 and tok[1] == "earliest_start":
                if len(tasks) == n_tasks:
                    reading = False
                continue
            if len(tasks) >= n_tasks:
                raise SocInputError(f"{path}:{no}: more than the {n_tasks} tasks announced by "
                                    "add_new_tasks")
            if len(tok) < 2:
                raise SocInputError(f"{path}:{no}: expected '<function> <id> [pred ...]'")
            tid = _int(tok[1], path, no, "task id")
            if tid != len(tasks):
                raise SocInputError(f"{path}:{no}: task id {tid}; DS3 numbers tasks 0..n-1 in "
                                    f"order, expected {len(tasks)}")
            preds = [_int(t, path, no, "predecessor id") for t in tok[2:]]
            for q in preds:
                if not 0 <= q < n_tasks or q == tid:
                    raise SocInputError(f"{path}:{no}: predecessor {q} of task {tid} is not a "
                                        f"task 0..{n_tasks - 1} other than itself")
            tasks[tid] = (tok[0], preds, no)
            order.append(tid)
            continue
        key = tok[0]
        if key == "job_name" and len(tok) >= 2:
            name = tok[1]
        elif key == "add_new_tasks" and len(tok) >= 2:
            n_tasks = _int(tok[1], path, no, "add_new_tasks")
            if n_tasks < 1:
                raise SocInputError(f"{path}:{no}: add_new_tasks must be >= 1")
            reading = True
        elif key == "comm_vol" and len(tok) >= 4:
            a, b = (_int(t, path, no, "comm_vol task") for t in tok[1:3])
            vol[(a, b)] = _int(tok[3], path, no, "comm_vol volume")
        else:
            raise SocInputError(f"{path}:{no}: cannot recognise {' '.join(tok)!r}; expected "
                                "job_name, add_new_tasks or comm_vol")
    if n_tasks is None:
        raise SocInputError(f"{path}: no add_new_tasks line; a job needs tasks")
    if len(tasks) != n_tasks:
        raise SocInputError(f"{path}: add_new_tasks {n_tasks} but {len(tasks)} tasks listed")
    edges = [(q, t, vol.get((q, t), 0)) for t in range(n_tasks) for q in tasks[t][1]]
    app = App(name=name, functions=tuple(tasks[t][0] for t in range(n_tasks)), edges=edges,
              description=f"read from DS3 job file {path.name}", source=str(path))
    entries = [t for t in range(n_tasks) if not app.pred[t]]
    exits = [t for t in range(n_tasks) if not app.succ[t]]
    for label, marked, ends in (("HEAD", heads, entries), ("TAIL", tails, exits)):
        if sorted(marked) != ends or len(ends) != 1:
            raise SocInputError(
                f"{path}: {label}: tasks marked {sorted(marked)}, tasks without "
                f"{'predecessors' if label == 'HEAD' else 'successors'} {ends}; DS3 needs "
                f"exactly one {label}, and it must be that task")
    return app


# ---------------------------------------------------------------------------- config_file.ini
#: DS3's own config_file.ini (segemena/DS3 056c930) values, used for missing keys
DS3_DEFAULTS: dict[str, dict[str, str]] = {
    "DEFAULT": {"job_probabilities": "[1]", "job_list": "[]", "inject_fixed_num_jobs": "yes",
                "max_jobs": "100", "simulation_length": "100000", "clock": "1",
                "scheduler": "ETF", "inject_jobs_asap": "no", "fixed_injection_rate": "no",
                "max_jobs_in_parallel": "12", "random_seed": "1", "standard_deviation": "0.0"},
    "POWER MANAGEMENT": {"sampling_rate": "10"},
    "SIMULATION MODE": {"simulation_mode": "performance", "scale": "100", "warmup_period": "0",
                        "num_of_iterations": "1", "scale_values": "500-501-1"},
    "COMMUNICATION MODE": {"PE_to_PE": "yes", "shared_memory": "no"},
}


def str_to_list(text: str) -> list:
    """DS3's list syntax: a Python literal (``[0.2, 0.8]``), ``a-b-c`` ranges or commas."""
    text = text.strip()
    if text.startswith("["):
        return ast.literal_eval(text)
    out: list = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b, c = (int(x) for x in part.split("-"))
            out.extend(range(a, b, c))
        elif part.endswith(".txt"):
            out.append(part)
        elif part:
            out.append(int(part))
    return out


@dataclass(frozen=True)
class Ds3Settings:
    """The simulation settings of a DS3 ``config_file.ini``."""

    scheduler: str = "ETF"
    simulation_mode: str = "performance"
    clock: int = 1
    simulation_length: int = 100000
    warmup_period: int = 0
    scale: int = 100
    scale_values: tuple[int, ...] = (500,)
    num_of_iterations: int = 1
    random_seed: int = 1
    job_probabilities: tuple[float, ...] = (1.0,)
    job_list: tuple[tuple[int, ...], ...] = ()
    inject_fixed_num_jobs: bool = True
    max_jobs: int = 100
    inject_jobs_asap: bool = False
    fixed_injection_rate: bool = False
    max_jobs_in_parallel: int = 12
    sampling_rate: int = 10
    pe_to_pe: bool = True
    shared_memory: bool = False


@dataclass(frozen=True)
class Ds3Config:
    """A DS3 configuration: its settings, SoC and applications (in job_file order)."""

    path: str
    settings: Ds3Settings
    soc: Ds3Soc
    apps: tuple[App, ...]
    soc_file: str
    job_files: tuple[str, ...]


def _resolve(ini: Path, name: str, sub: str) -> Path:
    cands = [ini.parent / name, ini.parent / sub / name, ini.parent.parent / sub / name]
    for c in cands:
        if c.is_file():
            return c
    raise SocInputError(f"{ini}: {name!r} not found; looked in "
                        f"{', '.join(str(c) for c in cands)}")


def read_ds3_config(path: str | os.PathLike) -> Ds3Config:
    """Read a DS3 ``config_file.ini`` with the SoC and job files it names."""
    path = Path(path)
    cp = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            cp.read_file(f)
    except OSError as exc:
        raise SocInputError(f"{path}: cannot read DS3 config ({exc.strerror})") from None
    except configparser.Error as exc:
        raise SocInputError(f"{path}: not a valid ini file ({exc})") from None

    def get(section: str, key: str) -> str:
        if cp.has_option(section, key):
            return cp.get(section, key)
        if key in DS3_DEFAULTS.get(section, {}):
            return DS3_DEFAULTS[section][key]
        return DS3_DEFAULTS["DEFAULT"][key]

    def parse(section: str, key: str, conv: Any) -> Any:
        raw = get(section, key)
        try:
            if conv is bool:
                return cp.BOOLEAN_STATES[raw.strip().lower()]
            return conv(raw)
        except (KeyError, ValueError, SyntaxError):
            raise SocInputError(f"{path}: [{section}] {key} = {raw!r} is not valid "
                                f"({'yes/no' if conv is bool else conv.__name__})") from None

    soc_name = cp.get("DEFAULT", "resource_file", fallback=None)
    job_names = cp.get("DEFAULT", "job_file", fallback=None) or \
        cp.get("DEFAULT", "task_file", fallback=None)
    if not soc_name:
        raise SocInputError(f"{path}: [DEFAULT] resource_file: missing (the SoC file name)")
    if not job_names:
        raise SocInputError(f"{path}: [DEFAULT] job_file: missing (comma-separated job files)")
    soc_path = _resolve(path, soc_name.strip(), "config_SoC")
    job_paths = [_resolve(path, n.strip(), "config_Jobs") for n in job_names.split(",")
                 if n.strip()]
    job_list = parse("DEFAULT", "job_list", str_to_list)
    settings = Ds3Settings(
        scheduler=get("DEFAULT", "scheduler").strip(),
        simulation_mode=get("SIMULATION MODE", "simulation_mode").strip(),
        clock=parse("DEFAULT", "clock", int),
        simulation_length=parse("DEFAULT", "simulation_length", int),
        warmup_period=parse("SIMULATION MODE", "warmup_period", int),
        scale=parse("SIMULATION MODE", "scale", int),
        scale_values=tuple(parse("SIMULATION MODE", "scale_values", str_to_list)),
        num_of_iterations=parse("SIMULATION MODE", "num_of_iterations", int),
        random_seed=parse("DEFAULT", "random_seed", int),
        job_probabilities=tuple(float(x) for x in parse("DEFAULT", "job_probabilities",
                                                        str_to_list)),
        job_list=tuple(tuple(int(x) for x in s) for s in job_list),
        inject_fixed_num_jobs=parse("DEFAULT", "inject_fixed_num_jobs", bool),
        max_jobs=parse("DEFAULT", "max_jobs", int),
        inject_jobs_asap=parse("DEFAULT", "inject_jobs_asap", bool),
        fixed_injection_rate=parse("DEFAULT", "fixed_injection_rate", bool),
        max_jobs_in_parallel=parse("DEFAULT", "max_jobs_in_parallel", int),
        sampling_rate=parse("POWER MANAGEMENT", "sampling_rate", int),
        pe_to_pe=parse("COMMUNICATION MODE", "PE_to_PE", bool),
        shared_memory=parse("COMMUNICATION MODE", "shared_memory", bool),
    )
    _check_settings(settings, len(job_paths), path)
    return Ds3Config(path=str(path), settings=settings, soc=read_ds3_soc(soc_path),
                     apps=tuple(read_ds3_job(p) for p in job_paths), soc_file=str(soc_path),
                     job_files=tuple(str(p) for p in job_paths))


def _check_settings(s: Ds3Settings, n_apps: int, path: Path) -> None:
    if s.simulation_mode not in ("validation", "performance"):
        raise SocInputError(f"{path}: [SIMULATION MODE] simulation_mode = {s.simulation_mode!r}; "
                            "expected validation or performance")
    if s.pe_to_pe == s.shared_memory:
        raise SocInputError(f"{path}: [COMMUNICATION MODE]: choose exactly one of PE_to_PE and "
                            "shared_memory")
    if s.clock < 1 or s.sampling_rate < 1:
        raise SocInputError(f"{path}: clock and sampling_rate must be >= 1 us")
    if s.job_list:
        if any(len(x) != n_apps for x in s.job_list):
            raise SocInputError(f"{path}: [DEFAULT] job_list: every snippet needs {n_apps} "
                                "counts (one per job file)")
    elif len(s.job_probabilities) != n_apps:
        raise SocInputError(f"{path}: [DEFAULT] job_probabilities: {len(s.job_probabilities)} "
                            f"values for {n_apps} job files")
    elif abs(sum(s.job_probabilities) - 1) > 1e-8:
        raise SocInputError(f"{path}: [DEFAULT] job_probabilities must sum to 1")


# ---------------------------------------------------------------------------- writers
def write_ds3_soc(platform: Platform, path: str | os.PathLike,
                  dvfs: dict[str, str] | None = None) -> None:
    """Write ``platform`` as a DS3 SoC file (keyword form, per-cluster ``comm_band``).

    Power is written as DS3 ``power_profile`` lines (``k`` busy cores' power at the fastest
    point); DS3's latency does not depend on them.
    """
    ic = platform.interconnect
    if ic.pe_bandwidth is not None:
        raise SocInputError(f"{platform.source}: a per-PE bandwidth matrix cannot be written "
                            "in DS3's per-cluster form")
    dvfs = dvfs or {}
    out = [f"# DS3 SoC file written by ArchGym from {platform.name!r}"]
    for k, t in enumerate(platform.pe_types):
        mode = dvfs.get(t.name, "none" if t.is_memory else "performance")
        funcs = t.exec_us or {"None": 0}
        out.append(f"add_new_resource resource_type {t.kind} resource_name {t.name} "
                   f"resource_ID {k} capacity {t.count} num_supported_functionalities "
                   f"{len(funcs)} DVFS_mode {mode}")
        if not t.is_memory:  # DS3 needs an operating point and a power profile per cluster
            opps = t.opps or ((1000, 900),)
            out += [f"opp {f} {v}" for f, v in opps]
            out.append("trip_freq -1 -1 -1")
            busy = " ".join(str(_plain(round(i * t.dynamic_power_w + t.count * t.static_power_w,
                                             6))) for i in range(1, t.count + 1))
            out.append(f"power_profile {opps[-1][0]} {busy}")
            out.append(f"PG_profile {opps[-1][0]} {busy}")
        out += [f"{f} {_plain(v)}" for f, v in funcs.items()]
        out.append("")
    self_bw = ic.self_bandwidth if ic.self_bandwidth is not None else 1e12
    out.append(f"comm_band_self {_plain(self_bw)}")
    pair = {}
    for a, b, bw in ic.pair_bandwidth:
        pair[(a, b)] = pair[(b, a)] = bw
    names = [t.name for t in platform.pe_types]
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            bw = pair.get((a, names[j]), ic.bandwidth)
            out.append(f"comm_band {i} {j} {_plain(bw)}")
    Path(path).write_text("\n".join(out) + "\n")


def write_ds3_job(app: App, path: str | os.PathLike) -> None:
    """Write ``app`` as a DS3 job file (one HEAD, one TAIL: the entry and exit tasks)."""
    entries = [t for t in range(app.num_tasks) if not app.pred[t]]
    exits = [t for t in range(app.num_tasks) if not app.succ[t]]
    if len(entries) != 1 or len(exits) != 1:
        raise SocInputError(f"{app.source}: DS3 jobs need one entry and one exit task; "
                            f"{app.name!r} has entries {entries} and exits {exits}")
    out = [f"job_name {app.name}", f"add_new_tasks {app.num_tasks}"]
    for t, f in enumerate(app.functions):
        out.append(" ".join([f, str(t), *(str(q) for q, _ in app.pred[t])]))
        if t == entries[0]:
            out.append(f"{f} HEAD")
        if t == exits[0]:
            out.append(f"{f} TAIL")
        out.append(f"{f} earliest_start 0 deadline 0 input_vol 0 output_vol 0")
    out.append("")
    out += [f"comm_vol {s} {d} {int(v)}" for s, d, v in app.edges]
    Path(path).write_text("\n".join(out) + "\n")


def write_ds3_config(path: str | os.PathLike, settings: Ds3Settings, soc_file: str,
                     job_files: list[str]) -> None:
    """Write a DS3 ``config_file.ini`` naming ``soc_file`` and ``job_files``."""
    yn = {True: "yes", False: "no"}
    s = settings
    text = f"""[DEFAULT]
resource_file = {soc_file}
job_file = {",".join(job_files)}
job_probabilities = {list(s.job_probabilities)}
job_list = {[list(x) for x in s.job_list]}
inject_fixed_num_jobs = {yn[s.inject_fixed_num_jobs]}
max_jobs = {s.max_jobs}
simulation_length = {s.simulation_length}
clock = {s.clock}
scheduler = {s.scheduler}
inject_jobs_asap = {yn[s.inject_jobs_asap]}
fixed_injection_rate = {yn[s.fixed_injection_rate]}
max_jobs_in_parallel = {s.max_jobs_in_parallel}
random_seed = {s.random_seed}
standard_deviation = 0.0

[POWER MANAGEMENT]
sampling_rate = {s.sampling_rate}

[SIMULATION MODE]
simulation_mode = {s.simulation_mode}
scale = {s.scale}
warmup_period = {s.warmup_period}
num_of_iterations = {s.num_of_iterations}
scale_values = {list(s.scale_values)}

[COMMUNICATION MODE]
PE_to_PE = {yn[s.pe_to_pe]}
shared_memory = {yn[s.shared_memory]}
"""
    Path(path).write_text(text)
