#!/usr/bin/env bash
# Makes the seed corpus of the `rewrite_pack` fuzz target: every fixture dump with the
# selector byte of its pack in front (see fuzz_targets/rewrite_pack.rs for the bits).
#
# The dumps of the WordPress and Elgg sites get their own pack; the Drupal and Elgg 2.3
# sites have no mariadb-dump fixture, so their generated SQL (CREATE TABLE and extended
# INSERTs, the shape of a dump) stands in; the `types.*` dumps, which hold no application's
# tables, go round the packs so each pack also sees plain dumps. The other bits vary from
# seed to seed (threads, batch size, buffered output), strict mode stays off.
#
# Usage: fuzz/seed.sh   (writes fuzz/corpus/rewrite_pack/, about 0.5 MB)
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../fixtures
out=corpus/rewrite_pack
mkdir -p "$out"

# pack numbers: 0 wordpress, 1 elgg, 2 elgg-2.3, 3 drupal
n=0
seed() { # file pack
  local file=$1 pack=$2
  # bit 2: threads, bits 3-5: batch size, bit 6: buffered output
  local head=$(( pack | ((n & 1) << 2) | (((n * 3) & 7) << 3) | (((n >> 1) & 1) << 6) ))
  local name
  name=$(basename "$file" .sql)
  { printf "\\$(printf '%03o' "$head")"; cat "$file"; } > "$out/$name.p$pack"
  n=$((n + 1))
}

seed "$fixtures/dumps/wordpress.default.sql" 0
seed "$fixtures/dumps/multi.types-wordpress.databases.sql" 0
seed "$fixtures/dumps/elgg3.default.sql" 1
seed "$fixtures/dumps/elgg3-wrappers.default.sql" 1
seed "$fixtures/sql/elgg23.sql" 2
seed "$fixtures/sql/drupal.sql" 3
pack=0
for f in "$fixtures"/dumps/types.*.sql; do
  seed "$f" $pack
  pack=$(( (pack + 1) & 3 ))
done
echo "$(ls "$out" | wc -l) seeds, $(du -sh "$out" | cut -f1) in $out"
