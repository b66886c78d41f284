# syntax=docker/dockerfile:1
# One image for every component: `todo serve gateway|tasks|notify|recur|audit|live`, and the
# chart's Jobs `todo migrate` and `todo topics`. Build:
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     -t registry.example.com/todo:0.1.0 .
# It installs the project without the `local` extra: the embedded PostgreSQL and the Tansu broker
# of `todo up` are development servers, and a cluster runs its own.

# The base image. Pin it by digest for reproducible builds, e.g.
#   --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest>
# with the digest of `docker buildx imagetools inspect python:3.11-slim-bookworm` (the tag alone
# moves with every Debian and Python patch release).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Build stage: resolve and install the project and its pinned dependencies into a venv.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/todo
COPY pyproject.toml README.md ./
COPY todo_contracts ./todo_contracts
COPY todo_runtime ./todo_runtime
COPY todo_recurrence ./todo_recurrence
COPY todo_quickadd ./todo_quickadd
COPY todo_transparency ./todo_transparency
COPY todo_cli ./todo_cli
COPY gateway ./gateway
COPY svc_tasks ./svc_tasks
COPY svc_recur ./svc_recur
COPY svc_notify ./svc_notify
COPY svc_audit ./svc_audit
COPY svc_live ./svc_live
RUN /opt/todo/bin/pip install . \
    && /opt/todo/bin/python -m compileall -q /opt/todo/lib

# Runtime stage: the venv alone on a slim base, no compilers or build tools, as a non-root user.
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
# The source's commit: in the image's labels, and in TODO_REVISION for `todo --version` and every
# component's todo_build_info metric.
ARG REVISION=unknown
LABEL org.opencontainers.image.title="todo" \
      org.opencontainers.image.description="Event-driven task platform: GraphQL gateway and gRPC services (todo serve NAME)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/todo-platform/todo"
RUN groupadd --system --gid 10001 todo \
    && useradd --system --uid 10001 --gid todo --no-create-home --home-dir /tmp todo
COPY --from=build /opt/todo /opt/todo
ENV PATH=/opt/todo/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TODO_BIND_HOST=0.0.0.0 \
    TODO_GATEWAY_HOST=0.0.0.0 \
    TODO_REVISION=${REVISION}
USER 10001:10001
EXPOSE 8000 50051 50052 50053 50054 50055
ENTRYPOINT ["todo"]
CMD ["serve", "gateway"]
