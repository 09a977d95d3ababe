#!/usr/bin/env bash
# Each line below holds one construct that bash 3.2 rejects or runs differently, or a GNU-only
# tool option macOS's BSD tools lack; `expect:` names the rule scripts/check-bash32 must report.
# Never run: scripts/tests/test_check_bash32.py checks that bash 5 parses it (`bash -n`).
set -euo pipefail
opts=()
files=(a b)
docker run "${opts[@]}" image # expect: empty-array
printf '%s\n' "${opts[*]}" # expect: empty-array
for f in ${opts[@]}; do :; done # expect: empty-array
echo "keys: ${!opts[@]}" # expect: empty-array
read -ra words <<<"a b"
echo "${words[@]}" # expect: empty-array
f() { local -a list; echo "${list[@]}"; } # expect: empty-array
declare -A seen # expect: assoc-array
local -rA fixed=([a]=1) # expect: assoc-array
declare -n ref=files # expect: nameref
declare -g global=1 # expect: declare-global
typeset -l lower=ABC # expect: case-attribute
g() { local -; set +e; } # expect: local-options
echo "${name,,}" # expect: case-modification
echo "${name^^}" # expect: case-modification
echo "${name,}" # expect: case-modification
echo "${name^}" # expect: case-modification
echo "${name@Q}" # expect: transform-operator
mapfile -t lines <file # expect: mapfile
cat file | readarray rows # expect: mapfile
[[ -v name ]] && echo set # expect: test-v
test -v name # expect: test-v
[ ! -v name ] || echo set # expect: test-v
make |& tee log # expect: pipe-stderr
make &>>log # expect: append-both
coproc cat # expect: coproc
case $x in a) echo a ;& b) echo b ;; esac # expect: case-fallthrough
case $x in a) echo a ;;& b) echo b ;; esac # expect: case-fallthrough
echo {1..10..2} # expect: brace-step
echo {01..10} # expect: brace-zero-pad
echo "${files[-1]}" # expect: negative-subscript
files[-1]=z # expect: negative-subscript
echo "${name:1:-1}" # expect: negative-length
exec {fd}>log # expect: named-fd
wait -n # expect: wait-options
echo "$EPOCHSECONDS" # expect: new-variable
echo "${EPOCHREALTIME}" # expect: new-variable
echo $BASHPID # expect: new-variable
printf '%(%F)T\n' -1 # expect: printf-time
shopt -s globstar # expect: shopt-new
read -r -e -i default answer # expect: read-i
read -r -t 0.5 answer # expect: read-fraction
sed -i 's/a/b/' file # expect: sed-in-place
sed -i '' 's/a/b/' file # expect: sed-in-place
sed -Ei -e 's/a/b/' file # expect: sed-in-place
digest=$(sha256sum file) # expect: sha256sum
here=$(readlink -f "$0") # expect: readlink-f
when=$(date -d yesterday +%s) # expect: date-d
ns=$(date +%s%N) # expect: date-nanoseconds
grep -qP '\d' file # expect: grep-perl
size=$(stat -c %s file) # expect: stat-format
find . -name x -printf '%p\n' # expect: find-printf
base64 -w0 file # expect: base64-wrap
timeout 5 make # expect: gnu-only-tool
