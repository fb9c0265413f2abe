"""The kernel's own Prometheus metrics (django-prometheus adds HTTP and database ones).
Every role exposes them at `/metrics`."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "oms_events_published_total", "Events acknowledged by Kafka", ["topic", "type"]
)
EVENTS_PUBLISH_FAILED = Counter(
    "oms_events_publish_failed_total", "Events Kafka did not acknowledge", ["topic"]
)
PUBLISH_SECONDS = Histogram(
    "oms_event_publish_seconds",
    "Time from produce to acknowledgement (acks=all)",
    ["topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EVENTS_CONSUMED = Counter(
    "oms_events_consumed_total", "Valid events handed to a consumer", ["topic", "group"]
)
EVENTS_DEAD_LETTERED = Counter(
    "oms_events_dead_lettered_total", "Messages sent to a dead-letter topic", ["topic", "group"]
)
OFFSET_GAPS = Counter(
    "oms_consumer_offset_gaps_total",
    "Offsets a consumer was handed past without their records: `reread` when it sought back "
    "and waited for them, `accepted` when they never came within the patience",
    ["topic", "group", "outcome"],
)
BREAKER_STATE = Gauge(
    "oms_circuit_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
    ["breaker"],
)
BREAKER_TRANSITIONS = Counter(
    "oms_circuit_breaker_transitions_total", "Circuit breaker transitions, by state entered",
    ["breaker", "state"],
)
