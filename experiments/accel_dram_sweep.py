"""How close the fast IFMAP DRAM-read model is to the full replay, on ResNet-scale layers.

For each layer (ResNet-18 shapes, padding folded in), array, dataflow and IFMAP SRAM size, it
compares :func:`simulators.accel.dram.ifmap_dram_reads` (channels gathered into blocks, at most
two IFMAP sweeps replayed) with the replay of every request of every sweep one by one in
SCALE-Sim's order (``g = 1``), which ``tests/accel/test_dram.py`` checks against the literal
SCALE-Sim semantics. Prints one JSON object: per case both counts, the relative error and the
seconds each took, and the worst error.

Usage: ``python -m experiments.accel_dram_sweep [--max-requests 6000000]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time

from simulators.accel.dram import _replay, chunk_words, ifmap_dram_reads, ifmap_footprint

LAYERS = [(58, 58, 3, 3, 64, 1, 64), (30, 30, 3, 3, 128, 1, 128), (16, 16, 3, 3, 256, 1, 256),
          (229, 229, 7, 7, 3, 2, 64), (9, 9, 3, 3, 512, 1, 512), (57, 57, 3, 3, 64, 2, 128)]
ARRAYS = [(8, 8), (32, 32), (16, 64), (128, 128), (12, 14)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-requests", type=int, default=6_000_000,
                    help="skip cases whose full replay exceeds this many requests")
    args = ap.parse_args(argv)
    rows = []
    for h, w, fh, fw, ch, s, n in LAYERS:
        eh, ew = math.ceil((h - fh + s) / s), math.ceil((w - fw + s) / s)
        m_px, k_win = eh * ew, fh * fw * ch
        for r, c in ARRAYS:
            for df in ("os", "ws", "is"):
                passes = math.ceil(n / c) if df != "is" else 1
                for kb in (16, 64, 256):
                    if passes * m_px * k_win > args.max_requests:
                        continue
                    if ifmap_footprint(h, w, fh, fw, ch, s) < chunk_words(kb):
                        continue  # fits: both are the footprint
                    t0 = time.perf_counter()
                    fast = ifmap_dram_reads(h, w, fh, fw, ch, s, n, r, c, df, kb)
                    t1 = time.perf_counter()
                    full = int(_replay(("os", "ws", "is").index(df), h, w, ch, s, fw, ew,
                                       m_px, k_win, r, c, 1, chunk_words(kb), passes)[0])
                    t2 = time.perf_counter()
                    rows.append({"layer": [h, w, fh, fw, ch, s, n], "array": [r, c],
                                 "dataflow": df, "ifmap_sram_kb": kb, "full_replay": full,
                                 "model": fast, "rel_err": fast / full - 1,
                                 "model_s": t1 - t0, "full_s": t2 - t1})
    print(json.dumps({"cases": len(rows),
                      "max_abs_rel_err": max(abs(r["rel_err"]) for r in rows),
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
