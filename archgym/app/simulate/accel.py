"""``archgym simulate accel``: a network's layers on a systolic-array accelerator, from
SCALE-Sim's own topology CSV and ``.cfg`` files, reported with SCALE-Sim's columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from archgym.app.console import JsonFlag, user_errors

#: (report field, header, unit, format) of the text report's two tables
COMPUTE = (("compute_cycles", "compute", "cycles", ",d"), ("stall_cycles", "stall", "cycles", ",d"),
           ("total_cycles", "total", "cycles", ",d"),
           ("overall_util_pct", "overall util", "%", ".2f"),
           ("mapping_efficiency_pct", "mapping eff", "%", ".2f"),
           ("compute_util_pct", "compute util", "%", ".2f"))
ACCESSES = (("sram_ifmap_reads", "SRAM ifmap rd", "words", ",d"),
            ("sram_filter_reads", "SRAM filter rd", "words", ",d"),
            ("sram_ofmap_writes", "SRAM ofmap wr", "words", ",d"),
            ("dram_ifmap_reads", "DRAM ifmap rd", "words", ",d"),
            ("dram_filter_reads", "DRAM filter rd", "words", ",d"),
            ("dram_ofmap_writes", "DRAM ofmap wr", "words", ",d"),
            ("energy_pj", "energy", "uJ", ",.3f"))


def table(title: str, columns: tuple, rows: list[dict]) -> str:
    """A plain, right-aligned text table (wide reports stay one line per layer)."""
    def cell(row: dict, field: str, fmt: str) -> str:
        value = row[field] * 1e-6 if field == "energy_pj" else row[field]
        return format(value, fmt)

    header = ["layer", *(h for _, h, _, _ in columns)]
    units = ["", *(f"({u})" for _, _, u, _ in columns)]
    body = [[r["name"], *(cell(r, f, fmt) for f, _, _, fmt in columns)] for r in rows]
    widths = [max(map(len, col)) for col in zip(header, units, *body, strict=True)]
    lines = [title]
    for line in (header, units, *body):
        lines.append(f"{line[0]:<{widths[0]}}  " + "  ".join(
            f"{x:>{w}}" for x, w in zip(line[1:], widths[1:], strict=True)))
    return "\n".join(lines)


def command(
    topology: Annotated[Path, typer.Option(
        help="SCALE-Sim topology CSV (convolution or GEMM format).")],
    config: Annotated[Path, typer.Option(help="SCALE-Sim .cfg file.")],
    format: Annotated[str, typer.Option(help="Topology format: auto, conv or gemm.")]
    = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Run a network on a systolic-array accelerator (SCALE-Sim's files and counts)."""
    from simulators.accel import simulate_files

    with user_errors():
        out = simulate_files(topology, config, format).to_dict()
    if as_json:
        typer.echo(json.dumps(out))
        return
    c = out["config"]
    mode = ("CALC: stall-free DRAM" if c["interface_bandwidth"] == "CALC"
            else f"USER: DRAM {c['bandwidth']:g} words/cycle")
    rows = [*out["layers"], {"name": "TOTAL", **out["total"]}]
    typer.echo(f"{topology.name}: {len(out['layers'])} layers on a {c['array_rows']}x"
               f"{c['array_cols']} {c['dataflow']} array, SRAM ifmap/filter/ofmap "
               f"{c['ifmap_sram_kb']}/{c['filter_sram_kb']}/{c['ofmap_sram_kb']} kB, {mode}; "
               f"area {out['area_mm2']['total_mm2']:.3f} mm^2 (45 nm), 1 word = 1 byte\n")
    typer.echo(table("Compute (SCALE-Sim COMPUTE_REPORT)", COMPUTE, rows) + "\n")
    typer.echo(table("Accesses (SCALE-Sim DETAILED_ACCESS_REPORT) and energy", ACCESSES, rows))
