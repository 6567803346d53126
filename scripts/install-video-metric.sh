#!/bin/sh
# Installs what the video benchmark's flicker measure needs (Debian packages): /usr/bin/python3 with OpenCV and numpy
# for ../shared/metrics/warp_error.py, and the real test clip (bench/fetch-clip.sh). Idempotent; needs root or
# password-less sudo and apt-get.
set -eu

PY=/usr/bin/python3
if ! "$PY" -c 'import cv2, numpy' 2>/dev/null; then
  command -v apt-get >/dev/null 2>&1 || { echo "install-video-metric: apt-get not found (Debian/Ubuntu only); install python3-opencv python3-numpy by hand" >&2; exit 1; }
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-video-metric: not root and no password-less sudo: cannot run apt-get" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends python3-opencv python3-numpy
fi
"$PY" -c 'import cv2; print("install-video-metric: OpenCV", cv2.__version__)'
sh "$(dirname "$0")/../bench/fetch-clip.sh"
