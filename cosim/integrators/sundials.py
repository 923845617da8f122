"""ctypes bindings to the SUNDIALS 7 libraries that fmpy's wheel ships (CVODE only).

cosim declares its own prototypes on its own library handles (the same shared objects
fmpy loads, opened again: the dynamic loader hands out the same library), so nothing
here depends on, or changes, fmpy's Python wrappers. Only the functions
:mod:`cosim.integrators.cvode` calls are declared. The libraries are loaded on first
use; a platform for which the wheel has no SUNDIALS build raises :class:`ImportError`
naming the folder it looked in.
"""

from __future__ import annotations

import ctypes
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_double, c_int, c_int64, c_long, c_void_p
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

realtype = c_double
indextype = c_int64
#: int (*CVRhsFn)(sunrealtype t, N_Vector y, N_Vector ydot, void *user_data)
RHS_FN = CFUNCTYPE(c_int, realtype, c_void_p, c_void_p, c_void_p)
#: int (*CVRootFn)(sunrealtype t, N_Vector y, sunrealtype *gout, void *user_data)
ROOT_FN = CFUNCTYPE(c_int, realtype, c_void_p, POINTER(realtype), c_void_p)
#: void (*SUNErrHandlerFn)(int line, const char *func, const char *file, const char *msg,
#:                         SUNErrCode code, void *user_data, SUNContext ctx)
ERR_FN = CFUNCTYPE(None, c_int, c_char_p, c_char_p, c_char_p, c_int, c_void_p, c_void_p)

CV_ADAMS, CV_BDF = 1, 2
CV_NORMAL, CV_ONE_STEP = 1, 2
CV_SUCCESS, CV_TSTOP_RETURN, CV_ROOT_RETURN = 0, 1, 2

FLAG_NAMES = {
    -1: "CV_TOO_MUCH_WORK", -2: "CV_TOO_MUCH_ACC", -3: "CV_ERR_FAILURE",
    -4: "CV_CONV_FAILURE", -5: "CV_LINIT_FAIL", -6: "CV_LSETUP_FAIL", -7: "CV_LSOLVE_FAIL",
    -8: "CV_RHSFUNC_FAIL", -9: "CV_FIRST_RHSFUNC_ERR", -10: "CV_REPTD_RHSFUNC_ERR",
    -11: "CV_UNREC_RHSFUNC_ERR", -12: "CV_RTFUNC_FAIL", -13: "CV_NLS_INIT_FAIL",
    -14: "CV_NLS_SETUP_FAIL", -16: "CV_NLS_FAIL", -20: "CV_MEM_FAIL", -21: "CV_MEM_NULL",
    -22: "CV_ILL_INPUT", -25: "CV_BAD_T", -27: "CV_TOO_CLOSE",
}

# name: (library, restype, argtypes)
_PROTOTYPES = {
    "SUNContext_Create": ("core", c_int, [c_int, POINTER(c_void_p)]),
    "SUNContext_Free": ("core", c_int, [POINTER(c_void_p)]),
    "SUNContext_ClearErrHandlers": ("core", c_int, [c_void_p]),
    "SUNContext_PushErrHandler": ("core", c_int, [c_void_p, ERR_FN, c_void_p]),
    "N_VDestroy": ("core", None, [c_void_p]),
    "SUNMatDestroy": ("core", None, [c_void_p]),
    "SUNLinSolFree": ("core", c_int, [c_void_p]),
    "SUNNonlinSolFree": ("core", c_int, [c_void_p]),
    "N_VNew_Serial": ("nvec", c_void_p, [indextype, c_void_p]),
    "N_VGetArrayPointer_Serial": ("nvec", c_void_p, [c_void_p]),
    "SUNDenseMatrix": ("mat", c_void_p, [indextype, indextype, c_void_p]),
    "SUNLinSol_Dense": ("ls", c_void_p, [c_void_p, c_void_p, c_void_p]),
    "SUNNonlinSol_FixedPoint": ("cvode", c_void_p, [c_void_p, c_int, c_void_p]),
    "CVodeCreate": ("cvode", c_void_p, [c_int, c_void_p]),
    "CVodeInit": ("cvode", c_int, [c_void_p, RHS_FN, realtype, c_void_p]),
    "CVodeReInit": ("cvode", c_int, [c_void_p, realtype, c_void_p]),
    "CVodeSVtolerances": ("cvode", c_int, [c_void_p, realtype, c_void_p]),
    "CVodeRootInit": ("cvode", c_int, [c_void_p, c_int, ROOT_FN]),
    "CVodeSetLinearSolver": ("cvode", c_int, [c_void_p, c_void_p, c_void_p]),
    "CVodeSetNonlinearSolver": ("cvode", c_int, [c_void_p, c_void_p]),
    "CVodeSetMaxStep": ("cvode", c_int, [c_void_p, realtype]),
    "CVodeSetMaxNumSteps": ("cvode", c_int, [c_void_p, c_long]),
    "CVodeSetStopTime": ("cvode", c_int, [c_void_p, realtype]),
    "CVodeSetNoInactiveRootWarn": ("cvode", c_int, [c_void_p]),
    "CVode": ("cvode", c_int, [c_void_p, realtype, c_void_p, POINTER(realtype), c_int]),
    "CVodeGetNumSteps": ("cvode", c_int, [c_void_p, POINTER(c_long)]),
    "CVodeFree": ("cvode", None, [POINTER(c_void_p)]),
}

_FILES = {"core": "sundials_core", "nvec": "sundials_nvecserial",
          "mat": "sundials_sunmatrixdense", "ls": "sundials_sunlinsoldense",
          "cvode": "sundials_cvode"}


def library_folder() -> Path:
    """The folder of fmpy's SUNDIALS build for this platform."""
    import fmpy
    folder = Path(fmpy.__file__).parent / "sundials"
    tuple_ = "aarch64-darwin" if fmpy.platform_tuple == "x86_64-darwin" \
        else fmpy.platform_tuple
    return folder / tuple_


@lru_cache(maxsize=1)
def lib() -> SimpleNamespace:
    """The declared SUNDIALS functions, as attributes (loaded once per process)."""
    import fmpy
    folder = library_folder()
    handles = {}
    for key in ("core", "nvec", "mat", "ls", "cvode"):  # dependencies first
        path = folder / f"{_FILES[key]}{fmpy.sharedLibraryExtension}"
        if not path.is_file():
            raise ImportError(f"CVODE is not available: fmpy {fmpy.__version__} ships no "
                              f"SUNDIALS library for this platform ({path} is missing); "
                              "use solver: rk45 or dop853")
        handles[key] = ctypes.CDLL(str(path))
    functions = {}
    for name, (key, restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(handles[key], name)
        fn.restype, fn.argtypes = restype, argtypes
        functions[name] = fn
    return SimpleNamespace(**functions)


def flag_name(flag: int) -> str:
    return FLAG_NAMES.get(flag, f"flag {flag}")
