"""One module per problem; each registers its environment ids when imported."""

from archgym.envs import dram  # noqa: F401
