# The toolchain image for suites that bring no image of their own (the built-in suite):
# Node 24, Python 3, git and patch. The repository is copied in at /testbed for each workspace.
# Built by `bench images build`; BASE may name another image with Node 24 (its tools are kept when present).
ARG BASE=docker.io/library/node:24-bookworm-slim
FROM ${BASE}
RUN if command -v python3 && command -v git && command -v patch; then :; else \
      apt-get update && apt-get install -y --no-install-recommends python3 git patch ca-certificates && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /testbed
