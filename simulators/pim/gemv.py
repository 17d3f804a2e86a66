"""One GEMV on the PIM system: mapping, event simulation, energy and the host baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from simulators.dram.device import PRESETS
from simulators.pim.config import PimConfig, PimInputError
from simulators.pim.energy import command_energy
from simulators.pim.engine import COMMANDS, ChannelEngine, EngineStats
from simulators.pim.host import get_host
from simulators.pim.mapping import GemvMapping, build_program, map_gemv
from simulators.pim.timing import PimTiming, ps


def pim_timing(cfg: PimConfig) -> PimTiming:
    """The channel timing of ``cfg``: its GeniePIM tuple, else its DRAM preset."""
    tn = cfg.timing_dict
    if tn is None:
        return PimTiming.from_device(PRESETS[cfg.device], refresh=cfg.refresh)
    if cfg.refresh:
        raise PimInputError("refresh=true needs a device preset: timing_ns has no tRFC/tREFI")
    per_channel = get_host(cfg.host).matrix_gbps / cfg.total_channels
    return PimTiming.from_geniepim(cfg.name, tn["tRP"], tn["tRCD"], tn["tCCD"], tn["tRAS"],
                                   tn["tRTW"], tn["tWTR"], per_channel)


@lru_cache(maxsize=8192)
def _simulate_channel(timing: PimTiming, per_row: int, hide: bool, vturn: bool,
                      host_ta: int, blocking: bool, program: tuple) -> EngineStats:
    engine = ChannelEngine(timing, per_row, hide_row_open=hide, vector_turnaround=vturn,
                           host_turnaround_ps=host_ta, blocking=blocking)
    return engine.run(program)


def run_channel(cfg: PimConfig, timing: PimTiming, program: tuple) -> EngineStats:
    """Simulate ``program`` on one channel of ``cfg`` (results are cached)."""
    return _simulate_channel(timing, cfg.words_per_row * cfg.banks_per_pim_unit,
                             cfg.hide_row_open, cfg.vector_write_turnaround,
                             ps(cfg.host_turnaround_ns), cfg.blocking_controller, program)


@dataclass(frozen=True)
class GemvResult:
    """A GEMV's PIM time and energy, its host baseline, counts and breakdowns.

    Times in ns, energies in pJ. ``commands`` counts commands on all channels' buses (an
    all-bank ACT or MAC is one command); ``bank_operations`` counts what the banks do
    (activations, word reads, word writes). ``breakdown_ns`` adds up to ``pim_time_ns`` and
    ``energy_breakdown_pj`` to ``pim_energy_pj``.
    """

    M: int
    K: int
    N: int
    pim_time_ns: float
    host_time_ns: float
    speedup: float
    pim_energy_pj: float
    host_energy_pj: float
    energy_ratio: float
    commands: dict[str, int]
    bank_operations: dict[str, int]
    breakdown_ns: dict[str, float]
    energy_breakdown_pj: dict[str, float]
    mapping: dict[str, Any]
    config: str
    host: str
    device: str
    events: int = field(default=0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulate_gemv(M: int, K: int, N: int = 1, config: PimConfig | None = None) -> GemvResult:
    """Simulate an M x K matrix times N vectors on ``config`` (default: PIM-GPT-like)."""
    cfg = config or PimConfig()
    timing = pim_timing(cfg)
    mp = map_gemv(M, K, N, cfg)
    stats = run_channel(cfg, timing, build_program(mp, cfg, timing))
    return gemv_result(cfg, mp, stats)


def energy_of(cfg: PimConfig, counts: dict[str, int], time_ns: float,
              concurrent_vectors: int = 1) -> dict[str, float]:
    """Energy breakdown (pJ) of system-wide command ``counts`` (all channels) over
    ``time_ns``; every channel of ``cfg`` draws background power for the whole time."""
    e = command_energy(cfg, concurrent_vectors)
    return {
        "activate": counts["act"] * e.act,
        "mac_array": counts["mac"] * e.mac_array,
        "mac_alu": counts["mac"] * (e.mac - e.mac_array),
        "pim_alu": counts["alu"] * e.alu,
        "vector_write": counts["wr_vector"] * e.wr_vector,
        "write_back": counts["wr_output"] * e.wr_output,
        "read_back": counts["rd_output"] * e.rd_output,
        "refresh": counts["ref"] * e.ref,
        "background": e.background_mw * time_ns * cfg.total_channels,
    }


def gemv_result(cfg: PimConfig, mp: GemvMapping, stats: EngineStats) -> GemvResult:
    ch = cfg.total_channels
    time_ns = stats.time_ps / 1000.0
    counts = {c: stats.counts[c] * ch for c in COMMANDS}
    units = cfg.banks_per_channel // cfg.banks_per_pim_unit
    bank_ops = {"activations": stats.counts["act"] * cfg.banks_per_channel * ch,
                "word_reads": stats.counts["mac"] * units * ch,
                "word_writes": stats.counts["wr_output"] * units * ch,
                "macs": stats.counts["mac"] * units * cfg.lanes * mp.concurrent_vectors * ch}
    energy = energy_of(cfg, counts, time_ns, mp.concurrent_vectors)
    pim_pj = sum(energy.values())
    host = get_host(cfg.host)
    host_ns = host.gemv_time_ns(mp.M, mp.K, mp.N, cfg.matrix_bits, cfg.vector_bits,
                                cfg.host_reads_vector, cfg.host_writes_output)
    host_pj = host.energy_pj(host_ns)
    return GemvResult(
        M=mp.M, K=mp.K, N=mp.N, pim_time_ns=time_ns, host_time_ns=host_ns,
        speedup=host_ns / time_ns, pim_energy_pj=pim_pj, host_energy_pj=host_pj,
        energy_ratio=host_pj / pim_pj if pim_pj else float("inf"),
        commands=counts, bank_operations=bank_ops,
        breakdown_ns={c: v / 1000.0 for c, v in stats.breakdown_ps.items()},
        energy_breakdown_pj=energy, mapping=mp.to_dict(), config=cfg.name, host=host.name,
        device=cfg.device, events=stats.events)
