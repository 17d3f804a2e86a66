import tests.toy  # noqa: F401  (registers archgym/Toy-v0)
import tests.toy_seq  # noqa: F401  (registers archgym/ToySchedule-v0 and its policy)
