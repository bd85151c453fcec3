"""Short, honest experiments that answer one question each, with their steps, seeds and wall time."""
