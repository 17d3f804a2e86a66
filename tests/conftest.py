import tests.toy  # noqa: F401  (registers archgym/Toy-v0)
