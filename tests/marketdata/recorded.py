"""Plays recorded exchange messages (files under `recordings/`) through a streaming feed,
collecting the commands the feed hands back to its network client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.marketdata.feeds.base import Command, StreamFeed

RECORDINGS = Path(__file__).parent / "recordings"


def recording(name: str) -> list[Any]:
    text = (RECORDINGS / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def play(feed: StreamFeed, name: str) -> list[Command]:
    commands: list[Command] = []
    for message in recording(name):
        commands.extend(feed.on_message(message))
    return commands
