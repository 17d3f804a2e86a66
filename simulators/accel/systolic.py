"""Folding a GEMM onto a systolic array: cycles, utilisation and SRAM traffic.

SCALE-Sim v3 (Samajdar et al., "A Systematic Methodology for Characterizing Scalability of
DNN Accelerators using SCALE-Sim", ISPASS 2020; ``scalesim/compute/systolic_compute_*.py``)
maps the ``M x K`` IFMAP operand and the ``K x N`` filter operand onto an ``R x C`` array:

========  =====================  ==========================  =============================
dataflow  rows x cols (S_r, S_c)  temporal T                  one fold, in cycles
========  =====================  ==========================  =============================
``os``    M x N (output pixel,   K (window streams through)  ``T + R + C - 2``
          filter) stationary
``ws``    K x N (weights)        M (pixels stream through)   ``2R + C + T - 2`` (R cycles
                                                             to load the weights)
``is``    K x M (inputs)         N (filters stream through)  ``2R + C + T - 2``
========  =====================  ==========================  =============================

The array takes ``ceil(S_r / R) * ceil(S_c / C)`` folds one after another, each drained
before the next starts, so a stall-free layer takes ``folds * fold_cycles - 1`` cycles (the
index of the last cycle, which is what SCALE-Sim reports as "Total Cycles"). SCALE-Sim's other
report columns, reproduced here with its definitions:

* mapping efficiency: mean over folds of the fraction of PEs holding a mapped element,
  ``S_r * S_c / (folds * R * C)``;
* compute utilisation: mean over folds of ``used PEs * T / (R * C * fold cycles)``, where
  SCALE-Sim's per-fold cycle count is ``T + R + C - 2`` for ``os`` and
  ``2R + 2C + T - 3`` for ``ws`` and ``is``;
* overall utilisation: ``M * N * K / (total cycles * R * C)``;
* SRAM reads per operand: every element the array reads from each SRAM, fold by fold
  (``os``: IFMAP ``ceil(N/C) * M * K``, filter ``ceil(M/R) * K * N``; ``ws``: IFMAP
  ``ceil(N/C) * M * K``, filter ``K * N``; ``is``: IFMAP ``M * K``, filter
  ``ceil(M/C) * K * N``);
* OFMAP SRAM writes: ``ws`` and ``is`` write every partial sum of every row fold
  (``ceil(K/R) * M * N``); for ``os`` SCALE-Sim counts ``M * N`` plus ``R + C`` per fold (its
  ``systolic_compute_os`` adds the padded fold's height and width to the write count), and so
  do we, so that the column agrees; :func:`fold_counts` also returns the physical write count
  (``ofmap_valid_writes``) that energy and DRAM traffic use.

All counts are exact integers; the three percentages are computed as single divisions of
exact integers (SCALE-Sim sums per-fold floats, so its last digits can differ by a few units
in the last place).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.accel.errors import AccelInputError


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class FoldCounts:
    """SCALE-Sim's compute-side figures for one layer on one array and dataflow."""

    folds_row: int
    folds_col: int
    fold_cycles: int
    compute_cycles: int
    mapping_efficiency_pct: float
    compute_util_pct: float
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    ofmap_valid_writes: int

    @property
    def folds(self) -> int:
        return self.folds_row * self.folds_col


def fold_counts(m: int, n: int, k: int, rows: int, cols: int, dataflow: str) -> FoldCounts:
    """Folding, cycles, utilisation and SRAM traffic of an ``m x k`` by ``k x n`` GEMM on a
    ``rows x cols`` array (see the module docstring for the definitions)."""
    r, c = rows, cols
    if dataflow == "os":
        s_r, s_c, t = m, n, k
        fold_cycles = util_cycles = t + r + c - 2
    elif dataflow in ("ws", "is"):
        s_r, s_c, t = (k, n, m) if dataflow == "ws" else (k, m, n)
        fold_cycles = 2 * r + c + t - 2
        util_cycles = 2 * r + 2 * c + t - 3
    else:
        raise AccelInputError(f"dataflow must be one of os, ws, is, got {dataflow!r}")
    f_r, f_c = _ceil_div(s_r, r), _ceil_div(s_c, c)
    folds = f_r * f_c
    mapped = s_r * s_c  # sum over folds of the PEs in use
    if dataflow == "os":
        reads = (f_c * m * k, f_r * k * n)
        valid = m * n
        ofmap_writes = valid + folds * (r + c)
    else:
        reads = (f_c * m * k, k * n) if dataflow == "ws" else (m * k, f_c * k * n)
        valid = ofmap_writes = f_r * m * n
    return FoldCounts(
        folds_row=f_r, folds_col=f_c, fold_cycles=fold_cycles,
        compute_cycles=folds * fold_cycles - 1,
        mapping_efficiency_pct=mapped * 100 / (folds * r * c),
        compute_util_pct=mapped * t * 100 / (folds * r * c * util_cycles),
        sram_ifmap_reads=reads[0], sram_filter_reads=reads[1],
        sram_ofmap_writes=ofmap_writes, ofmap_valid_writes=valid)
