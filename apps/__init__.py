"""The bounded contexts of the OMS. Each app's public face is its `services` (writes),
`selectors` (reads) and `events` modules; nothing else crosses an app boundary."""
