"""What every figure cosim draws shares: tick labels that never overlap.

:func:`declutter` lays a figure out, then on every axis whose tick labels overlap shows
only every k-th label (the smallest k that separates them), keeping them horizontal and
readable. Call it last, before saving.
"""

from __future__ import annotations


def _labels(axis) -> list:
    """Every major tick label of an axis, shown or not (``get_ticklabels`` drops the
    hidden ones)."""
    return [tick.label1 for tick in axis.get_major_ticks()]


def _overlap(labels) -> bool:
    """True when two visible, non-empty labels' boxes intersect."""
    boxes = [t.get_window_extent() for t in labels if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def declutter(fig) -> int:
    """Thin out overlapping tick labels on every axis of ``fig``; return how many axes
    needed it."""
    fig.canvas.draw()  # positions of the text as laid out
    fixed = 0
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = _labels(axis)
            if not _overlap(labels):
                continue
            fixed += 1
            for step in range(2, len(labels) + 1):
                for i, t in enumerate(labels):
                    t.set_visible(i % step == 0)
                if not _overlap(labels):
                    break
            fig.canvas.draw()
    return fixed


def overlapping_ticks(fig) -> list[str]:
    """Axes (by title or index) whose shown tick labels overlap, after drawing."""
    fig.canvas.draw()
    bad = []
    for i, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if _overlap(_labels(axis)):
                bad.append(f"{ax.get_title() or ax.get_title(loc='left') or i} ({name})")
    return bad
