"""The project's environments and the policies they ship, registered by string.

One module per problem holds the env; this table only names them, so ``import archgym``
imports no environment module and no simulator (each loads on ``gymnasium.make``).
"""

from archgym.registry import register, register_policy

DRAM_ID = register("DRAM", "archgym.envs.dram:DramEnv",
                   "DRAM memory controller (DRAMGym knobs) on a memory trace")
ACCEL_ID = register("Accelerator", "archgym.envs.accel:AcceleratorEnv",
                    "systolic-array DNN accelerator (SCALE-Sim's knobs) on a network's layers")
PIM_ID = register("PIM", "archgym.envs.pim:PimEnv",
                  "DRAM-PIM system (PIM-GPT style) for GPT decoding")
MEMORY_MAPPING_ID = register(
    "MemoryMapping", "archgym.envs.memmap:MemoryMappingEnv",
    "place an ML program's tensors in fast SRAM or HBM, one per step (mallocGame)")
MEMORY_HIERARCHY_ID = register(
    "MemoryHierarchy", "archgym.envs.memory_hierarchy:MemoryHierarchyEnv",
    "fast-memory capacity, bandwidths and alignment for a program, mapped by greedy or "
    "optimal placement")
SOC_DESIGN_ID = register(
    "SoCDesign", "archgym.envs.soc_design:SocDesignEnv",
    "heterogeneous SoC (FARSI style): PE mix, DVFS points, link bandwidth and scheduler for "
    "a stream of DS3 jobs")

register_policy("greedy-placement", "archgym.envs.memmap:GreedyPlacement",
                [MEMORY_MAPPING_ID], "XLA-style greedy's placement (benefit per byte, best "
                                     "fit), played through the slots")
register_policy("online-best-fit", "archgym.envs.memmap:OnlineBestFit", [MEMORY_MAPPING_ID],
                "in game order: the best-fit slot if it saves time now, else slow")
register_policy("all-slow", "archgym.envs.memmap:AllSlow", [MEMORY_MAPPING_ID],
                "every tensor in slow memory (HBM)")
SOC_SCHEDULING_ID = register(
    "SoCScheduling", "archgym.envs.soc_scheduling:SoCSchedulingEnv",
    "map ready tasks to a heterogeneous SoC's PEs one per step (DeepSoCS): one task graph "
    "(makespan) or a DS3 job stream (mean latency)")
for _name, _cls, _what in (
        ("heft", "Heft", "HEFT: largest upward rank first, earliest-finish PE"),
        ("peft", "Peft", "PEFT: largest mean optimistic cost first, min EFT + OCT"),
        ("etf", "Etf", "ETF: the (ready task, PE) pair that starts (static) / finishes "
                       "(dynamic) first"),
        ("met", "Met", "MET: first ready task to its minimum-execution-time PE"),
        ("mct", "Mct", "MCT: first ready task to its earliest-finish PE")):
    register_policy(_name, f"archgym.envs.soc_scheduling:{_cls}", [SOC_SCHEDULING_ID], _what)
