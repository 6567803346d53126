#!/bin/sh
# Fetches the video bench's real clip: vtest.avi (768x576, 10 fps, people walking across a square, from OpenCV's
# samples/data; Debian package opencv-doc, licence: Apache-2.0 AND BSD-3-Clause, the "Files: *" stanza of its debian/copyright)
# into ${STYLELOOM_CLIPS:-~/.cache/styleloom/clips}, checked against its SHA-256. Never copied into the repository.
set -eu
DIR=${STYLELOOM_CLIPS:-$HOME/.cache/styleloom/clips}
SHA=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
mkdir -p "$DIR"
if [ -f "$DIR/vtest.avi" ] && [ "$(sha256sum "$DIR/vtest.avi" | cut -d' ' -f1)" = "$SHA" ]; then
  echo "fetch-clip: $DIR/vtest.avi present and checked"; exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && apt-get download opencv-doc=4.6.0+dfsg-12 >/dev/null && dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -x -C "$WORK" ./usr/share/doc/opencv-doc/examples/data/vtest.avi)
GOT=$(sha256sum "$WORK/usr/share/doc/opencv-doc/examples/data/vtest.avi" | cut -d' ' -f1)
[ "$GOT" = "$SHA" ] || { echo "fetch-clip: vtest.avi has SHA-256 $GOT, expected $SHA" >&2; exit 1; }
mv "$WORK/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$DIR/vtest.avi"
echo "fetch-clip: $DIR/vtest.avi"
