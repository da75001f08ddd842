"""Code every Paceline service shares: bus, codec, subjects, config, logging, metrics, CIB model."""
