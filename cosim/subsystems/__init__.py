"""Subsystem adapters: FMI 2 and FMI 3 co-simulation FMUs and Python blocks."""
