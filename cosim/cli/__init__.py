"""The command-line interface: ``cosim run|check|inspect|graph``."""
