"""Shipped SoC workloads: task graphs, DS3 applications, SoCs and application mixes.

- ``graphs/``: static task graphs (``archgym-soc-dag/1``), e.g. ``topcuoglu2002_fig2``.
- ``apps/``: the DS3 applications (``archgym-soc-app/1``): ``wifi_tx``, ``wifi_rx``,
  ``range_detection``, ``pulse_doppler``, ``sc_tx``, ``sc_rx``, ``temporal_mitigation`` and
  ``heft_example``, converted from DS3's job files (each file's description names its
  source file and commit).
- ``socs/``: ``ds3_reference`` (DS3's SoC.MULTIPLE_BAL) and ``ds3_heft_example`` (SoC.Top).
- :data:`MIXES`: named application mixes for ``--workload NAME``; every single application
  is a mix of itself.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from simulators.soc.apps import App, read_app
from simulators.soc.ds3_files import Ds3Settings, write_ds3_config, write_ds3_job, write_ds3_soc
from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph, read_graph
from simulators.soc.platform import Platform, read_platform
from simulators.soc.workload import Workload

APPS = ("wifi_tx", "wifi_rx", "range_detection", "pulse_doppler", "sc_tx", "sc_rx",
        "temporal_mitigation", "heft_example")
SOCS = ("ds3_reference", "ds3_heft_example")
GRAPHS = ("topcuoglu2002_fig2",)

#: name -> {application: probability of a new job}, with where the mix comes from
MIXES: dict[str, dict[str, float]] = {
    # DS3 config_Files/config_file_second_example.ini and config_file_scheduling.ini
    "wifi": {"wifi_tx": 0.8, "wifi_rx": 0.2},
    # DS3 paper (Arda et al. 2020) Sec. 7.3, Fig. 12(c): p_range = 0.8, p_pulse = 0.2
    "radar": {"range_detection": 0.8, "pulse_doppler": 0.2},
    # DS3 config_file.ini: job_probabilities over its six job files
    "ds3_mix": {"wifi_tx": 0.2, "wifi_rx": 0.2, "range_detection": 0.2, "sc_tx": 0.1,
                "sc_rx": 0.1, "temporal_mitigation": 0.2},
    **{a: {a: 1.0} for a in APPS},
}


def _path(kind: str, name: str, known: tuple[str, ...]) -> Path:
    if name not in known:
        raise SocInputError(f"no shipped {kind[:-1]} {name!r}; shipped: {', '.join(known)}")
    return Path(str(resources.files(__name__) / kind / f"{name}.json"))


def load_app(name: str) -> App:
    return read_app(_path("apps", name, APPS))


def load_soc(name: str) -> Platform:
    return read_platform(_path("socs", name, SOCS))


def load_graph(name: str) -> TaskGraph:
    return read_graph(_path("graphs", name, GRAPHS))


def graph_path(name: str) -> Path:
    return _path("graphs", name, GRAPHS)


def soc_path(name: str) -> Path:
    return _path("socs", name, SOCS)


def resolve_soc(soc: str | Path) -> Platform:
    """``--soc CONFIG``: an ``archgym-soc/1`` JSON file, or a shipped SoC by name."""
    if str(soc) in SOCS:
        return load_soc(str(soc))
    if Path(soc).is_file():
        return read_platform(soc)
    raise SocInputError(f"--soc {str(soc)!r}: no such file, and not a shipped SoC "
                        f"({', '.join(SOCS)})")


def load_workload(name: str) -> Workload:
    """A named mix (see :data:`MIXES`) as a :class:`Workload`."""
    if name not in MIXES:
        raise SocInputError(f"unknown SoC workload {name!r}; choose one of: {', '.join(MIXES)}")
    mix = MIXES[name]
    return Workload(name=name, apps=tuple(load_app(a) for a in mix),
                    probabilities=tuple(mix.values()))


def write_ds3_files(directory: str | Path, soc: str, apps: list[str], settings: Ds3Settings,
                    dvfs: dict[str, str] | None = None) -> Path:
    """Write a shipped SoC and applications as a DS3 configuration (``config_file.ini`` beside
    ``config_SoC/SoC.<soc>.txt`` and ``config_Jobs/job_<app>.txt``); returns the ini's path.

    DS3's own files are GPL-licensed and do not ship here; its SoCs and applications ship as
    ArchGym JSON, and this writes them back in DS3's format (``dvfs``: DVFS mode per PE type).
    """
    directory = Path(directory)
    (directory / "config_SoC").mkdir(parents=True, exist_ok=True)
    (directory / "config_Jobs").mkdir(exist_ok=True)
    write_ds3_soc(load_soc(soc), directory / "config_SoC" / f"SoC.{soc}.txt", dvfs=dvfs)
    jobs = []
    for a in apps:
        write_ds3_job(load_app(a), directory / "config_Jobs" / f"job_{a}.txt")
        jobs.append(f"job_{a}.txt")
    ini = directory / "config_file.ini"
    write_ds3_config(ini, settings, f"SoC.{soc}.txt", jobs)
    return ini


def write_ds3_case(case: dict[str, Any], directory: str | Path, root: str | Path) -> Path:
    """Write one case of ``tests/soc/ds3_reference.json`` as a DS3 configuration: shipped
    SoC and application names, or DS3 text files (paths relative to ``root``)."""
    directory = Path(directory)
    s = dict(case["settings"])
    s.update(scale_values=tuple(s["scale_values"]),
             job_probabilities=tuple(s["job_probabilities"]),
             job_list=tuple(tuple(x) for x in s["job_list"]))
    settings = Ds3Settings(**s)
    if not case["soc"].endswith(".txt"):
        return write_ds3_files(directory, case["soc"], case["apps"], settings, case["dvfs"])
    (directory / "config_SoC").mkdir(parents=True, exist_ok=True)
    (directory / "config_Jobs").mkdir(exist_ok=True)
    shutil.copy(Path(root) / case["soc"], directory / "config_SoC")
    for a in case["apps"]:
        shutil.copy(Path(root) / a, directory / "config_Jobs")
    ini = directory / "config_file.ini"
    write_ds3_config(ini, settings, Path(case["soc"]).name, [Path(a).name for a in case["apps"]])
    return ini
