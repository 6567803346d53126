#!/bin/sh
# Installs what the audio benchmark needs under /usr/bin/python3 (Debian packages): the PyTorch audio
# peer (python3-torch, python3-numpy, python3-soundfile, OpenMP OpenBLAS) and the independent sound
# texture metric (python3-scipy). Idempotent; needs root or password-less sudo and apt-get.
set -eu

PY=/usr/bin/python3
if "$PY" -c 'import torch, numpy, soundfile, scipy' 2>/dev/null; then
  echo "install-audio-peer: torch, numpy, soundfile and scipy already import under $PY"
  exit 0
fi
sh "$(dirname "$0")/apt-install.sh" install-audio-peer python3-torch python3-numpy python3-soundfile python3-scipy libopenblas0-openmp
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
# make the OpenMP OpenBLAS the one torch loads (see ../shared/peers/RESULTS.md)
for alt in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  a=$alt-x86_64-linux-gnu
  sel=$(update-alternatives --list "$a" 2>/dev/null | grep openblas-openmp || true)
  [ -n "$sel" ] && $SUDO update-alternatives --set "$a" "$sel"
done
"$PY" -c 'import torch, numpy, soundfile, scipy; print("install-audio-peer: torch", torch.__version__)'
