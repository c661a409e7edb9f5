"""Checks the rendered Kubernetes manifests (kustomize output on stdin) against what infra/ promises:
API and workers as separate Deployments, each with probes, resources, and the restricted security
context (non-root, read-only root file system, no capabilities, no privilege escalation, seccomp
RuntimeDefault); an HPA for each (the workers' on an external queue-depth metric); PDBs; a
NetworkPolicy; a migration Job; no Secret with values. Prints each violation; exits 1 if any."""
import sys

import yaml

documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
problems = []
by_kind = {}
for document in documents:
    by_kind.setdefault(document["kind"], []).append(document)


def check_pod(owner, pod, needs_probes):
    security = pod.get("securityContext", {})
    if security.get("runAsNonRoot") is not True:
        problems.append(f"{owner}: pod securityContext.runAsNonRoot is not true")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{owner}: pod seccompProfile is not RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{owner}: the service account token is mounted")
    for container in pod.get("containers", []):
        name = f"{owner}/{container['name']}"
        context = container.get("securityContext", {})
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root file system is writable")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: privilege escalation is allowed")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities are not all dropped")
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(part, {})):
                problems.append(f"{name}: no cpu and memory {part}")
        if needs_probes:
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    problems.append(f"{name}: no {probe}")
        if container.get("image", "").endswith(":latest") and "--allow-latest" not in sys.argv:
            problems.append(f"{name}: image tag is latest")


deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
for wanted in ("controlplane-api", "controlplane-worker"):
    if wanted not in deployments:
        problems.append(f"no Deployment {wanted}")
for name, deployment in deployments.items():
    check_pod(f"Deployment {name}", deployment["spec"]["template"]["spec"], needs_probes=True)
worker = deployments.get("controlplane-worker")
if worker and worker["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30) < 60:
    problems.append("the worker's grace period is shorter than a minute: it cannot drain")
for job in by_kind.get("Job", []):
    check_pod(f"Job {job['metadata']['name']}", job["spec"]["template"]["spec"], needs_probes=False)
if not any(j["metadata"]["name"] == "controlplane-migrate" for j in by_kind.get("Job", [])):
    problems.append("no migration Job")

hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind.get("HorizontalPodAutoscaler", [])}
for wanted in ("controlplane-api", "controlplane-worker"):
    if wanted not in hpas:
        problems.append(f"no HorizontalPodAutoscaler for {wanted}")
if "controlplane-worker" in hpas:
    kinds = {m["type"] for m in hpas["controlplane-worker"]["spec"].get("metrics", [])}
    if "External" not in kinds:
        problems.append("the worker HPA does not scale on an external (queue depth) metric")
pdb_targets = {p["metadata"]["name"] for p in by_kind.get("PodDisruptionBudget", [])}
for wanted in ("controlplane-api", "controlplane-worker"):
    if wanted not in pdb_targets:
        problems.append(f"no PodDisruptionBudget for {wanted}")
if not by_kind.get("NetworkPolicy"):
    problems.append("no NetworkPolicy")
for secret in by_kind.get("Secret", []):
    if secret.get("data") or secret.get("stringData"):
        problems.append(f"Secret {secret['metadata']['name']} carries values in the rendered manifests")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
