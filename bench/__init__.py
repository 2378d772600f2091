"""podalign's benchmark: accuracy against reference word times, speed and memory."""
