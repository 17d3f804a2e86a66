"""GEMV mapping onto PIM banks and the command stream of one channel.

An M x K matrix times N vectors of K elements, on ``B`` banks (PIMnast: Ibrahim, Islam and
Aga, "Balanced Data Placement for GEMV Acceleration with Processing-In-Memory", SC-W 2024; the
semantics of AMD GeniePIM's knobs):

- a *tile* of ``m`` rows x ``k_t`` columns fills one interleave block (``m k_t`` elements); a
  *row block* is ``m`` full matrix rows; row blocks go round-robin to all banks, so a bank
  holds ``R = ceil(s M / (m B))`` of them; when that does not divide, the last round is padded
  with zero rows (``mode="real"``; ``"optimistic"`` spreads the work evenly instead);
- *split-K* ``s`` cuts K into ``s`` slices handled by ``s`` channel groups, each producing a
  partial output that the host or ASIC reads back and adds;
- the input-vector slice (``K/s`` elements) is written into ``vector_registers`` registers per
  *chunk* (shared by the vectors one MAC serves); *tile order* ``T`` row blocks reuse each
  chunk before the next is written (more reuse, more live output registers), so a group of
  ``T`` row blocks costs one pass of vector writes and turnarounds; when the output registers
  are full (after one group, or after several when row blocks share a register) they are
  written back to a DRAM row and, when asked, read back over the bus;
- each bank's data is laid out in the order it is processed, so the MAC stream walks the
  bank's rows once: ``ceil(words / words_per_row)`` row opens per bank and pass;
- ``N`` vectors: a MAC command serves ``floor(rate)`` vectors when the compute rate allows
  (``pim_compute_rate >= 2``), otherwise the matrix is re-read for every vector.

All banks of a channel run the same stream in lock-step (padding makes every bank's share
equal), and all channels run the same stream, so one representative channel is simulated and
its counts are multiplied by the number of channels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from simulators.pim.config import PimConfig, PimInputError
from simulators.pim.timing import PimTiming


@dataclass(frozen=True)
class GemvMapping:
    """How one GEMV is laid out and scheduled (per bank unless named otherwise)."""

    M: int
    K: int
    N: int
    lanes: int
    tile_rows: int
    tile_cols: int
    split_k: int
    k_slice: int
    row_blocks: int
    padded_rows: int
    words_per_row_block: int
    words_last_row_block: int
    words_per_bank: int
    rows_per_bank: int
    tile_order: int
    passes: int
    concurrent_vectors: int
    slot_multiple: int
    output_registers: int
    input_registers: int
    vector_elements_per_register: int
    chunks: int

    def to_dict(self) -> dict:
        return asdict(self)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def output_registers(cfg: PimConfig, m: int, lanes: int | None = None) -> int:
    """Output registers (ORF) per PIM unit that one row block of ``m`` rows fills: its
    ``m`` accumulators (or one per SIMD lane without free cross-lane reduction)."""
    width = m if cfg.free_cross_simd_reduction else (lanes or cfg.lanes)
    return math.ceil(width * cfg.accumulation_bits / cfg.orf_register_bits)


def input_registers(cfg: PimConfig, m: int) -> int:
    """Vector registers that the input columns of one tile of ``m`` rows fill (a tile has
    ``interleave_elements / m`` columns)."""
    if cfg.single_input_register:
        return 0
    if cfg.vector_register_file == "command":
        return 1
    bits = cfg.irf_register_bits if cfg.vector_register_file == "irf" \
        else cfg.orf_register_bits
    return _ceil(math.ceil(cfg.interleave_elements / m), bits // cfg.vector_bits)


def _auto_split(cfg: PimConfig, M: int, m: int) -> int:
    """Split-K that gives every bank a row block: a power of two <= the channel count."""
    blocks = _ceil(M, m)
    s = 1
    while s * 2 <= cfg.total_channels and s * 2 * blocks <= cfg.total_banks:
        s *= 2
    return s


def map_gemv(M: int, K: int, N: int, cfg: PimConfig) -> GemvMapping:
    """Tile shape, padding, split-K, tile order and register use of an M x K x N GEMV."""
    for name, v in (("M", M), ("K", K), ("N", N)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise PimInputError(f"GEMV {name}={v!r}: a positive integer is required")
    u = cfg.banks_per_pim_unit
    L = cfg.lanes
    E = cfg.interleave_elements
    B = cfg.total_banks
    acc = cfg.accumulation_bits
    free_orf = cfg.orf_registers // u
    free_irf = cfg.irf_registers // u
    vfile = cfg.vector_register_file
    vreg_bits = cfg.irf_register_bits if vfile == "irf" else cfg.orf_register_bits

    def take(file: str, count: int, what: str) -> None:
        nonlocal free_orf, free_irf
        if file == "command" or count <= 0:
            return
        free = free_irf if file == "irf" else free_orf
        if count > free:
            raise PimInputError(f"GEMV {M}x{K}: {what} needs {count} {file.upper()} registers "
                                f"per bank, {free} are free ({file}_registers / "
                                "banks_per_pim_unit, less those already used)")
        if file == "irf":
            free_irf -= count
        else:
            free_orf -= count

    # compute rate: slots per MAC word and vectors served per pass
    ratio = max(cfg.matrix_bits, cfg.vector_bits) / (cfg.matrix_bits * cfg.pim_compute_rate)
    slot_mult = math.ceil(ratio / cfg.alus_per_pim_unit)
    groups = math.ceil(cfg.alus_per_pim_unit / ratio)
    passes = _ceil(N, groups)
    concurrent = _ceil(N, passes)
    if cfg.check_input_registers:
        take(vfile, 1, "the input vector")

    # tile shape (rows m) and padding
    s = 1 if cfg.split_k == -1 else cfg.split_k

    def blocks_per_bank(m: int, s: int) -> tuple[float, int]:
        frac = s * M / (m * B)
        return frac, math.ceil(frac)

    if cfg.tile_rows == 0:
        m = L
    elif cfg.tile_rows > 0:
        m = cfg.tile_rows
    else:  # largest power-of-two shape without padding
        start = cfg.mac_output_bits // acc if cfg.mac_output_bits else E
        m = start
        while m > 1 and blocks_per_bank(m, s)[0] != blocks_per_bank(m, s)[1]:
            m //= 2
        m = max(1, m)

    if cfg.tile_rows == -1 and cfg.check_output_registers:
        while m > 1 and output_registers(cfg, m) > free_orf:
            m //= 2
    n_out = output_registers(cfg, m)
    if cfg.check_output_registers:
        take("orf", n_out, "one row block's outputs")
    if max(L, m) % min(L, m):
        raise PimInputError(f"tile rows {m} and SIMD lanes {L}: one must divide the other")
    if E % m:
        raise PimInputError(f"tile rows {m} must divide the {E} elements of an interleave block")
    k_t = math.ceil(E / m)
    if cfg.split_k == -1:
        s = _auto_split(cfg, M, m)
    k_slice = _ceil(K, s)

    # vector registers one tile's columns need
    e_r = vreg_bits // cfg.vector_bits
    in_regs = input_registers(cfg, m)

    frac, R = blocks_per_bank(m, s)
    words_rb = _ceil(m * k_slice, L)
    if cfg.mode == "real":
        words_bank = R * words_rb
        words_last = words_rb
        padded = R * m * B // s
    else:
        words_bank = max(1, _ceil(M * K, B * L))
        words_last = words_bank - (R - 1) * words_rb
        if words_last <= 0:
            R = _ceil(words_bank, words_rb)
            words_last = words_bank - (R - 1) * words_rb
        padded = M

    # tile order (row blocks sharing one input chunk)
    if cfg.tile_order == 0:
        T = R
    elif cfg.tile_order > 0:
        T = min(cfg.tile_order, R)
    else:
        T = R
        while T > 1:
            ok = (T - 1) * n_out <= free_orf
            spare = free_orf - (T - 1) * n_out if vfile == "orf" else free_irf
            if ok and (vfile == "command" or in_regs - 1 <= spare):
                break
            T -= 1
    if cfg.check_output_registers:
        take("orf", (T - 1) * n_out, f"tile order {T}")
    if cfg.check_input_registers and vfile != "command":
        take(vfile, in_regs - 1, "one tile's input columns")
        if in_regs > cfg.vector_registers:
            raise PimInputError(f"GEMV {M}x{K}: a tile's {k_t} input columns need {in_regs} "
                                f"vector registers, vector_registers={cfg.vector_registers}")

    # the vector registers are shared by the vectors one MAC serves: each gets 1/concurrent
    per_vector = max(1, cfg.vector_registers // concurrent)
    chunks = 1 if vfile == "command" else _ceil(_ceil(k_slice, e_r), per_vector)
    return GemvMapping(
        M=M, K=K, N=N, lanes=L, tile_rows=m, tile_cols=k_t, split_k=s, k_slice=k_slice,
        row_blocks=R, padded_rows=padded, words_per_row_block=words_rb,
        words_last_row_block=words_last, words_per_bank=words_bank,
        rows_per_bank=_ceil(words_bank, cfg.words_per_row), tile_order=T, passes=passes,
        concurrent_vectors=concurrent, slot_multiple=slot_mult, output_registers=n_out,
        input_registers=in_regs, vector_elements_per_register=e_r, chunks=chunks)


def _repeat_runs(blocks: list[tuple]) -> list:
    """Equal consecutive blocks of ops -> ``("rep", count, block)``."""
    out: list = []
    for b in blocks:
        if out and out[-1][2] == b:
            out[-1] = ("rep", out[-1][1] + 1, b)
        else:
            out.append(("rep", 1, b))
    return out


def build_program(mp: GemvMapping, cfg: PimConfig, t: PimTiming) -> tuple:
    """The op stream of one representative channel (see ``engine.ChannelEngine``).

    Ops: ``("wrv", n)`` vector register writes; ``("mac", n, slot)`` MAC commands walking
    the data rows; ``("aux", n, category)`` other PIM ALU commands; ``("wb", writes, reads)``
    output write-back into a row and read-back over the bus; ``("rep", count, body)``.
    """
    u = cfg.banks_per_pim_unit
    slot = mp.slot_multiple * t.ccd
    conc = mp.concurrent_vectors
    e_r = mp.vector_elements_per_register
    reg_bits = cfg.irf_register_bits if cfg.vector_register_file == "irf" \
        else cfg.orf_register_bits
    bursts = t.writes_per_register(reg_bits)
    tile_mult = mp.lanes / mp.tile_rows
    if cfg.mac_output_bits:
        tile_mult *= cfg.mac_output_bits / (mp.lanes * cfg.accumulation_bits)
    pack = math.ceil(tile_mult) if cfg.full_register_writes else 1
    spill = math.ceil(cfg.orf_register_bits / cfg.spill_bits) if cfg.spill_bits else 1
    compact = cfg.output_compact_commands if (not cfg.full_register_writes
                                              and tile_mult > 1) else 0
    out_bytes_per_rb = cfg.banks_per_channel * mp.tile_rows * conc * cfg.accumulation_bits // 8
    s = mp.split_k
    read_share = 1.0 if cfg.readback else (s - 1) / s

    # cross-SIMD reduction per row block (GeniePIM's shift and add counts)
    reduce = 0
    if not cfg.free_cross_simd_reduction:
        adj_lanes = math.ceil(cfg.orf_register_bits / cfg.accumulation_bits)
        adj_mult = adj_lanes / mp.tile_rows
        if cfg.mac_output_bits:
            adj_mult *= cfg.mac_output_bits / (adj_lanes * cfg.accumulation_bits)
        adj_mult = max(1, math.ceil(adj_mult))
        log2 = math.ceil(math.log2(adj_mult))
        shifts = log2 if cfg.shift_mode == "minimum" else max(adj_lanes - mp.tile_rows, 0)
        adds = mp.output_registers - _ceil(mp.output_registers, math.ceil(tile_mult)) \
            + log2 * mp.output_registers
        reduce = (shifts * mp.output_registers + adds) * u

    # chunk boundaries over the K slice: (vector registers, elements)
    if cfg.vector_register_file == "command":
        chunk_elems = [mp.k_slice]
        chunk_regs = [0]
    else:
        regs_total = _ceil(mp.k_slice, e_r)
        per_vector = max(1, cfg.vector_registers // conc)
        chunk_regs = [min(per_vector, regs_total - i * per_vector) for i in range(mp.chunks)]
        chunk_elems = [min(r * e_r, mp.k_slice - i * per_vector * e_r)
                       for i, r in enumerate(chunk_regs)]

    def rb_ops(words: int, e0: int, e1: int, grouped: bool) -> list:
        w = _ceil(words * e1, mp.k_slice) - _ceil(words * e0, mp.k_slice)
        ops: list = []
        if grouped and cfg.acc_load_commands:
            ops.append(("aux", cfg.acc_load_commands * u, "pim_alu"))
        if w:
            ops.append(("mac", w * u, slot))
            if cfg.matrix_bits < cfg.vector_bits and cfg.upcast_commands:
                ops.append(("aux", cfg.upcast_commands * w * u, "pim_alu"))
        if grouped and cfg.acc_spill_commands:
            ops.append(("aux", cfg.acc_spill_commands * u, "pim_alu"))
        return ops

    def group(words: list[int]) -> tuple:
        Tg = len(words)
        chunks: list[tuple] = []
        e0 = 0
        for regs, elems in zip(chunk_regs, chunk_elems, strict=True):
            head = (("wrv", regs * bursts * conc),) if regs else ()
            rbs = [tuple(rb_ops(w, e0, e0 + elems, Tg > 1)) for w in words]
            chunks.append(head + tuple(_repeat_runs(rbs)))
            e0 += elems
        ops = _repeat_runs(chunks)
        if reduce:
            ops.append(("aux", Tg * reduce, "pim_alu"))
        return tuple(ops)

    def write_back(pending: int) -> tuple:
        """Spill the outputs of ``pending`` row blocks (``pack`` share a register)."""
        regs = _ceil(pending, pack) * mp.output_registers
        tail: list = []
        if cfg.activation_commands and s == 1:
            tail.append(("aux", cfg.activation_commands * regs * u, "pim_alu"))
        extra = (cfg.acc_spill_commands + compact) * regs * conc * u
        if extra:
            tail.append(("aux", extra, "pim_alu"))
        reads = math.ceil(out_bytes_per_rb * pending * read_share / t.read_burst_bytes)
        tail.append(("wb", regs * spill * conc * u, reads))
        return tuple(tail)

    # row-block groups of one pass; the output registers of a group hold the outputs of
    # ``pack`` groups before they are full and written back
    R, T = mp.row_blocks, mp.tile_order
    words = [mp.words_per_row_block] * (R - 1) + [mp.words_last_row_block]
    groups = [(group(words[i:i + T]), len(words[i:i + T])) for i in range(0, R, T)]
    blocks = []
    for j in range(0, len(groups), pack):
        part = groups[j:j + pack]
        blocks.append(tuple(_repeat_runs([g for g, _ in part]))
                      + write_back(sum(n for _, n in part)))
    return (("rep", mp.passes, tuple(_repeat_runs(blocks))),)
