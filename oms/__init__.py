"""Shared kernel of the OMS: money and ids, the event envelope and schemas, Kafka wrappers,
observability and the local service launcher. Nothing here imports an app."""
