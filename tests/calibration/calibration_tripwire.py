"""A block that counts the runs it takes part in, and can kill its process once.

``counter``: a file holding the number of runs started so far (incremented at each
run's start, by whichever process runs it, under an exclusive lock). ``kill_at``: while the file ``flag``
exists, the run that brings the count to ``kill_at`` sends SIGKILL to its own process
— a crash at a known evaluation, for the resume and worker-death tests.
"""

from __future__ import annotations

import fcntl
import os
import signal

from cosim import Block, Param, Port


class Tripwire(Block):
    outputs = {"y": Port()}
    parameters = {"counter": Param(""), "kill_at": Param(-1), "flag": Param("")}

    def reset(self, t0):
        if not self.counter:
            return
        with open(self.counter, "a+") as f:  # workers run at once: count under a lock
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            n = int(f.read() or 0) + 1
            f.seek(0)
            f.truncate()
            f.write(str(n))
            f.flush()
        if n == self.kill_at and self.flag and os.path.exists(self.flag):
            os.kill(os.getpid(), signal.SIGKILL)

    def step(self, t, dt, inputs):
        return {"y": 0.0}
