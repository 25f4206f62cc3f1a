"""The deployment files in deploy/, each checked against what reads it.

- deploy/dagster.yaml and deploy/docker/dagster.yaml: Dagster's own instance schema (the function
  that loads `dagster.yaml` from DAGSTER_HOME), then a real instance built from them; the launcher's
  own config schema when its package (dependency group `deploy`) is installed.
- deploy/docker/compose.yaml and workspace.yaml: consistent with that dagster.yaml and the image.
- deploy/helm/values.yaml: the Helm chart's key names, and the instance config the chart renders
  from it checked by Dagster's schemas; the chart's values.schema.json when a chart is at hand.
- deploy/Dockerfile: copies what the package reads at run time; built and run when asked to.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest
import yaml

from crm_pipeline import paths
from dagster_defs.dagster_private import (
    PARTITION_NAME_TAG,
    ConfigurableClassData,
    RunLauncher,
    TagConcurrencyLimitsCounter,
    dagster_instance_config,
    validate_config,
)

REPO = paths.REPO_ROOT
DEPLOY = REPO / "deploy"
# What every deployment promises: never two runs of one tenant partition at once.
PER_TENANT = {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
HOME = "/crm_home"


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def instance_dir(tmp_path: Path, source: Path, storage: dict | None = None) -> Path:
    """A DAGSTER_HOME holding a copy of `source`; with `storage`, that storage instead of the
    file's own (a Postgres server is not at hand here; the file's storage entry is checked by
    `dagster_instance_config` on the untouched copy)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = load(source)
    if storage is not None:
        config["storage"] = storage
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return home


def copied(tmp_path: Path, source: Path) -> Path:
    home = tmp_path / "as_written"
    home.mkdir()
    shutil.copy(source, home / "dagster.yaml")
    return home


def run_with(tags: dict[str, str]) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="refresh_everything", tags=tags)


def importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def validate_launcher_config(module: str, class_name: str, config: dict) -> None:
    """The launcher class's own config schema accepts `config` (shape only: `{env: X}` values
    stay unresolved, as they do in a dagster.yaml until the process that reads it starts)."""
    launcher = getattr(__import__(module, fromlist=[class_name]), class_name)
    result = validate_config(launcher.config_type(), config)
    assert result.success, [error.message for error in result.errors]


def env_names(node) -> set[str]:
    """Every environment variable a Dagster config reads through `{env: NAME}`."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(env_names(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(env_names(v) for v in node)) if node else set()
    return set()


# ---------------------------------------------------------------- one machine: deploy/dagster.yaml


def test_single_machine_config_passes_dagsters_instance_schema(tmp_path):
    config, custom_class = dagster_instance_config(str(copied(tmp_path, DEPLOY / "dagster.yaml")))
    assert custom_class is None
    assert config["run_coordinator"]["config"]["tag_concurrency_limits"] == [PER_TENANT]
    assert config["telemetry"] == {"enabled": False}
    # No storage entry: `crm run` keeps its pooled SQLite storage (dagster_defs/storage.py).
    assert not {"storage", "run_storage", "event_log_storage"} & set(config)


def test_single_machine_instance_queues_runs_one_per_tenant_each_in_its_own_process(tmp_path):
    with dg.DagsterInstance.from_config(str(copied(tmp_path, DEPLOY / "dagster.yaml"))) as inst:
        assert isinstance(inst.run_coordinator, dg.QueuedRunCoordinator)
        assert isinstance(inst.run_launcher, dg.DefaultRunLauncher)
        queue = inst.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 2  # this machine's cores: see the file's comment
        assert queue.tag_concurrency_limits == [PER_TENANT]
        assert not inst.telemetry_enabled


def test_the_limit_is_keyed_on_the_tag_dagster_puts_on_partition_runs():
    assert PER_TENANT["key"] == PARTITION_NAME_TAG


def test_a_partitioned_run_carries_its_tenant_in_that_tag():
    tenants = dg.DynamicPartitionsDefinition(name="tenants")

    @dg.asset(partitions_def=tenants)
    def shard_table(context) -> str:
        return context.partition_key

    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tenants", ["acme"])
        result = dg.materialize([shard_table], instance=instance, partition_key="acme")
        assert result.success
        assert result.dagster_run.tags[PARTITION_NAME_TAG] == "acme"


def test_the_queue_holds_a_tenants_second_run_and_starts_other_tenants(tmp_path):
    with dg.DagsterInstance.from_config(str(copied(tmp_path, DEPLOY / "dagster.yaml"))) as inst:
        limits = inst.get_concurrency_config().run_queue_config.tag_concurrency_limits
    in_progress = [run_with({PARTITION_NAME_TAG: "acme"})]
    counter = TagConcurrencyLimitsCounter(limits, in_progress)  # what the daemon's dequeue uses
    assert counter.is_blocked(run_with({PARTITION_NAME_TAG: "acme"}))
    assert not counter.is_blocked(run_with({PARTITION_NAME_TAG: "brit"}))
    assert not counter.is_blocked(run_with({}))


# ------------------------------------------------ Docker: deploy/docker/{dagster,compose,workspace}


DOCKER = DEPLOY / "docker"


def test_docker_config_passes_dagsters_instance_schema(tmp_path):
    config, _ = dagster_instance_config(str(copied(tmp_path, DOCKER / "dagster.yaml")))
    assert set(config["storage"]) == {"postgres"}
    assert config["run_launcher"]["module"] == "dagster_docker"
    assert config["run_coordinator"]["config"]["tag_concurrency_limits"] == [PER_TENANT]


def test_docker_instance_has_the_queue_with_the_per_tenant_limit(tmp_path):
    sqlite = {"sqlite": {"base_dir": str(tmp_path / "storage")}}
    home = instance_dir(tmp_path, DOCKER / "dagster.yaml", storage=sqlite)
    with dg.DagsterInstance.from_config(str(home)) as inst:
        assert isinstance(inst.run_coordinator, dg.QueuedRunCoordinator)
        assert inst.get_concurrency_config().run_queue_config.tag_concurrency_limits == [PER_TENANT]
        assert inst.run_retries_max_retries == 1
        if importable("dagster_docker"):
            from dagster_docker import DockerRunLauncher

            launcher = inst.run_launcher  # built from the file's config by Dagster itself
            assert isinstance(launcher, DockerRunLauncher)
            assert f"atlas_crm_home:{HOME}" in launcher.container_kwargs["volumes"]


def test_docker_launcher_config_fits_the_launcher():
    config = load(DOCKER / "dagster.yaml")["run_launcher"]["config"]
    if importable("dagster_docker"):
        validate_launcher_config("dagster_docker", "DockerRunLauncher", config)
    # Without the package (CI syncs only the default and dev groups): the keys the launcher
    # declares, and what Docker's container create refuses in container_kwargs.
    assert set(config) <= {"image", "network", "networks", "registry", "env_vars",
                           "container_kwargs"}
    assert not {"image", "environment", "network"} & set(config["container_kwargs"])
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*(=.*)?", v) for v in config["env_vars"])


def test_docker_files_agree_with_each_other_and_the_image():
    instance = load(DOCKER / "dagster.yaml")
    launcher = instance["run_launcher"]["config"]
    compose = load(DOCKER / "compose.yaml")
    services = compose["services"]
    image = services["code_server"]["image"]

    # The run containers mount the volume and join the network that compose creates, by name.
    volume, target = launcher["container_kwargs"]["volumes"][0].split(":")
    assert (volume, target) == (compose["volumes"]["crm_home"]["name"], HOME)
    assert launcher["network"] == compose["networks"]["atlas_crm"]["name"]
    # Runs use the image the code server reports.
    assert services["code_server"]["environment"]["DAGSTER_CURRENT_IMAGE"] == image
    # Every service shares the home, at the image's CRM_HOME.
    for name in ("init", "code_server", "webserver", "daemon", "cli"):
        assert f"crm_home:{HOME}" in services[name]["volumes"], name
        assert services[name]["image"] == image, name
    # The instance file lands where the image's DAGSTER_HOME is.
    dagster_home = dockerfile_env()["DAGSTER_HOME"]
    assert f"{dagster_home}/dagster.yaml" in " ".join(services["init"]["command"])
    # The variables the instance reads, and those passed on to runs, are set on the daemon.
    daemon_env = services["daemon"]["environment"]
    assert env_names(instance) <= set(daemon_env)
    assert {v.split("=")[0] for v in launcher["env_vars"]} <= set(daemon_env)
    # The webserver and the daemon load the code location the code server serves.
    server = load(DOCKER / "workspace.yaml")["load_from"][0]["grpc_server"]
    command = services["code_server"]["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-p") + 1] == str(server["port"])
    assert command[command.index("-m") + 1] == "dagster_defs.definitions"
    assert server["host"] == "code_server"


def compose_tool() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_file_passes_compose_own_check():
    tool = compose_tool()
    if tool is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    env = {**os.environ, "DOCKER_GID": "999", "DAGSTER_PG_PASSWORD": "checked-not-used"}
    check = subprocess.run([*tool, "-f", str(DOCKER / "compose.yaml"), "config", "-q"],
                           capture_output=True, text=True, env=env, cwd=DOCKER)
    assert check.returncode == 0, check.stderr


# ---------------------------------------------------------------- Kubernetes: deploy/helm


HELM = DEPLOY / "helm"
# Key names of the `dagster/dagster` chart's schema for Dagster 1.13 (helm/dagster/schema in
# dagster-io/dagster), for the sections these values set.
CHART_KEYS = {
    "top": {"dagsterWebserver", "dagster-user-deployments", "postgresql",
            "generatePostgresqlPasswordSecret", "generateCeleryConfigSecret", "rabbitmq",
            "redis", "flower", "ingress", "imagePullSecrets", "computeLogManager", "scheduler",
            "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate", "telemetry",
            "serviceAccount", "global", "retention", "concurrency",
            "additionalInstanceConfig"},
    "userDeployments": {"enabled", "enableSubchart", "imagePullSecrets", "deployments"},
    "deployment": {"name", "image", "dagsterApiGrpcArgs", "codeServerArgs",
                   "includeConfigInLaunchedRuns", "deploymentNamespace", "port", "replicaCount",
                   "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector",
                   "affinity", "tolerations", "podSecurityContext", "securityContext",
                   "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels",
                   "volumeMounts", "volumes", "schedulerName", "initContainers",
                   "sidecarContainers", "deploymentStrategy"},
    "image": {"repository", "tag", "pullPolicy"},
    "runLauncher": {"type", "config"},
    "k8sRunLauncher": {"image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig",
                       "kubeconfigFile", "envConfigMaps", "envSecrets", "envVars",
                       "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
                       "schedulerName", "securityContext", "runK8sConfig"},
    "runK8sConfig": {"containerConfig", "podSpecConfig", "podTemplateSpecMetadata",
                     "jobSpecConfig", "jobMetadata"},
    "runCoordinator": {"enabled", "type", "config"},
    "queuedRunCoordinator": {"maxConcurrentRuns", "tagConcurrencyLimits",
                             "dequeueIntervalSeconds", "dequeueNumWorkers", "dequeueUseThreads",
                             "blockOpConcurrencyLimitedRuns"},
    "tagConcurrencyLimit": {"key", "value", "limit"},
    "runRetries": {"enabled", "maxRetries", "retryOnAssetOrOpFailure"},
    "daemonThreads": {"useThreads", "numWorkers", "numSubmitWorkers"},
}
# Fields the chart's models require in these sections with no chart default to fall back on.
REQUIRED = {"deployment": {"name", "image", "port"}, "image": {"repository", "pullPolicy"}}


def helm_values() -> dict:
    return load(HELM / "values.yaml")


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_keys(node):
    if isinstance(node, dict):
        return {snake(k): snake_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [snake_keys(v) for v in node]
    return node


def rendered_instance(values: dict, namespace: str = "atlas-crm") -> dict:
    """The sections of the dagster.yaml that the chart's configmap-instance template writes from
    these values: the daemon's schedules, sensors and run retries, the run queue
    (dagsterYaml.runCoordinator.queued) and the run launcher (dagsterYaml.runLauncher.k8s).
    camelCase keys become Dagster's snake_case, the tag limits are copied as they are, and
    DAGSTER_HOME, the instance configmap and the Postgres secret come from the environment the
    chart gives every pod."""
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator = {"max_concurrent_runs": queued["maxConcurrentRuns"],
                   "tag_concurrency_limits": queued["tagConcurrencyLimits"]}
    for key in ("dequeueIntervalSeconds", "dequeueUseThreads", "dequeueNumWorkers"):
        if key in queued:
            coordinator[snake(key)] = queued[key]
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or namespace,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": "atlas-crm-dagster",
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}]
        + [m["name"] for m in k8s["envConfigMaps"]],
        "env_secrets": [s["name"] for s in k8s["envSecrets"]],
        "env_vars": k8s["envVars"],
        "volume_mounts": k8s["volumeMounts"],
        "volumes": k8s["volumes"],
        "resources": k8s["resources"],
        "labels": k8s["labels"],
        "run_k8s_config": snake_keys(k8s["runK8sConfig"]),
    }
    daemon = values["dagsterDaemon"]
    return {
        **{section: snake_keys(daemon[section]) for section in ("schedules", "sensors")},
        "run_retries": snake_keys(daemon["runRetries"]),
        "run_coordinator": {"module": "dagster.core.run_coordinator",
                            "class": "QueuedRunCoordinator",
                            "config": coordinator},
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def assert_keys(section: dict, kind: str) -> None:
    unknown = set(section) - CHART_KEYS[kind]
    assert not unknown, f"{kind}: keys the chart does not know: {sorted(unknown)}"
    missing = REQUIRED.get(kind, set()) - set(section)
    assert not missing, f"{kind}: keys the chart requires: {sorted(missing)}"


def test_helm_values_use_the_charts_key_names():
    values = helm_values()
    assert_keys(values, "top")
    user = values["dagster-user-deployments"]
    assert_keys(user, "userDeployments")
    for deployment in user["deployments"]:
        assert_keys(deployment, "deployment")
        assert_keys(deployment["image"], "image")
        assert isinstance(deployment["image"]["tag"], str)  # "0.1" unquoted would be a float
    launcher = values["runLauncher"]
    assert_keys(launcher, "runLauncher")
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {"k8sRunLauncher"}
    assert_keys(launcher["config"]["k8sRunLauncher"], "k8sRunLauncher")
    assert_keys(launcher["config"]["k8sRunLauncher"]["runK8sConfig"], "runK8sConfig")
    daemon = values["dagsterDaemon"]
    assert_keys(daemon["runCoordinator"], "runCoordinator")
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert_keys(queued, "queuedRunCoordinator")
    for limit in queued["tagConcurrencyLimits"]:
        assert_keys(limit, "tagConcurrencyLimit")
    assert_keys(daemon["runRetries"], "runRetries")
    for section in ("schedules", "sensors"):
        assert_keys(daemon[section], "daemonThreads")
        assert "useThreads" in daemon[section]  # the chart's model requires it
    # The chart refuses runs limits set both here and under `concurrency.runs`.
    assert "concurrency" not in values


def test_helm_code_location_and_run_pods_share_the_home():
    values = helm_values()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["codeServerArgs"] == ["-m", "dagster_defs.definitions"]
    assert "dagsterApiGrpcArgs" not in deployment  # the chart would take it over codeServerArgs
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert deployment["volumes"] == k8s["volumes"]
    assert deployment["volumeMounts"] == k8s["volumeMounts"] == [
        {"name": "crm-home", "mountPath": HOME}]
    (volume,) = k8s["volumes"]
    pvc = load(HELM / "crm-home-pvc.yaml")
    assert volume["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # Run pods get their settings from the launcher alone (see the comment in values.yaml).
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": False}
    assert {"requests", "limits"} <= set(k8s["resources"])
    user = deployment["podSecurityContext"]["runAsUser"]
    assert user == k8s["runK8sConfig"]["podSpecConfig"]["securityContext"]["runAsUser"] == 10001
    assert f"--uid {user}" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_helm_rendered_instance_config_passes_dagsters_schemas(tmp_path):
    rendered = rendered_instance(helm_values())
    assert rendered["run_coordinator"]["config"]["tag_concurrency_limits"] == [PER_TENANT]
    home = tmp_path / "rendered"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(rendered), encoding="utf-8")
    config, _ = dagster_instance_config(str(home))
    assert config["schedules"]["num_submit_workers"] == 8
    # The run queue exactly as the daemon builds it from that file.
    data = rendered["run_coordinator"]
    coordinator = ConfigurableClassData(data["module"], data["class"],
                                        yaml.safe_dump(data["config"])).rehydrate()
    assert isinstance(coordinator, dg.QueuedRunCoordinator)
    assert coordinator.get_run_queue_config().tag_concurrency_limits == [PER_TENANT]
    assert coordinator.get_run_queue_config().max_concurrent_runs == 35


def test_helm_rendered_run_launcher_config_fits_the_k8s_run_launcher():
    if not importable("dagster_k8s"):
        pytest.skip("dagster-k8s is not installed (uv sync --group deploy); without it the "
                    "launcher's section is checked for the chart's key names only")
    from dagster_k8s import K8sRunLauncher

    assert issubclass(K8sRunLauncher, RunLauncher)
    validate_launcher_config("dagster_k8s", "K8sRunLauncher",
                             rendered_instance(helm_values())["run_launcher"]["config"])


def coalesced(chart_values: dict, ours: dict) -> dict:
    """Helm's merge of a values file over the chart's: maps merge, anything else is replaced."""
    merged = dict(chart_values)
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesced(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_helm_values_pass_the_charts_values_schema():
    """Against the chart itself: set DAGSTER_HELM_CHART to a chart unpacked by
    `helm pull dagster/dagster --version 1.13.27 --untar` (its values.yaml and
    values.schema.json), with jsonschema installed. The schema is not copied into this
    repository: it is the chart's, and changes with each chart version."""
    chart = os.environ.get("DAGSTER_HELM_CHART")
    if not chart:
        pytest.skip("DAGSTER_HELM_CHART is not set (no chart at hand; this machine reaches no "
                    "Helm repository)")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    chart = Path(chart)
    schema = json.loads((chart / "values.schema.json").read_text(encoding="utf-8"))
    merged = coalesced(load(chart / "values.yaml"), helm_values())
    jsonschema.validate(merged, schema)


# ---------------------------------------------------------------- the image: deploy/Dockerfile


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def dockerfile_env() -> dict[str, str]:
    env = {}
    for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", dockerfile(), flags=re.M):
        for pair in shlex.split(block.replace("\\\n", " ")):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def copy_sources() -> set[str]:
    """What the Dockerfile's COPY instructions take from the build context."""
    sources = set()
    for line in re.findall(r"^COPY ([^\n]+)", dockerfile(), flags=re.M):
        sources |= {s.rstrip("/").removeprefix("./") for s in line.split()[:-1]}
    return sources


def test_dockerfile_installs_the_locked_project_with_what_it_reads_at_run_time():
    text = dockerfile()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, flags=re.M)
    syncs = re.findall(r"uv sync ([^\n\\&]*)", text)
    assert syncs and all("--frozen" in s and "--no-dev" in s and "--group deploy" in s
                         for s in syncs)
    copied_paths = copy_sources()
    wheel = load_toml()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    runtime_dirs = {p.relative_to(REPO).parts[0] for p in (paths.SQL_DIR, paths.DATA_DIR)}
    assert set(wheel) | runtime_dirs | {"pyproject.toml", "uv.lock"} <= copied_paths
    env = dockerfile_env()
    assert env["CRM_HOME"] == HOME and env["DAGSTER_HOME"] == f"{HOME}/dagster"
    assert env["PATH"].startswith("/app/.venv/bin:")
    users = re.findall(r"^USER (\S+)$", text, flags=re.M)
    assert users and users[-1] not in {"root", "0"}
    # An init only: run launchers and people give the whole command (dagster ... or crm ...).
    assert re.search(r'^ENTRYPOINT \["tini", "--"\]$', text, flags=re.M)
    assert re.search(r'^CMD \["crm", "--help"\]$', text, flags=re.M)


def test_dockerignore_keeps_the_context_to_what_the_image_copies():
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    assert copy_sources() <= allowed
    assert not {".venv", "crm_home", "tests", "bench", ".git"} & allowed


def load_toml() -> dict:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_deploy_dependencies_move_with_dagster():
    project = load_toml()
    dagster = next(d for d in project["project"]["dependencies"] if d.startswith("dagster=="))
    minor = dagster.split("==")[1].split(".")[1:]  # 1.13.27 -> libraries 0.29.27
    for requirement in project["dependency-groups"]["deploy"]:
        name, version = requirement.split("==")
        if name == "dagster-webserver":
            assert version == dagster.split("==")[1]
        else:
            assert version == f"0.{int(minor[0]) + 16}.{minor[1]}", requirement
    assert "deploy" not in project["dependency-groups"]["dev"]


ENGINES = ("docker", "podman", "buildah")


def engine() -> str | None:
    chosen = os.environ.get("CRM_TEST_IMAGE_ENGINE")
    for name in ([chosen] if chosen else ENGINES):
        works = shutil.which(name) and subprocess.run([name, "info"], capture_output=True)
        if works and works.returncode == 0:
            return name
    return None


@pytest.mark.slow
def test_image_builds_and_runs_crm_as_a_user(tmp_path):
    """Builds deploy/Dockerfile and runs the CLI and the code location's module in it.
    Opt-in (CRM_TEST_IMAGE_BUILD=1): the build downloads the locked wheels (about 250 MB) and
    takes minutes. CRM_TEST_BASE_IMAGE replaces python:3.11-slim where no registry is reachable;
    buildah honours BUILDAH_ISOLATION (chroot where the machine allows no OCI runtime)."""
    if os.environ.get("CRM_TEST_IMAGE_BUILD") != "1":
        pytest.skip("set CRM_TEST_IMAGE_BUILD=1 to build the image (minutes, network)")
    tool = engine()
    if tool is None:
        pytest.skip("no working container engine (docker, podman or buildah)")
    tag = "localhost/atlas-crm:test"
    build = [tool, "bud" if tool == "buildah" else "build", "-f", str(DEPLOY / "Dockerfile"),
             "-t", tag]
    if base := os.environ.get("CRM_TEST_BASE_IMAGE"):
        build += ["--build-arg", f"BASE_IMAGE={base}"]
    subprocess.run([*build, str(REPO)], check=True, capture_output=True, timeout=3600)

    def inside(*command: str) -> str:
        if tool == "buildah":
            box = subprocess.run([tool, "from", tag], check=True, capture_output=True,
                                 text=True).stdout.strip()
            try:
                return subprocess.run([tool, "run", box, "--", *command],
                                      check=True, capture_output=True, text=True).stdout
            finally:
                subprocess.run([tool, "rm", box], capture_output=True)
        return subprocess.run([tool, "run", "--rm", tag, *command], check=True,
                              capture_output=True, text=True).stdout

    assert "import" in inside("crm", "--help")
    assert inside("id", "-u").strip() == "10001"
    loaded = inside("python", "-c", "import os; import dagster_defs.definitions as d; "
                    "print(os.environ['DAGSTER_HOME'], sorted(j.name for j in "
                    "d.defs.resolve_all_job_defs()))")
    assert loaded.startswith(f"{HOME}/dagster ") and "refresh_everything" in loaded
