"""Run SCALE-Sim v3 on (layer, config) cases and keep its reports as reference JSON.

SCALE-Sim (``pip install scalesim``, needs ``numpy<2.4``) lives in its own interpreter, given
by ``--scalesim-python`` or ``$ARCHGYM_SCALESIM_PYTHON``; this module only writes its input
files (with :mod:`simulators.accel`'s writers, so the files are also a round-trip check),
starts it once per case through its Python API with traces off, and reads back
``COMPUTE_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv``. SCALE-Sim's own wall time per case
(construction and ``run_scale``, no interpreter start-up) is recorded with the machine.

Usage (from the repository root)::

    python -m experiments.accel_scalesim --scalesim-python /path/to/venv/bin/python \\
        --out tests/accel/scalesim_reference.json [--only SUBSTRING] [--resume]

The JSON is rewritten after every case, so ``--resume`` continues an interrupted run.

The case list is :func:`cases`; the test ``tests/accel/test_fidelity.py`` and the benchmark
``experiments/benchmarks/accel.py`` read the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simulators.accel import AccelConfig, Layer, write_config, write_topology

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "accel" / "scalesim_reference.json"

# The program run in SCALE-Sim's interpreter: argv = cfg topology layout outdir fmt.
DRIVER = """\
import json, sys, time
from importlib.metadata import version
t0 = time.perf_counter()
from scalesim.scale_sim import scalesim
cfg, topo, layout, out, fmt = sys.argv[1:6]
t1 = time.perf_counter()
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
             layout=layout, input_type_gemm=(fmt == "gemm"))
s.run_scale(top_path=out)
t2 = time.perf_counter()
import numpy
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0,
                  "scalesim_version": version("scalesim"), "numpy_version": numpy.__version__,
                  "python_version": sys.version.split()[0]}))
"""

# SCALE-Sim checks that a layout file exists even when custom layouts are off; it is unused.
LAYOUT_ROW = "{name}, 1, 1, 1, 1, 1, 1,  0, 1, 2,  4, 5, 3,  3, 2, 1, 0,  4, 5, 6, 7,\n"


def _layer(name, h, w, fh, fw, c, n, s=1):
    return Layer(name, h, w, fh, fw, c, n, s)


SMALL = {
    "c3x3": _layer("c3x3", 10, 10, 3, 3, 8, 20),
    "c3x3s2pad": _layer("c3x3s2pad", 16, 13, 3, 3, 5, 7, 2),
    "c1x1": _layer("c1x1", 12, 12, 1, 1, 16, 24),
    "c5x5rect": _layer("c5x5rect", 9, 11, 5, 5, 3, 10),
    "c7x7s2": _layer("c7x7s2", 20, 20, 7, 7, 4, 6, 2),
    "c3x3deep": _layer("c3x3deep", 8, 8, 3, 3, 32, 33),
    "c2x2s3": _layer("c2x2s3", 15, 15, 2, 2, 2, 5, 3),
    "g37x29x53": Layer.gemm("g37x29x53", 37, 29, 53),
    "g64": Layer.gemm("g64", 64, 64, 64),
    "g100x10x300": Layer.gemm("g100x10x300", 100, 10, 300),
    "g5x200x17": Layer.gemm("g5x200x17", 5, 200, 17),
}
# ResNet-18 (He et al., CVPR 2016) layers, zero padding folded into the IFMAP.
RESNET18 = {
    "resnet18_conv1": _layer("resnet18_conv1", 229, 229, 7, 7, 3, 64, 2),
    "resnet18_conv2_1a": _layer("resnet18_conv2_1a", 58, 58, 3, 3, 64, 64),
    "resnet18_conv3_1b": _layer("resnet18_conv3_1b", 30, 30, 3, 3, 128, 128),
    "resnet18_conv4_s": _layer("resnet18_conv4_s", 27, 27, 1, 1, 128, 256, 2),
    "resnet18_conv5_2a": _layer("resnet18_conv5_2a", 9, 9, 3, 3, 512, 512),
    "resnet18_fc": Layer.gemm("resnet18_fc", 1, 1000, 512),
}

# (array rows, cols, ifmap/filter/ofmap kB): two per small layer and dataflow, rotated.
SMALL_ARRAYS = [(4, 4, 1, 1, 1), (8, 8, 1, 2, 1), (16, 8, 2, 1, 2), (8, 16, 4, 4, 1),
                (12, 14, 2, 8, 4), (16, 16, 8, 2, 2), (32, 32, 64, 64, 64), (5, 3, 1, 1, 1)]
RESNET_ARRAYS = {"resnet18_conv1": [(32, 32, 64, 64, 64)],
                 "resnet18_conv2_1a": [(32, 32, 64, 64, 64)],
                 "resnet18_conv3_1b": [(64, 64, 256, 256, 128), (16, 32, 32, 64, 16)],
                 "resnet18_conv4_s": [(32, 32, 16, 64, 32), (128, 128, 512, 512, 256)],
                 "resnet18_conv5_2a": [(32, 32, 64, 64, 64), (64, 32, 128, 256, 64)],
                 "resnet18_fc": [(8, 8, 1, 16, 1), (32, 32, 64, 64, 64)]}
SLOW_CASES = [("resnet18_conv5_2a", (8, 8, 16, 16, 16), "ws")]
USER_CASES = [("c3x3", (8, 8, 1, 2, 1), "os", 4), ("g37x29x53", (8, 16, 4, 4, 1), "ws", 2)]


def _cfg(arr, df, mode="CALC", bw=10):
    r, c, i, f, o = arr
    return AccelConfig(r, c, i, f, o, df, mode, bw, run_name="ref")


def cases() -> list[dict]:
    """Every reference case: id, layer, topology format, config."""
    out = []

    def add(layer, cfg):
        cid = (f"{layer.name}|{cfg.array_rows}x{cfg.array_cols}|{cfg.dataflow}|"
               f"{cfg.ifmap_sram_kb}-{cfg.filter_sram_kb}-{cfg.ofmap_sram_kb}kB|"
               f"{cfg.interface_bandwidth}" + (f"{cfg.bandwidth:g}"
                                               if cfg.interface_bandwidth == "USER" else ""))
        out.append({"id": cid, "layer": layer.to_dict(),
                    "format": "gemm" if layer.name.startswith("g") or
                    layer.name.endswith("_fc") else "conv", "config": cfg.to_dict()})

    k = 0
    for layer in SMALL.values():
        for df in ("os", "ws", "is"):
            for _ in range(2):
                add(layer, _cfg(SMALL_ARRAYS[k % len(SMALL_ARRAYS)], df))
                k += 1
    for name, arrays in RESNET_ARRAYS.items():
        for arr in arrays:
            for df in ("os", "ws", "is"):
                add(RESNET18[name], _cfg(arr, df))
    for name, arr, df in SLOW_CASES:
        add(RESNET18[name], _cfg(arr, df))
    for name, arr, df, bw in USER_CASES:
        add(SMALL[name], _cfg(arr, df, "USER", bw))
    return out


def _report(path: Path) -> list[dict]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split(",") if h.strip()]
    rows = []
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.split(",")][:len(header)]
        rows.append({h: (float(c) if "." in c or "e" in c else int(c))
                     for h, c in zip(header, cells, strict=True)})
    return rows


def run_case(case: dict, python: str) -> dict:
    """Run SCALE-Sim on one case; its COMPUTE and DETAILED_ACCESS report rows and timing."""
    layer = Layer(**case["layer"])
    cfg = AccelConfig(**case["config"])
    with tempfile.TemporaryDirectory(prefix="scalesim_") as tmp:
        t = Path(tmp)
        write_config(t / "run.cfg", cfg)
        write_topology(t / "topo.csv", [layer], case["format"])
        (t / "layout.csv").write_text("Layer name, unused,\n" + LAYOUT_ROW.format(name=layer.name))
        proc = subprocess.run([python, "-c", DRIVER, str(t / "run.cfg"), str(t / "topo.csv"),
                               str(t / "layout.csv"), str(t / "out"), case["format"]],
                              capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"SCALE-Sim failed on {case['id']}:\n{proc.stderr[-3000:]}")
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        run_dir = t / "out" / cfg.run_name
        (compute,) = _report(run_dir / "COMPUTE_REPORT.csv")
        (detail,) = _report(run_dir / "DETAILED_ACCESS_REPORT.csv")
    compute.pop("LayerID")
    detail.pop("LayerID")
    return {"compute_report": compute, "detailed_access_report": detail, **timing}


def machine() -> dict:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                  .splitlines() if ln.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "platform": platform.platform(),
            "load_avg_1min_at_start": os.getloadavg()[0]}


def scalesim_python(arg: str | None) -> str | None:
    """The interpreter that has SCALE-Sim: ``arg``, else ``$ARCHGYM_SCALESIM_PYTHON``, else
    this one if it can import ``scalesim``; None when there is none."""
    cand = arg or os.environ.get("ARCHGYM_SCALESIM_PYTHON")
    if cand:
        return cand
    try:
        import scalesim  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def _document(done: list[dict], versions: dict, out: Path, env: dict, started: float) -> dict:
    rel = str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
    return {
        "provenance": {
            "tool": "SCALE-Sim v3 (PyPI package scalesim)", **versions,
            "install": "python3 -m venv <venv> && <venv>/bin/pip install 'numpy<2.4' scalesim",
            "command": "python -m experiments.accel_scalesim --scalesim-python "
                       f"<venv>/bin/python --out {rel}",
            "how": "one SCALE-Sim run per case through scalesim.scale_sim.scalesim("
                   "save_disk_space=True, verbose=False, input_type_gemm=<format == gemm>)."
                   "run_scale(); config and one-row topology written by "
                   "simulators.accel.write_config / write_topology (the config lists every "
                   "section SCALE-Sim's reader requires, offsets 0/10000000/20000000, custom "
                   "layouts, sparsity and Ramulator off); COMPUTE_REPORT.csv and "
                   "DETAILED_ACCESS_REPORT.csv copied verbatim; 'seconds' is SCALE-Sim's wall "
                   "time for construction plus run_scale on the machine below.",
            "machine": env,
            "date": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        },
        "cases": done,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scalesim-python")
    ap.add_argument("--out", type=Path, default=REFERENCE)
    ap.add_argument("--only", default="", help="run only cases whose id contains this")
    ap.add_argument("--resume", action="store_true",
                    help="keep the cases already in --out and run the missing ones")
    args = ap.parse_args(argv)
    python = scalesim_python(args.scalesim_python)
    if python is None:
        sys.exit("no SCALE-Sim interpreter: pass --scalesim-python or set "
                 "ARCHGYM_SCALESIM_PYTHON")
    env, started, done, versions = machine(), time.time(), [], {}
    if args.resume and args.out.exists():
        old = json.loads(args.out.read_text())
        prov, done = old["provenance"], old["cases"]
        env = prov["machine"]
        versions = {k: prov[k] for k in ("scalesim_version", "python", "numpy")}
    have = {c["id"] for c in done}
    todo = [c for c in cases() if args.only in c["id"] and c["id"] not in have]
    for i, case in enumerate(todo, 1):
        run = run_case(case, python)
        versions = versions or {"scalesim_version": run["scalesim_version"],
                                "python": run["python_version"], "numpy": run["numpy_version"]}
        for k in ("scalesim_version", "python_version", "numpy_version"):
            run.pop(k)
        done.append({**case, "scalesim": run})
        print(f"[{i}/{len(todo)}] {case['id']}: {run['seconds']:.2f} s", flush=True)
        text = json.dumps(_document(done, versions, args.out, env, started), indent=1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(args.out)
    print(f"{len(done)} cases in {args.out}")


if __name__ == "__main__":
    main()
