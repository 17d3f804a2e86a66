"""``archgym simulate pim``: one GEMV, or whole GPT decoding, on a DRAM-PIM system."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.table import Table

from archgym.app.console import JsonFlag, console, fail, number, quantity, user_errors


def command(
    gemv: Annotated[str | None, typer.Option(
        help="One GEMV: M,K[,N] (an M x K matrix times N vectors).")] = None,
    model: Annotated[str | None, typer.Option(
        help="Decode a model: gpt2, gpt2-medium, gpt2-large, gpt2-xl, opt-1.3b or a model "
             "YAML (name, layers, hidden, heads, ffn, vocab, context[, activation]).")] = None,
    prompt: Annotated[int, typer.Option(help="Prompt tokens (with --model).")] = 64,
    tokens: Annotated[int, typer.Option(help="Generated tokens (with --model).")] = 64,
    config: Annotated[str, typer.Option(
        help="System: a shipped name (pim-gpt, client-lpddr5x), our YAML or a GeniePIM "
             "config.in.")] = "pim-gpt",
    set_: Annotated[list[str], typer.Option(
        "--set", help="key=value: override a configuration field.")] = [],  # noqa: B006
    as_json: JsonFlag = False,
) -> None:
    """Simulate a GEMV (--gemv) or GPT decoding (--model) on a DRAM-PIM system."""
    from simulators.pim import gemv_command, model_command

    if (gemv is None) == (model is None):
        fail("give exactly one of --gemv M,K[,N] and --model NAME")
    with user_errors():
        if gemv is not None:
            out = gemv_command(gemv, config, set_)
        else:
            assert model is not None
            out = model_command(model, prompt, tokens, config, set_)
    if as_json:
        typer.echo(json.dumps(out))
    elif gemv is not None:
        show_gemv(out)
    else:
        show_decoding(out)


def _table(title: str, rows: list[tuple[str, ...]], *columns: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(columns[0])
    for col in columns[1:]:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _shares(parts: Mapping[str, float], total: float, unit: str,
            per: float = 1.0) -> list[tuple[str, str, str]]:
    """Rows ``(part, value / per, share of total)``, largest first, zero parts left out."""
    return [(k, quantity(v / per, unit), f"{100 * v / total:.1f} %")
            for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v]


def _counts(counts: Mapping[str, int], title: str) -> None:
    _table(title, [(k, number(int(v))) for k, v in counts.items()], "command", "count")


def show_gemv(r: dict[str, Any]) -> None:
    m = r["mapping"]
    console.print(f"[bold]GEMV {r['M']} x {r['K']} x {r['N']}[/] on {r['config']} "
                  f"({r['device']}), host {r['host']}", highlight=False)
    _table("result", [
        ("PIM time", quantity(r["pim_time_ns"], "ns")),
        ("host time (roofline)", quantity(r["host_time_ns"], "ns")),
        ("speed-up", number(r["speedup"]) + "x"),
        ("PIM energy", quantity(r["pim_energy_pj"], "pJ")),
        ("host energy", quantity(r["host_energy_pj"], "pJ")),
        ("energy ratio", number(r["energy_ratio"]) + "x"),
    ], "", "value")
    _table("time breakdown", _shares(r["breakdown_ns"], r["pim_time_ns"], "ns"),
           "part", "time", "share")
    _table("energy breakdown", _shares(r["energy_breakdown_pj"], r["pim_energy_pj"], "pJ"),
           "part", "energy", "share")
    _counts(r["commands"], "commands, all channels")
    _counts(r["bank_operations"], "bank operations")
    console.print(
        f"mapping: tiles of {m['tile_rows']} rows x {m['tile_cols']} columns, split-K "
        f"{m['split_k']}, {m['row_blocks']} row block(s) per bank ({m['M']} rows padded to "
        f"{m['padded_rows']}), tile order {m['tile_order']}, {m['chunks']} input chunk(s), "
        f"{m['passes']} pass(es)", highlight=False)


def show_decoding(r: dict[str, Any]) -> None:
    console.print(f"[bold]{r['model']}[/]: {r['tokens']} tokens generated after a prompt of "
                  f"{r['prompt']} on {r['config']}, host {r['host']}", highlight=False)
    area = r["area_mm2"]
    _table("per generated token", [
        ("tokens/s", number(r["tokens_per_s"]), number(r["host_tokens_per_s"])),
        ("latency per token", quantity(r["latency_per_token_ns"], "ns"),
         quantity(r["host_latency_per_token_ns"], "ns")),
        ("energy per token", quantity(r["energy_per_token_uj"], "µJ"),
         quantity(r["host_energy_per_token_uj"], "µJ")),
        ("speed-up", number(r["speedup"]) + "x", ""),
        ("energy ratio", number(r["energy_ratio"]) + "x", ""),
        ("prompt: time", quantity(r["prefill_time_ns"], "ns"), ""),
        ("prompt: energy", quantity(r["prefill_energy_uj"], "µJ"), ""),
        ("area: PIM logic", f"{number(area['pim_logic'])} mm^2", ""),
        ("area: ASIC", f"{number(area['asic'])} mm^2", ""),
        ("DRAM capacity used", f"{100 * r['capacity_used']:.1f} %", ""),
    ], "", "PIM", "host (roofline)")
    n = r["tokens"]
    _table("time per token", _shares(r["breakdown_ns"], r["decode_time_ns"], "ns", n),
           "operation", "time", "share")
    _table("energy per token", _shares(r["energy_breakdown_uj"], r["decode_energy_uj"],
                                       "µJ", n), "part", "energy", "share")
    _counts(r["commands"], f"commands of {n} tokens")
