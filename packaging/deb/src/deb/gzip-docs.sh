#!/bin/sh
# Compresses the package's changelog and man pages as Debian wants them: gzip -9n (best
# compression, no name or time stamp, so the same input gives the same bytes).
set -eu
dir="$1"
for f in "$dir/changelog" "$dir/tandem.1" "$dir/tandem.yaml.5"; do
  gzip -9nf "$f"
done
