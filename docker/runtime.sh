#!/bin/sh
# Shared by both image targets: an unprivileged user that owns the data and model volumes.
set -eu
groupadd --system --gid 10001 podalign
useradd --system --uid 10001 --gid podalign --home-dir /data --shell /usr/sbin/nologin podalign
mkdir -p /data /models
chown podalign:podalign /data /models
