"""Supervised runs: ``cosim run`` steps the simulation in a child process and watches it.

:mod:`.beacon` is what the child writes (cheaply, into shared memory) so that the
supervisor knows where the run was when it died; :mod:`.watch` is the supervisor.
See docs/reliability.md.
"""
