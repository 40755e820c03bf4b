"""compose/: the Dockerfile and docker-compose.yml parse (`docker compose
config` when the plugin is there, else PyYAML), describe the stack the
operations guide promises (scheduler with a data volume, gateway, webhooker,
a scalable renderer, certificates mounted, healthchecks on /healthz and
/readyz, CURVE on the non-loopback bus; docker-compose.scale.yml over it:
MinIO holding the blobs, a standby scheduler on the same data volume, every
client given both schedulers' endpoints), and every EASEL_* variable they set
is one some service actually reads (found in the C sources)."""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE = os.path.join(ROOT, "compose")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)


def read(path):
    with open(path) as f:
        return f.read()


# ---- syntax ---------------------------------------------------------------
compose_file = os.path.join(COMPOSE, "docker-compose.yml")
doc = yaml.safe_load(read(compose_file))
plugin = subprocess.run(["docker", "compose", "version"], capture_output=True) \
    if any(os.access(os.path.join(p, "docker"), os.X_OK) for p in os.environ["PATH"].split(":")) else None
if plugin is not None and plugin.returncode == 0:
    out = subprocess.run(["docker", "compose", "-f", compose_file, "config", "-q"],
                         capture_output=True, timeout=60)
    check(out.returncode == 0, "docker compose config: " + out.stderr.decode())
else:
    print("test_compose: docker compose plugin absent; checked with PyYAML", file=sys.stderr)

# ---- shape ----------------------------------------------------------------
services = doc.get("services", {})
for name in ("scheduler", "gateway", "webhooker", "renderer"):
    check(name in services, "service %s missing" % name)
sched, gw, rend = services.get("scheduler", {}), services.get("gateway", {}), services.get("renderer", {})
check(any(str(v).startswith("data:/data") for v in sched.get("volumes", [])), "scheduler data volume")
check(sched.get("environment", {}).get("EASEL_DATA") == "/data", "scheduler EASEL_DATA=/data")
for name, svc in services.items():
    if name == "certs":
        continue
    check(any(str(v).startswith("certs:/certs") for v in svc.get("volumes", [])),
          "%s mounts the certificates" % name)
    env = svc.get("environment", {})
    check(str(env.get("EASEL_CURVE_CERT", "")).endswith("_secret"), "%s has its secret certificate" % name)
    if name == "scheduler":
        check(env.get("EASEL_CURVE_ALLOWED_DIR"), "scheduler has an allowed directory")
    else:
        check(env.get("EASEL_CURVE_SERVER_KEY") == "/certs/scheduler", "%s knows the scheduler key" % name)
    check("healthcheck" in svc, "%s has a healthcheck" % name)
gw_check = " ".join(gw.get("healthcheck", {}).get("test", []))
check("/healthz" in gw_check and "/readyz" in gw_check, "gateway healthcheck uses /healthz and /readyz")
check("8080:8080" in [str(p) for p in gw.get("ports", [])], "gateway publishes 8080")
check(rend.get("deploy", {}).get("replicas", 0) >= 1 and "container_name" not in rend and "ports" not in rend,
      "renderer can be scaled (replicas, no fixed name or published port)")
check(rend.get("stop_grace_period"), "renderer has a stop grace period for draining")
check(set(doc.get("volumes", {})) >= {"data", "certs"}, "named volumes data and certs")

# ---- scaled out: docker-compose.scale.yml over the base file --------------
scale_file = os.path.join(COMPOSE, "docker-compose.scale.yml")
scale = yaml.safe_load(read(scale_file))
if plugin is not None and plugin.returncode == 0:
    out = subprocess.run(["docker", "compose", "-f", compose_file, "-f", scale_file, "config", "-q"],
                         capture_output=True, timeout=60,
                         env=dict(os.environ, MINIO_ROOT_PASSWORD="test-only-password"))
    check(out.returncode == 0, "docker compose config (scale): " + out.stderr.decode())
merged = {}
for name in set(services) | set(scale.get("services", {})):
    base, over = services.get(name, {}), scale.get("services", {}).get(name, {})
    svc = dict(base, **over)
    svc["environment"] = dict(base.get("environment", {}), **over.get("environment", {}))
    merged[name] = svc
for name in ("minio", "minio-bucket", "scheduler-standby"):
    check(name in merged, "scale: service %s missing" % name)
standby = merged.get("scheduler-standby", {})
check("--standby" in standby.get("command", []), "scale: the second scheduler runs --standby")
check(any(str(v).startswith("data:/data") for v in standby.get("volumes", [])),
      "scale: the standby shares the scheduler's data volume (its lock is the arbiter)")
for name in ("scheduler", "scheduler-standby"):
    env = merged.get(name, {}).get("environment", {})
    check(str(env.get("EASEL_BLOB_URL", "")).startswith("s3://") and "minio:9000" in env.get("EASEL_BLOB_URL", ""),
          "scale: %s keeps blobs in MinIO" % name)
    check(env.get("EASEL_S3_SECRET_KEY") and env.get("EASEL_DATA") == "/data", "scale: %s has S3 keys and /data" % name)
for name in ("gateway", "webhooker", "renderer"):
    env = merged.get(name, {}).get("environment", {})
    for var in ("EASEL_API_ENDPOINT", "EASEL_WORK_ENDPOINT", "EASEL_EVENTS_ENDPOINT"):
        parts = str(env.get(var, "")).split(",")
        check(len(parts) == 2 and "scheduler:" in parts[0] and "scheduler-standby:" in parts[1],
              "scale: %s's %s names both schedulers: %r" % (name, var, env.get(var)))
check("blobs" in scale.get("volumes", {}), "scale: a named volume for MinIO's data")

dockerfile = read(os.path.join(COMPOSE, "Dockerfile"))
check(re.search(r"^FROM debian:12", dockerfile, re.M), "Dockerfile starts FROM debian:12")
check("scripts/deps.sh" in dockerfile and "cmake --install" in dockerfile,
      "Dockerfile installs packages with scripts/deps.sh and installs the build")

# ---- variables ------------------------------------------------------------
read_by_services = set()
for sub in ("scheduler", "gateway", "renderer", "webhooker", "common", "catalog", "cli"):
    for dirpath, _, files in os.walk(os.path.join(ROOT, sub)):
        for fn in files:
            if fn.endswith((".c", ".h")):      # settings rows may live in a shared macro
                read_by_services |= set(re.findall(r'"(EASEL_[A-Z0-9_]+)"', read(os.path.join(dirpath, fn))))
used = set()
for fn in ("docker-compose.yml", "docker-compose.scale.yml", "Dockerfile", ".env.example"):
    used |= set(re.findall(r"\b(EASEL_[A-Z0-9_]+)", read(os.path.join(COMPOSE, fn))))
check(len(used) >= 10, "compose uses the service variables (found %d)" % len(used))
for var in sorted(used - read_by_services):
    check(False, "%s is used in compose/ but no service reads it" % var)

if failures:
    print("test_compose: %d failed" % len(failures))
    sys.exit(1)
print("test_compose: 1 passed, 0 failed")
