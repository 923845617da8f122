"""Dynamic surrogates: excite a node, learn its dynamics, swap the surrogate in.

See ``docs/surrogates.md``. Modules: :mod:`.excitation` (designs and the block playing
them), :mod:`.excite` (the excitation study), :mod:`.dataset` (trajectories from a study
file), :mod:`.narx`, :mod:`.lss`, :mod:`.regressors` (models), :mod:`.training`
(selection by free-run error), :mod:`.intervals` (conformal), :mod:`.envelope`,
:mod:`.artifact` (the file format), :mod:`.block` (the topology node), :mod:`.report`.
"""
