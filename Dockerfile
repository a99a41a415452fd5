# One image for every conveyor process: `docker run conveyor <service> [args]` runs
# `conveyor run <service>` (gateway, welcome-email, payments, ...).
#
# The code lives at /app as in the repository: the working directory /app is the project whose
# [tool.conveyor] (pyproject.toml) names the Avro contracts in /app/schemas. It installs both
# distributions: the conveyor library and the reference pipeline (services/pyproject.toml).

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# a C compiler: the install compiles the per-event path with mypyc (setup.py); the runtime
# stage needs none
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY services/pyproject.toml ./services/
RUN /opt/venv/bin/python -c "import subprocess, tomllib; \
lib = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
ref = tomllib.load(open('services/pyproject.toml', 'rb'))['project']; \
deps = lib['dependencies'] + lib['optional-dependencies']['postgres'] \
    + [d for d in ref['dependencies'] if not d.startswith('conveyor')]; \
subprocess.check_call(['/opt/venv/bin/pip', 'install', *deps])"
COPY setup.py ./
COPY services ./services
COPY schemas ./schemas
RUN /opt/venv/bin/pip install --no-deps -e . -e ./services \
    && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CONVEYOR_STATE_DIR=/var/lib/conveyor \
    CONVEYOR_CACHE_DIR=/tmp/conveyor-cache
RUN groupadd --system --gid 10001 conveyor \
    && useradd --system --uid 10001 --gid conveyor --home-dir /var/lib/conveyor --create-home conveyor
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8080 9400
ENTRYPOINT ["conveyor", "run"]
CMD ["gateway"]
