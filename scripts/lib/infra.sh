# Checks of infra/ with the real tools: promtool (alert rules, their unit tests, the scrape
# configuration), kustomize (kubectl's, or Debian's kubernetes-client when kubectl is missing) rendering
# the base and the production overlay, kubernetes-validate (PyPI) against the Kubernetes schemas, and
# Tests/infra/manifest_policy.py for what the manifests promise (security contexts, probes, scaling), and
# the Grafana dashboard's shape (which metrics it names is checked against a live server by the contract
# suite).
# shellcheck shell=bash

# check_infra PYTHON_BIN_DIR: the venv's bin folder with kubernetes-validate and PyYAML.
check_infra() {
    local bin=$1 rendered
    rendered=$(mktemp -d /tmp/controlplane-infra.XXXXXX)
    command -v promtool >/dev/null || ensure_packages prometheus
    command -v kubectl >/dev/null || ensure_packages kubernetes-client
    log "infra: promtool check rules, test rules, check config"
    promtool check rules infra/prometheus/alerts.yml
    promtool test rules infra/prometheus/alerts_test.yml
    promtool check config --syntax-only infra/prometheus/prometheus.yml
    log "infra: kustomize render and kubernetes-validate --strict"
    kubectl kustomize infra/k8s/base > "$rendered/base.yaml" 2> "$rendered/base.err" || { cat "$rendered/base.err" >&2; return 1; }
    kubectl kustomize infra/k8s/overlays/production > "$rendered/production.yaml" 2> "$rendered/production.err" \
        || { cat "$rendered/production.err" >&2; return 1; }
    "$bin/kubernetes-validate" --strict --quiet -k "${CP_KUBERNETES_VERSION:-1.29.0}" \
        "$rendered/base.yaml" "$rendered/production.yaml" infra/k8s/base/secret.example.yaml
    log "infra: manifest policy (security contexts, probes, resources, scaling)"
    "$bin/python" Tests/infra/manifest_policy.py --allow-latest < "$rendered/base.yaml"
    "$bin/python" Tests/infra/manifest_policy.py < "$rendered/production.yaml"
    "$bin/python" -c 'import sys, yaml
for path in sys.argv[1:]:
    list(yaml.safe_load_all(open(path)))' infra/k8s/monitoring/*.yaml
    log "infra: Grafana dashboard (a row repeated per tenant, every panel with a query)"
    "$bin/python" -c 'import json, sys
board = json.load(open(sys.argv[1]))
names = [v["name"] for v in board["templating"]["list"]]
assert "tenant" in names, "no tenant variable"
assert any(p.get("repeat") == "tenant" for p in board["panels"] if p["type"] == "row"), "no row per tenant"
for panel in board["panels"]:
    if panel["type"] != "row":
        assert panel.get("targets") and all(t.get("expr") for t in panel["targets"]), panel["title"]' \
        infra/grafana/controlplane.json
    rm -rf "$rendered"
}
