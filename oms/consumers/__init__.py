"""The consumer registry (issue #19): each app declares its Kafka consumers in its
`consumers.py` (`spec.ConsumerSpec`, `registry.register`), and `manage.py run_consumer NAME`
runs any of them with the one loop of `loop.py`, so no role writes its own heartbeat,
outage guard, poll, commit and drain."""
