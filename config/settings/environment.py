"""Typed readers of environment variables, so every setting says its type and default."""

import os


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"the environment variable {name} is required in this environment")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int_map(name: str, default: str) -> dict[str, int]:
    """`"orders=20,executions=20"` -> `{"orders": 20, "executions": 20}`."""
    pairs = (item.split("=", 1) for item in env_list(name, default))
    return {key.strip(): int(value) for key, value in pairs}
