"""FMU files: safe archive handling and model descriptions (no instantiation here)."""
