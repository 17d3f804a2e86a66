"""Heterogeneous SoC simulators: static task-graph scheduling and a dynamic SoC simulator.

Static (``TaskGraph`` in, ``Schedule`` out)::

    from simulators.soc import read_graph, schedule, check_schedule
    g = read_graph("workloads/soc/graphs/topcuoglu2002_fig2.json")
    s = schedule(g, "heft")          # makespan 80
    check_schedule(g, s.proc, s.start, s.finish, s.makespan).valid

Dynamic (a SoC, a job stream, a scheduler in; ``DynamicResult`` out)::

    from simulators.soc import simulate, poisson_arrivals
    from workloads.soc import load_soc, load_workload
    wl = load_workload("wifi")
    r = simulate(load_soc("ds3_reference"), wl, poisson_arrivals(wl, 100, 5.0, seed=0), "heft")

DS3 configurations: ``run_ds3(read_ds3_config("config_file.ini"))``. See ``docs/soc.md``
for the models, the definitions and the DS3 compatibility table.
"""

from simulators.soc.apps import App, read_app
from simulators.soc.checker import CheckResult, check_schedule
from simulators.soc.ds3_compat import Ds3Result, run_ds3
from simulators.soc.ds3_files import read_ds3_config
from simulators.soc.dynamic import DynamicResult, DynamicSim, simulate
from simulators.soc.errors import SocInputError
from simulators.soc.graph import SCHEMA, TaskGraph, read_graph, write_graph
from simulators.soc.platform import Interconnect, PEType, Platform, read_platform
from simulators.soc.policies import DYNAMIC_SCHEDULERS, policy_scheduler
from simulators.soc.schedule import Schedule, ScheduleBuilder
from simulators.soc.static import SCHEDULERS, schedule
from simulators.soc.workload import Workload, poisson_arrivals, trace_arrivals

__all__ = [
    "DYNAMIC_SCHEDULERS",
    "SCHEDULERS",
    "SCHEMA",
    "App",
    "CheckResult",
    "Ds3Result",
    "DynamicResult",
    "DynamicSim",
    "Interconnect",
    "PEType",
    "Platform",
    "Schedule",
    "ScheduleBuilder",
    "SocInputError",
    "TaskGraph",
    "Workload",
    "check_schedule",
    "poisson_arrivals",
    "policy_scheduler",
    "read_app",
    "read_ds3_config",
    "read_graph",
    "read_platform",
    "run_ds3",
    "schedule",
    "simulate",
    "trace_arrivals",
    "write_graph",
]
