#!/usr/bin/env bash
# Checks that src/tradestore's folders include only what lies below them:
#
#   core (top-level files), internal/      bottom
#   sqlite/, postgres/                     the only code that knows sqlite3
#                                          and libpqxx / libpq
#   verify/, ops/                          above the backends
#   migration/                             above verify/ (never the reverse)
#   cli/                                   on top
#
# and that sqlite3.h, pqxx and libpq-fe.h, and the backend headers that
# expose them, are included only inside their backend. Prints each
# violation as "file: include" and exits 1 when there is one that
# tools/layers_allowlist.txt does not list; an allowlist entry that no
# longer occurs is an error too, so the list only shrinks (--prune drops
# them). A file in src/ over 500 lines fails it too: split it along a seam.
set -euo pipefail
cd "$(dirname "$0")/.."
src=src/tradestore

allowed() {  # folder -> the folders it may include
  case $1 in
    core | internal) echo "core internal" ;;
    sqlite) echo "core internal sqlite" ;;
    postgres) echo "core internal postgres" ;;
    verify) echo "core internal sqlite postgres verify" ;;
    ops) echo "core internal sqlite postgres ops" ;;
    migration) echo "core internal sqlite postgres verify migration" ;;
    cli) echo "core internal sqlite postgres verify ops migration cli" ;;
    *) echo "" ;;
  esac
}

folder_of() {  # tradestore/x/y.h or src/tradestore/x/y.h -> x, or core
  local rel=${1#src/}
  rel=${rel#tradestore/}
  if [[ $rel == */* ]]; then echo "${rel%%/*}"; else echo core; fi
}

# Backend headers that carry a backend's own headers into their includers.
exposing=$(grep -l -E '#include <(pqxx/|sqlite3\.h|libpq-fe\.h)' \
  "$src"/postgres/*.h "$src"/sqlite/*.h 2>/dev/null | sed 's|^src/||' || true)

found=$(mktemp)
trap 'rm -f "$found"' EXIT
while IFS= read -r file; do
  from=$(folder_of "$file")
  ok=$(allowed "$from")
  while IFS= read -r inc; do
    case $inc in
      '<pqxx/'* | '<libpq-fe.h>')
        [[ $from == postgres ]] || echo "$file: $inc" >>"$found" ;;
      '<sqlite3.h>')
        [[ $from == sqlite ]] || echo "$file: $inc" >>"$found" ;;
      '"tradestore/'*)
        local_path=${inc//\"/}
        to=$(folder_of "$local_path")
        if [[ " $ok " != *" $to "* ]]; then
          echo "$file: $inc" >>"$found"
        elif [[ $from != "$to" ]] && grep -qx "$local_path" <<<"$exposing"; then
          echo "$file: $inc" >>"$found"
        fi ;;
    esac
  done < <(sed -n -E 's/^#include ([<"][^>"]+[>"]).*/\1/p' "$file")
done < <(find "$src" -name '*.h' -o -name '*.cc' | sort)

allow=tools/layers_allowlist.txt
sort -u "$found" -o "$found"
if [[ ${1:-} == --prune ]]; then  # drop the entries that no longer occur
  { grep '^#' "$allow"; comm -12 "$found" <(grep -v '^#' "$allow" | sort -u); } \
    >"$allow.new" && mv "$allow.new" "$allow"
fi
new=$(comm -23 "$found" <(grep -v '^#' "$allow" 2>/dev/null | sort -u) || true)
gone=$(comm -13 "$found" <(grep -v '^#' "$allow" 2>/dev/null | sort -u) || true)
status=0
long=$(find src -name '*.h' -o -name '*.cc' | sort | xargs wc -l |
       awk '$2 != "total" && $1 > 500 {print "  " $2 ": " $1 " lines"}')
if [[ -n $long ]]; then
  echo "check_layers: files over 500 lines:"
  echo "$long"
  status=1
fi
if [[ -n $new ]]; then
  echo "check_layers: includes against the layers:"
  echo "$new" | sed 's/^/  /'
  status=1
fi
if [[ -n $gone ]]; then
  echo "check_layers: no longer needed in $allow (remove them):"
  echo "$gone" | sed 's/^/  /'
  status=1
fi
known=$(grep -vc '^#' "$allow" 2>/dev/null || true)
[[ $status == 0 ]] && echo "check_layers: ok (${known:-0} known exceptions left)"
exit $status
