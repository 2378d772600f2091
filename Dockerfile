# podalign in a container. Two targets:
#   docker build --target gpu -t podalign:gpu .   NVIDIA CUDA 12 runtime (cuBLAS 12: what CTranslate2 opens)
#   docker build --target cpu -t podalign:cpu .   slim Python, for CPU hosts
# No torch and no compilers in either: every dependency installs from a wheel. Bake a model in
# with --build-arg PRELOAD_MODEL=large-v3; the bundled tiny.en and base work offline anyway.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm
# CUDA 12.6 needs an NVIDIA driver 560.35 or newer on the host (the README says how to check).
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-runtime-ubuntu24.04

# ---- CPU ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS cpu-build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY docker/constraints.txt ./docker/
COPY pyproject.toml README.md ./
COPY alignment ./alignment
COPY app ./app
RUN python -m venv /opt/podalign \
    && /opt/podalign/bin/pip install --constraint docker/constraints.txt '.[distributed]'

FROM ${PYTHON_IMAGE} AS cpu
COPY --from=cpu-build /opt/podalign /opt/podalign
COPY docker/runtime.sh /usr/local/lib/podalign/runtime.sh
RUN sh /usr/local/lib/podalign/runtime.sh
USER 10001:10001
ENV PATH=/opt/podalign/bin:$PATH \
    PODALIGN_DATA_DIR=/data \
    PODALIGN_MODEL_CACHE_DIR=/models \
    HF_HOME=/models/hf \
    PODALIGN_MODEL=tiny.en \
    PODALIGN_HOST=0.0.0.0 \
    PODALIGN_PORT=8000
ARG PRELOAD_MODEL=""
RUN if [ -n "$PRELOAD_MODEL" ]; then podalign download-model "$PRELOAD_MODEL"; fi
VOLUME ["/data", "/models"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["podalign", "healthcheck"]
ENTRYPOINT ["podalign"]
CMD ["serve"]

# ---- GPU ---------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS gpu-build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY docker/constraints.txt ./docker/
COPY pyproject.toml README.md ./
COPY alignment ./alignment
COPY app ./app
RUN python3 -m venv /opt/podalign \
    && /opt/podalign/bin/pip install --constraint docker/constraints.txt '.[distributed]'

FROM ${CUDA_IMAGE} AS gpu
ENV DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=gpu-build /opt/podalign /opt/podalign
COPY docker/runtime.sh /usr/local/lib/podalign/runtime.sh
RUN sh /usr/local/lib/podalign/runtime.sh
USER 10001:10001
ENV PATH=/opt/podalign/bin:$PATH \
    PODALIGN_DATA_DIR=/data \
    PODALIGN_MODEL_CACHE_DIR=/models \
    HF_HOME=/models/hf \
    PODALIGN_MODEL=tiny.en \
    PODALIGN_DEVICE=auto \
    PODALIGN_HOST=0.0.0.0 \
    PODALIGN_PORT=8000 \
    CUDA_CACHE_PATH=/models/cuda-cache \
    CUDA_CACHE_MAXSIZE=1073741824
# CTranslate2's wheels carry no machine code for some GPUs (Hopper among them): the driver
# compiles their kernels at the first job (11 s on an H200) and keeps them in CUDA_CACHE_PATH,
# in the models volume, so that a new container does not compile them again.
ARG PRELOAD_MODEL=""
RUN if [ -n "$PRELOAD_MODEL" ]; then podalign download-model "$PRELOAD_MODEL"; fi
VOLUME ["/data", "/models"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD ["podalign", "healthcheck"]
ENTRYPOINT ["podalign"]
CMD ["serve"]
