"""``python -m simulators.dram``: simulate a trace file and print the figures as JSON.

A lean entry point (standard library, numpy and numba only) for scripts and the throughput
benchmark; ``archgym simulate dram`` offers the same through :func:`simulate_file`.

    python -m simulators.dram --trace t.trace.gz [--device D | --config FILE.ini]
        [--controller dramsim3_like|knobs] [--set KEY=VALUE ...] [--mapping M] [--timing]

``--set`` takes DRAMsim3 option names for ``dramsim3_like`` (``row_buf_policy=CLOSE_PAGE``)
and DRAMGym knobs for ``knobs`` (``PagePolicy=Closed``); ``--timing`` adds the time spent
parsing, simulating and writing the output (``timing_s``) and the peak resident memory
(``peak_rss_mb``) on standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    ap = argparse.ArgumentParser(prog="python -m simulators.dram", description=__doc__)
    ap.add_argument("--trace", required=True, help="trace file (DRAMsim3 or .stl, plain/gzip)")
    ap.add_argument("--format", choices=("dramsim3", "stl"), default=None)
    ap.add_argument("--device", default=None, help="device preset (default DDR4_8Gb_x8_2400)")
    ap.add_argument("--config", default=None, help="DRAMsim3 .ini (device and controller)")
    ap.add_argument("--controller", default="dramsim3_like",
                    help="dramsim3_like, or knobs (DRAMGym knobs, DRAMSys defaults)")
    ap.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--mapping", default=None)
    ap.add_argument("--timing", action="store_true")
    args = ap.parse_args(argv)
    from simulators.dram.run import simulate_file

    options = {}
    for item in args.options:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--set {item!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    try:
        result, timing = simulate_file(args.trace, device=args.device, config=args.config,
                                       controller=args.controller, options=options,
                                       mapping=args.mapping, format=args.format)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    out = result.to_dict()
    text = json.dumps(out)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    if args.timing:
        timing["output"] = time.perf_counter() - t1
        timing["in_process"] = time.perf_counter() - t0
        sys.stderr.write(json.dumps({"timing_s": timing, "peak_rss_mb": _peak_rss_mb()}) + "\n")
    return 0


def _peak_rss_mb() -> float:
    """This program's peak resident memory (MiB). Linux's ``VmHWM`` where there is one:
    ``getrusage``'s ``ru_maxrss`` also counts what the parent process had resident when it
    started this one (a benchmark holding a large trace would inflate it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB


if __name__ == "__main__":
    sys.exit(main())
