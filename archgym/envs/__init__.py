"""The project's environments and the policies they ship, registered by string.

One module per problem holds the env; this table only names them, so ``import archgym``
imports no environment module and no simulator (each loads on ``gymnasium.make``).
"""

from archgym.registry import register

DRAM_ID = register("DRAM", "archgym.envs.dram:DramEnv",
                   "DRAM memory controller (DRAMGym knobs) on a memory trace")
ACCEL_ID = register("Accelerator", "archgym.envs.accel:AcceleratorEnv",
                    "systolic-array DNN accelerator (SCALE-Sim's knobs) on a network's layers")
PIM_ID = register("PIM", "archgym.envs.pim:PimEnv",
                  "DRAM-PIM system (PIM-GPT style) for GPT decoding")
