"""Names of multiple-clustering tasks: "<image set>@<concept>", e.g. "CMUface@pose", or "Planted<s>@<concept>" for
draw s of the planted-concept data (mmc_core.multiclust.synthetic). Kept with the dataset names so that the report
and the README can group concept runs by image set without importing the methods."""

from __future__ import annotations

import re

PLANTED = re.compile(r"^Planted(?P<seed>\d+)@(?P<concept>\w+)$")


def image_set(task: str) -> str:
    """The image set a task name is on ("Planted" for every draw of the planted data)."""
    return "Planted" if PLANTED.match(task) else task.split("@")[0]
