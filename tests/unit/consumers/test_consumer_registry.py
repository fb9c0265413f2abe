"""The consumer registry: every app's `consumers.py` is found, each consumer has one name,
known topics and one way to run, `run_consumer --list` prints them (the table of
apps/README.md), the Procfile and the Kubernetes Deployments run each of them and nothing
else by that command, and an unknown name is refused before anything starts."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from oms.consumers.registry import consumer_named, register, registry
from oms.consumers.spec import BatchHandler, ConsumerSpec
from oms.kafka.topics import EXECUTIONS, TOPICS, dead_letter_topic
from oms.launcher.supervisor import read_procfile

ROOT = Path(__file__).resolve().parents[3]
APPS_README = ROOT / "apps" / "README.md"


def consumers_run_by(commands: list[list[str]]) -> list[str]:
    """The consumer each `manage.py run_consumer NAME` command line names."""
    return [argv[argv.index("run_consumer") + 1] for argv in commands
            if "run_consumer" in argv]


def deployment_commands() -> list[list[str]]:
    commands = []
    for path in sorted((ROOT / "deploy" / "k8s" / "base").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "Deployment":
                commands += [container.get("command", []) for container
                             in document["spec"]["template"]["spec"]["containers"]]
    return commands


def listed() -> str:
    out = StringIO()
    call_command("run_consumer", "--list", stdout=out)
    return out.getvalue()


def test_each_role_that_consumes_is_registered_under_its_role_name() -> None:
    assert set(registry()) == {"processor", "risk", "marketdata"}
    assert {name: spec.group for name, spec in registry().items()} == {
        "processor": "order-processor-group", "risk": "risk-engine-group",
        "marketdata": "market-data-group"}


def test_every_consumer_reads_known_topics_and_dead_letters_to_their_companions() -> None:
    for spec in registry().values():
        assert spec.topics, spec.name
        assert set(spec.topics) <= set(TOPICS), spec.name
        assert spec.dead_letter_topics == tuple(dead_letter_topic(t) for t in spec.topics)
        assert (spec.handler is None) != (spec.run is None), spec.name
        assert spec.batch_size > 0


def test_a_second_consumer_of_the_same_name_is_refused() -> None:
    existing = consumer_named("risk")
    with pytest.raises(ValueError, match="already registered"):
        register(ConsumerSpec(name="risk", topics=(EXECUTIONS,), group="another",
                              summary="a clash", handler=BatchHandler))
    assert consumer_named("risk") is existing


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"topics": ("no-such-topic",)}, "unknown topics"),
    ({"topics": ()}, "unknown topics"),
    ({"run": lambda spec, *, stop, heartbeat: None}, "either a handler or a run loop"),
    ({"handler": None}, "either a handler or a run loop"),
    ({"batch_size": 0}, "batch size"),
])
def test_a_malformed_consumer_is_refused_when_declared(changes: dict[str, object],
                                                       refusal: str) -> None:
    declared = {"name": "bad", "topics": (EXECUTIONS,), "group": "g", "summary": "bad",
                "handler": BatchHandler, **changes}
    with pytest.raises(ValueError, match=refusal):
        ConsumerSpec(**declared)  # type: ignore[arg-type]


def test_list_prints_every_consumer_with_its_topics_group_and_dead_letters() -> None:
    table = listed()
    for spec in registry().values():
        [row] = [line for line in table.splitlines() if line.startswith(f"| `{spec.name}` |")]
        assert f"`{spec.group}`" in row
        assert all(f"`{topic}`" in row for topic in (*spec.topics, *spec.dead_letter_topics))


def test_the_procfile_and_kubernetes_run_every_registered_consumer_once() -> None:
    procfile = read_procfile(ROOT / "Procfile")
    assert sorted(consumers_run_by(list(procfile.values()))) == sorted(registry())
    assert sorted(consumers_run_by(deployment_commands())) == sorted(registry())
    # Each runs as the role of its own name, so logs, probes and dashboards agree.
    assert all(consumers_run_by([argv]) == [name] for name, argv in procfile.items()
               if "run_consumer" in argv)


def test_the_apps_readme_carries_the_registry_as_listed() -> None:
    assert listed().strip() in APPS_README.read_text()


def test_an_unknown_consumer_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(CommandError, match=r"no consumer named 'nope'.*marketdata, "
                                           r"processor, risk"):
        call_command("run_consumer", "nope")


def test_run_consumer_without_a_name_asks_for_one() -> None:
    with pytest.raises(CommandError, match="name a consumer"):
        call_command("run_consumer")


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(CommandError, match="batch size"):
        call_command("run_consumer", "risk", "--batch-size", "0")
