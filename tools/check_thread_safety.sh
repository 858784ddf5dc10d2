#!/usr/bin/env bash
# Proves the locking rules with Clang's thread-safety analysis: every member
# marked ABSL_GUARDED_BY is touched only with its mutex held, and every
# function marked ABSL_EXCLUSIVE_LOCKS_REQUIRED is called with it held.
# g++ ignores the annotations, so this parses each file that locks with
# clang++ (-fsyntax-only, the flags from BUILD_DIR's compile_commands.json)
# and fails on any finding.
#
#   tools/check_thread_safety.sh [BUILD_DIR]     default: build
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
clang=$(command -v clang++-14 || command -v clang++ || true)
[[ -n $clang ]] || { echo "check_thread_safety: clang++ not found (run tools/setup.sh)" >&2; exit 2; }
[[ -f $build/compile_commands.json ]] || { echo "check_thread_safety: no $build/compile_commands.json (configure first)" >&2; exit 2; }

# The files that lock: those that name a mutex or an annotation, or that
# include (through any chain of src/ headers) a header that does.
mapfile -t files < <(python3 - <<'PY'
import pathlib, re
locks = re.compile(r"ABSL_(GUARDED_BY|LOCKABLE|EXCLUSIVE_LOCKS_REQUIRED)|"
                   r"absl::Mutex|std::(shared_)?mutex")
include = re.compile(r'#include "(?:tradestore/)?([^"]+)"')
src = [p for p in pathlib.Path("src").rglob("*") if p.suffix in (".h", ".cc")]
text = {p: p.read_text() for p in src}
def name(p):  # as other files include it
    return "/".join(p.parts[2:]) if p.parts[1] == "tradestore" else p.name
locking = {name(p) for p in src if p.suffix == ".h" and locks.search(text[p])}
grew = True
while grew:
    grew = False
    for p in src:
        if p.suffix == ".h" and name(p) not in locking and any(
                i in locking for i in include.findall(text[p])):
            locking.add(name(p))
            grew = True
for p in sorted(src):
    if p.suffix == ".cc" and (locks.search(text[p]) or any(
            i in locking for i in include.findall(text[p]))):
        print(p)
PY
)

python3 - "$clang" "$build/compile_commands.json" "${files[@]}" <<'EOF'
import json, os, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

clang, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
commands = {}
for entry in json.load(open(db)):
    commands[os.path.realpath(entry["file"])] = entry

def argv_of(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out, skip = [clang], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = a != "-c"
            continue
        if a == entry["file"] or a.startswith(("-W", "-fsanitize", "-fno-sanitize", "-MD", "-MMD")):
            continue
        out.append(a)
    return out + ["-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
                  entry["file"]]

def check(path):
    entry = commands.get(os.path.realpath(path))
    if entry is None:
        return path, None, ""
    p = subprocess.run(argv_of(entry), cwd=entry["directory"], capture_output=True, text=True)
    return path, p.returncode, p.stderr

failed = checked = 0
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for path, rc, err in pool.map(check, files):
        if rc is None:
            continue  # not in this build (the Python module when off)
        checked += 1
        if rc != 0:
            failed += 1
            sys.stderr.write(err)
print(f"check_thread_safety: {checked} files, {failed} with findings")
sys.exit(1 if failed else 0)
EOF
