"""Events: scheduled interventions, signal monitors (state events), the events log."""

from .monitors import Monitor, make_monitors
from .schedule import Intervention, Schedule

__all__ = ["Intervention", "Monitor", "Schedule", "make_monitors"]
