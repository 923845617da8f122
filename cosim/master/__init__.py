"""Master algorithms: they see only the coupled system, never an adapter class."""

from .base import MasterAlgorithm, make_algorithm
from .gauss_seidel import GaussSeidel
from .jacobi import Jacobi

__all__ = ["GaussSeidel", "Jacobi", "MasterAlgorithm", "make_algorithm"]
