#!/usr/bin/env bash
# Installs the Debian packages SwiftMate builds and tests with (only those missing), through sudo when not root.
set -euo pipefail
packages=(pkg-config libssh-dev liblz4-dev zlib1g-dev libvterm-dev openssh-client tmux asciinema)
# msgpack-c: libmsgpack-dev on Debian 12, libmsgpack-c-dev on Debian 13 / Ubuntu 24.04.
if apt-cache show libmsgpack-c-dev >/dev/null 2>&1; then packages+=(libmsgpack-c-dev); else packages+=(libmsgpack-dev); fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "swift is not on PATH: install Swift 6 (https://www.swift.org/install/linux/) and run this again." >&2
  exit 1
fi
