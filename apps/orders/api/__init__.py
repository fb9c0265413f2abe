"""REST API of the orders context: thin views that parse, call `services` and render."""
