# One image for every conveyor process: `docker run conveyor <service> [args]` runs
# `conveyor run <service>` (gateway, welcome-email, payments, ...).
#
# The code lives at /app as in the repository, because the codec reads the Avro contracts from
# /app/schemas next to /app/services.

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
RUN /opt/venv/bin/python -c "import subprocess, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call(['/opt/venv/bin/pip', 'install', *deps])"
COPY setup.py ./
COPY services ./services
COPY schemas ./schemas
RUN /opt/venv/bin/pip install --no-deps -e . \
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
