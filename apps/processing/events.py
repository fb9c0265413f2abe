"""Events the processing context emits on `executions` (registered with the processor)."""
