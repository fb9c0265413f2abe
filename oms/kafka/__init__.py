"""Kafka kernel: topic definitions, the idempotent event producer, the batch consumer with
manual offsets and the dead-letter path. Every role talks to Kafka through these."""
