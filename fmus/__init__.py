"""The project's own FMUs: C models in ``fmus/<Model>/`` built by :mod:`fmus.build`."""
