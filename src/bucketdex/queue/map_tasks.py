"""The 2-D map task (``embedding_maps:compute``): a map job computed by a queue worker.

The task is ``EmbeddingMapService.run_logged`` on the job's organisation's catalog: under the
job's lock, only while the job is PENDING, so a task run twice (a worker killed mid-layout, its
task put back in the queue) computes the map once to its end, and a task for a job that is gone
or over does nothing.  A layout that fails ends its job as ERROR with the reason; the task
itself does not raise, so the queue does not retry what would fail again.
"""

from __future__ import annotations

import uuid

import procrastinate

from bucketdex.catalog.embedding_map import EmbeddingMapService
from bucketdex.queue.tasks import Catalogs
from bucketdex.vectors.layout import Metric

NAMESPACE = "embedding_maps"
COMPUTE = f"{NAMESPACE}:compute"


def embedding_map_tasks() -> procrastinate.Blueprint:
    """A new blueprint of the map task, for one app (see ``tasks.import_job_tasks``)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="compute", pass_context=True)(compute)
    return blueprint


def compute(context: procrastinate.JobContext, org_id: str, job_id: str, metric: Metric) -> None:
    """Compute the map job ``job_id`` of ``org_id``'s catalog (PCA preview, then the layout)."""
    catalogs: Catalogs = context.additional_context["catalogs"]
    EmbeddingMapService(catalogs(org_id)).run_logged(uuid.UUID(job_id), metric)
