"""DRAM simulator speed: requests simulated per second, printed as one JSON object.

Workloads: a 1,000,000-request random trace (one third writes, one request every 3 cycles,
seeded) and the three DRAMsim3 reference traces (``shared/reference/dram``), all with
DDR4_8Gb_x8_2400 and the ``dramsim3_like`` controller (plus the DRAMSys-knob default on the
random trace); and DRAM-v0 environment evaluations per second (``dram_v0_evals_per_s``: 30
distinct random knob settings on the shipped random workload). DRAMsim3 itself does about
116,000 requests/s on the random trace on this class of machine.
Usage: ``python -m experiments.benchmarks.dram_throughput [--n N]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simulators.dram import ControllerConfig, simulate

REF_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dram"


def random_trace(n: int = 1_000_000, seed: int = 0, interval: int = 3):
    """Uniform random 64 B lines over 4 GiB, one third writes, one request every 3 cycles."""
    from simulators.dram.trace import Trace

    rng = np.random.default_rng(seed)
    addr = (rng.integers(0, (4 << 30) // 64, size=n, dtype=np.uint64) * np.uint64(64))
    return Trace(addr=addr, is_write=rng.random(n) < 1 / 3,
                 cycle=np.arange(n, dtype=np.int64) * interval, name=f"random{n}")


def requests_per_second(trace, repeats: int = 3, **simulate_kwargs) -> float:
    """Best-of-``repeats`` requests simulated per second of ``simulate(trace, **kwargs)``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(trace, **simulate_kwargs)
        best = min(best, time.perf_counter() - t0)
    return len(trace.addr) / best


def dram_v0_evals_per_s(steps: int = 30, seed: int = 0) -> float:
    """DRAM-v0 evaluations per second on the shipped random workload: ``steps`` distinct
    random knob settings, each one env step (after one untimed warm-up step)."""
    import gymnasium

    import archgym  # noqa: F401  (registers archgym/DRAM-v0)

    env = gymnasium.make("archgym/DRAM-v0", workload="random")
    dram = env.unwrapped
    rng = np.random.default_rng(seed)
    configs, seen = [], set()
    while len(configs) < steps + 1:
        c = dram.space.sample(rng)
        if dram.space.key(c) not in seen:
            seen.add(dram.space.key(c))
            configs.append(c)
    env.reset(seed=seed)
    dram.step_config(configs[0])
    t0 = time.perf_counter()
    for c in configs[1:]:
        *_, terminated, truncated, _ = dram.step_config(c)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - t0)


def first_call_seconds() -> float:
    """Import + first simulate in a fresh interpreter (numba compile or cache load)."""
    code = ("import time; t=time.perf_counter(); import numpy as np; "
            "from simulators.dram import simulate, ControllerConfig; "
            "from types import SimpleNamespace as S; "
            "tr=S(addr=np.arange(64,dtype=np.uint64)*64, is_write=np.arange(64)%3==0, "
            "cycle=np.arange(64)*3); simulate(tr); simulate(tr, controller=ControllerConfig());"
            " print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    out: dict[str, object] = {"first_call_s": round(first_call_seconds(), 2)}
    tr = random_trace(args.n)
    out["random_1M_dramsim3_like_req_per_s"] = round(requests_per_second(tr, repeats=1))
    out["random_1M_dramsys_default_req_per_s"] = round(
        requests_per_second(tr, repeats=1, controller=ControllerConfig()))
    if (REF_DIR / "generate_traces.py").exists():
        from simulators.dram.trace import read_trace

        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, str(REF_DIR / "generate_traces.py"), d],
                           check=True, capture_output=True)
            for name in ("stream_read", "random_read", "strided"):
                t = read_trace(Path(d) / f"{name}.trace")
                out[f"{name}_req_per_s"] = round(requests_per_second(t))
    out["dram_v0_evals_per_s"] = round(dram_v0_evals_per_s(), 2)
    out["dramsim3_reference_req_per_s"] = 116_000
    print(json.dumps(out))


if __name__ == "__main__":
    main()
