"""DS3 configurations rebuilt from the shipped workloads, in DS3's own file formats.

DS3's files are GPL-licensed, so they are not copied here: the SoCs and applications they
describe ship as ArchGym JSON (``workloads/soc``), and :func:`write_config` writes them back
as ``config_file.ini`` + ``SoC.*.txt`` + ``job_*.txt`` with the settings of the DS3 example
the reference figures come from (``ds3_reference.json``).
"""

from __future__ import annotations

from pathlib import Path

from simulators.soc.ds3_files import Ds3Settings, write_ds3_config, write_ds3_job, write_ds3_soc
from workloads.soc import load_app, load_soc


def write_config(directory: Path, soc: str, apps: list[str], settings: dict) -> Path:
    """Write a DS3 configuration into ``directory`` (ini beside config_SoC/, config_Jobs/)."""
    (directory / "config_SoC").mkdir(parents=True, exist_ok=True)
    (directory / "config_Jobs").mkdir(exist_ok=True)
    write_ds3_soc(load_soc(soc), directory / "config_SoC" / f"SoC.{soc}.txt")
    jobs = []
    for a in apps:
        write_ds3_job(load_app(a), directory / "config_Jobs" / f"job_{a}.txt")
        jobs.append(f"job_{a}.txt")
    ini = directory / "config_file.ini"
    write_ds3_config(ini, Ds3Settings(**settings), f"SoC.{soc}.txt", jobs)
    return ini
