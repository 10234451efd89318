# Tune or Prompt: the calculator and its API, served by uvicorn with several workers.
#
#   make image            # docker build -t tune-or-prompt .
#   docker run --read-only -p 8000:8000 tune-or-prompt
#
# Needs PyPI at build time only (the dependencies, and tiktoken's encodings, fetched from
# their URL or from PyPI); at run time it reads nothing from outside the image and writes
# nothing (works with a read-only root). Settings are environment variables:
# docs/settings.md. Deployment, corporate proxies and offline bases: docs/deploy.md.
#
# Where companies build (docs/deploy.md):
#   --secret id=ca_bundle,src=corp-ca.pem   a TLS-intercepting proxy's CA for the build's
#                                           downloads; mounted per step, never in a layer
#   --build-arg BASE_IMAGE=...              a mirrored python image, or `make base-image`'s
#                                           Debian-packaged one when Docker Hub is unreachable
#   --build-arg PIP_INDEX_URL=...           a PyPI mirror

ARG BASE_IMAGE=python:3.11.14-slim-bookworm

# ---- build: dependencies and tiktoken's encodings -----------------------------------------
FROM ${BASE_IMAGE} AS build

# A PyPI mirror for the build's downloads (pip reads it from the environment). Only this
# stage sees it, but the builder's cache keeps it: no credentials in this URL.
ARG PIP_INDEX_URL=https://pypi.org/simple

# DL3064 matches "TOKEN" in TIKTOKEN_CACHE_DIR, a path and no secret.
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TIKTOKEN_CACHE_DIR=/opt/tiktoken

RUN python -m venv /opt/venv

# The runtime dependencies of pyproject.toml, without the test extras. The app itself is not
# pip-installed: it finds static/, templates/ and pricing_data/ beside its package
# (app/settings.py ROOT), so it runs from its source tree in /srv/app.
WORKDIR /srv/app
COPY pyproject.toml constraints.txt ./
COPY docker/with-ca.sh /usr/local/bin/with-ca
# with-ca: when the optional ca_bundle secret is given, the downloads of this step trust it
# (added to the system's CAs in a tmpfs); without it, it changes nothing.
RUN --mount=type=secret,id=ca_bundle --mount=type=tmpfs,target=/run/ca \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && with-ca pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source tree less what .dockerignore leaves out (tests, bench, docs, local state, .env).
COPY . ./

# Fetch o200k_base and cl100k_base and check them against tiktoken's own SHA-256: a failed
# check fails the build, and the image never downloads an encoding at run time.
RUN --mount=type=secret,id=ca_bundle --mount=type=tmpfs,target=/run/ca \
    with-ca python -m app.domain.encodings prepare --cache-dir "$TIKTOKEN_CACHE_DIR"

# Compile once here: at run time nothing writes .pyc files (PYTHONDONTWRITEBYTECODE, read-only root).
RUN python -m compileall -q /srv/app/app \
    && python -c "import app.main"

# ---- run ----------------------------------------------------------------------------------
FROM ${BASE_IMAGE}

# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TIKTOKEN_CACHE_DIR=/opt/tiktoken \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2 \
    FORWARDED_ALLOW_IPS=127.0.0.1

# A system user with no home and no shell; numeric so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/tiktoken /opt/tiktoken
COPY --from=build /srv/app /srv/app
WORKDIR /srv/app

USER 10001:10001
EXPOSE 8000

# slim has no curl: ask /healthz with the standard library.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]

ENTRYPOINT ["python", "-m", "app"]
