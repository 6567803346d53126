#!/bin/sh
# Installs what the video benchmark's flicker measure needs (Debian packages): /usr/bin/python3 with OpenCV and numpy
# for ../shared/metrics/warp_error.py, and the real test clip (bench/fetch-clip.sh). Idempotent; needs root or
# password-less sudo and apt-get.
set -eu

PY=/usr/bin/python3
if ! "$PY" -c 'import cv2, numpy' 2>/dev/null; then
  sh "$(dirname "$0")/apt-install.sh" install-video-metric python3-opencv python3-numpy
fi
"$PY" -c 'import cv2; print("install-video-metric: OpenCV", cv2.__version__)'
sh "$(dirname "$0")/../bench/fetch-clip.sh"
