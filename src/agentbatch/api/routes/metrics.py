"""``GET /metrics``: this process's Prometheus figures (``engine/metrics.py``) and the queue's, read
from the database at scrape time (``store/gauges.py``). Not behind API keys, like the health check:
it names no tenant's objects."""

from collections.abc import Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agentbatch.api.services import ApiServices, services
from agentbatch.domain.states import ItemStatus
from agentbatch.engine.metrics import REGISTRY
from agentbatch.store.gauges import QueueGauges, read_queue_gauges

router = APIRouter(tags=["metrics"])


class _QueueCollector(Collector):
    def __init__(self, gauges: QueueGauges) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        batches = GaugeMetricFamily(
            "agentbatch_batches_unfinished", "Unfinished batches, by status.", labels=["status"]
        )
        for status, count in sorted(self._gauges.batches_by_status.items()):
            batches.add_metric([status], count)
        items = GaugeMetricFamily(
            "agentbatch_items", "Items of unfinished batches, by status.", labels=["status"]
        )
        for status in ItemStatus:
            items.add_metric([status.value], self._gauges.items_by_status.get(status.value, 0))
        depth = GaugeMetricFamily(
            "agentbatch_queue_depth", "Items ready to be claimed now, by model.", labels=["model"]
        )
        for model, count in sorted(self._gauges.ready_by_model.items()):
            depth.add_metric([model], count)
        running = GaugeMetricFamily("agentbatch_items_running", "Items running now, batch or synchronous.")
        running.add_metric([], self._gauges.running_items)
        yield from (batches, items, depth, running)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(svc: ApiServices = Depends(services)) -> Response:
    async with svc.db.read() as conn:
        gauges = await read_queue_gauges(conn)
    queue = CollectorRegistry(auto_describe=False)
    queue.register(_QueueCollector(gauges))
    body = generate_latest(REGISTRY) + generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
