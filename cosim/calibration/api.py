"""``calibrate(...)``: load, run the method through a runner session, write the result."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, SimulationError
from ..studies.runners import Runner, make_runner
from ..studies.store import versions
from ..studies.sweep import job_for
from . import identifiability as ident_mod
from . import uncertainty
from .evaluate import BudgetExhausted, Evaluator
from .globalopt import global_fit
from .journal import Journal
from .leastsq import Fit, least_squares_fit
from .noise import NoiseModel
from .objective import Objective
from .problem import CalibrationProblem, load_calibration
from .result import CalibrationResult, FitTraces
from .store import set_status, write_result


def calibrate(calibration, output: str | Path | None = None, *,
              runner: Runner | str | None = None, workers: int | None = None,
              dask: str | None = None, dask_local: int | None = None, resume: bool = False,
              overwrite: bool = False, progress: bool = False, report: str | Path | None
              = None, params: str | Path | None = None,
              base_dir: str | Path | None = None,
              flush_seconds: float = 1.0) -> CalibrationResult:
    """Calibrate a topology against telemetry; see ``docs/calibration.md``.

    ``calibration``: a calibration file, or its content as a mapping (paths relative
    to ``base_dir``). ``output``: the calibration file (HDF5) written as evaluations
    finish — needed for ``resume``. Where runs go: ``runner``, or ``workers`` (local
    processes; 0: serially here), ``dask`` (a scheduler address) or ``dask_local``
    (a local Dask cluster of that many workers). ``report``: an HTML report;
    ``params``: a parameter file with the estimates. ``flush_seconds``: how often the
    journal of evaluations is flushed to ``output`` (0: after every batch).
    """
    if resume and output is None:
        raise ConfigError("resume needs the calibration file to resume (output)")
    problem = calibration if isinstance(calibration, CalibrationProblem) else \
        load_calibration(calibration, base_dir=base_dir)
    _check_budget(problem)
    chosen = make_runner(runner, workers=workers, dask=dask, dask_local=dask_local)
    job, assets = job_for_problem(problem)
    signals = problem.observations.signals
    journal = None
    if output is not None:
        obs = problem.observations
        journal = Journal(output, problem.name, problem.identity(assets),
                          len(problem.parameters), (len(signals), obs.time.size),
                          resume=resume, overwrite=overwrite, flush_seconds=flush_seconds)
    clock = time.perf_counter()
    status = "failed"
    try:
        with chosen.session(job) as session:
            result = run_problem(problem, session, journal, progress)
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if journal is not None:
            journal.close()
            if status != "completed":
                set_status(output, status)
    result.info.update(wall_time=time.perf_counter() - clock, runner=chosen.describe())
    result.provenance.update(assets=assets, versions=versions())
    if output is not None:
        write_result(output, result)
        result.path = Path(output)
    if report is not None:
        result.report(report)
    if params is not None:
        result.write_params(params)
    return result


def job_for_problem(problem: CalibrationProblem):
    """The study job of a calibration (every run traces the fitted signals) and the
    assets it ships."""
    signals = problem.observations.signals
    return job_for(problem.topology, signals, signals, name=problem.name)


def _check_budget(problem: CalibrationProblem) -> None:
    spec = problem.spec
    if spec.method.name == "bayesian":
        from .mcmc import walkers_for
        need = walkers_for(spec.method, len(problem.parameters)) * (spec.method.steps + 1)
        if spec.budget < need:
            raise ConfigError(f"budget: {spec.budget} simulations cannot pay for the MCMC "
                              f"({need} = walkers x (steps + 1)) after least squares; raise "
                              "the budget or lower walkers/steps")


def _progress_printer(enabled: bool):
    """A line redrawn every second on a terminal; off one (a CI log, a file), a plain line
    every 10 s (cosim.observers.progress.LOG_EVERY), never carriage returns."""
    if not enabled:
        return None
    from ..observers.progress import LOG_EVERY, is_terminal
    terminal = is_terminal(sys.stderr)
    state = {"last": time.monotonic() if not terminal else 0.0}

    def show(used: int, budget: int, stage: str) -> None:
        now = time.monotonic()
        if now - state["last"] > (1.0 if terminal else LOG_EVERY):
            state["last"] = now
            text = f"  {used} / {budget} simulations ({stage})"
            if terminal:
                print(f"\r{text}", end="", file=sys.stderr, flush=True)
            else:
                print(text, file=sys.stderr, flush=True)
    return show


def run_problem(problem: CalibrationProblem, session, journal=None, progress: bool = False
                ) -> CalibrationResult:
    """Calibrate a loaded problem on an open runner session (``runner.session(job)``
    of :func:`job_for_problem`); no file is written but the journal's rows. Repeated
    calibrations (other draws of the noise: ``problem.with_measured``) can share one
    session and its workers."""
    spec = problem.spec
    obs = problem.observations
    evaluator = Evaluator(problem.parameters, obs.signals, obs.time, session, spec.budget,
                          journal, _progress_printer(progress))
    if journal is not None:
        evaluator.restore(journal.previous)
    noise = NoiseModel(obs, spec.noise)
    objective = Objective(problem.parameters, noise, evaluator, spec.method.diff_step)
    z0 = problem.parameters.initial()
    info: dict[str, Any] = {"budget": spec.budget}
    method = spec.method
    if method.name == "global":
        fit, info["global"] = global_fit(objective, z0, method, spec.budget, spec.seed)
    else:
        fit = least_squares_fit(objective, z0, method, spec.seed)
    unc = uncertainty.from_fit(objective, fit)
    ident = ident_mod.analyse(objective, fit, unc.s2, spec.identifiability.max_sd,
                              spec.identifiability.min_ratio)
    for name in spec.identifiability.profile:
        try:
            ident.profiles[name] = ident_mod.profile(
                objective, fit, unc.s2, unc.cov_search, name, spec.identifiability.points,
                spec.identifiability.span, method)
        except (BudgetExhausted, SimulationError) as err:
            info.setdefault("warnings", []).append(f"profile of {name} not computed: {err}")
    chain = None
    final = unc
    if method.name == "bayesian":
        from .mcmc import sample
        z_hat, _ = objective.split(fit.x)
        chain = sample(objective, z_hat, unc.cov_search, method, spec.seed)
        final = uncertainty.from_samples(chain.samples, unc.level)
        info["least_squares"] = {"value": unc.value, "std_error": unc.std_error,
                                 "ci_low": unc.ci_low, "ci_high": unc.ci_high}
        info["mcmc"] = {"acceptance": float(np.mean(chain.acceptance)),
                        "tau": chain.tau, "tau_ratio": chain.tau_ratio,
                        "rhat": chain.rhat, "walkers": chain.walkers, "steps": chain.steps,
                        "burn": chain.burn, "thin": chain.thin,
                        "samples": int(chain.samples.shape[0])}
    info.update(_fit_info(fit, unc, evaluator))
    return _result(problem, objective, fit, final, ident, info, chain, evaluator)


def _fit_info(fit: Fit, unc, evaluator: Evaluator) -> dict:
    c = evaluator.count
    return {"converged": fit.converged, "message": fit.message, "cost": fit.cost,
            "s2": unc.s2, "dof": unc.dof, "starts": fit.starts,
            "n_simulations": evaluator.used, "n_run": c.simulations, "n_reused": c.reused,
            "by_stage": dict(c.by_stage), "rho": unc.rho, "rho_std_error": unc.rho_std_error}


def _result(problem: CalibrationProblem, objective: Objective, fit: Fit, unc, ident,
            info: dict, chain, evaluator: Evaluator) -> CalibrationResult:
    params = problem.parameters
    obs = problem.observations
    z_hat, rho = objective.split(fit.x)
    at_estimate = objective.evaluate([z_hat], "step")[0]
    at_initial = objective.evaluate([params.initial()], "start")[0]
    noise = objective.noise
    traces = FitTraces(obs.time, list(obs.signals), [u or "" for u in obs.units],
                       obs.measured, at_estimate.predictions,
                       at_initial.predictions if at_initial.ok else
                       np.full(obs.measured.shape, np.nan),
                       obs.fit, obs.holdout, noise.sigma(),
                       rho if noise.kind == "ar1" else np.zeros(len(obs.signals)),
                       list(obs.estimated))
    provenance = {"calibration_file": str(problem.path or ""), "text": problem.text,
                  "topology_file": problem.topology.source or "",
                  "topology_sha256": problem.topology_hash(),
                  "telemetry": problem.telemetry_hashes(), "notes": obs.notes}
    return CalibrationResult(
        name=problem.name, method=problem.spec.method.name, noise=problem.spec.noise,
        level=unc.level, names=params.names, units=params.units,
        targets=[list(p.targets) for p in params], initial=np.array([p.initial for p in params]),
        low=np.array([p.low for p in params]), high=np.array([p.high for p in params]),
        scale=[p.scale for p in params], value=unc.value, std_error=unc.std_error,
        ci_low=unc.ci_low, ci_high=unc.ci_high, cov=unc.covariance,
        evaluation_table=_table(evaluator, params.names), fit=traces,
        identifiability=ident, info=info,
        posterior_samples=None if chain is None else chain.samples,
        posterior_log_prob=None if chain is None else chain.log_prob, provenance=provenance)


def _table(evaluator: Evaluator, names: list[str]) -> pd.DataFrame:
    rows = sorted(evaluator.log, key=lambda e: e.id)
    values = np.array([e.values for e in rows]) if rows else np.empty((0, len(names)))
    return pd.DataFrame({
        "stage": [e.stage for e in rows], "cost": [e.cost for e in rows],
        "status": [e.status for e in rows], "error": [e.error for e in rows],
        "wall_time": [e.wall_time for e in rows], "worker": [e.worker for e in rows],
        **{n: values[:, j] for j, n in enumerate(names)}},
        index=pd.Index([e.id for e in rows], name="evaluation"))
