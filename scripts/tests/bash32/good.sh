#!/usr/bin/env bash
# The bash 3.2 and BSD-tool safe forms of what bad.sh does, and look-alikes that are not those
# constructs at all: scripts/check-bash32 must report nothing here.
set -euo pipefail
opts=()
files=(a b) # a literal list, marked where it is expanded
docker run ${opts[@]+"${opts[@]}"} image
echo "${opts[*]+with ${opts[*]}}"
echo "${opts[@]:+"${opts[@]}"}"
echo "${#opts[@]} options"
for f in "${files[@]}"; do :; done # bash32: never empty
echo '${opts[@]} and ${name,,} in single quotes are text'
echo "a |& b, a &>> b, {1..10..2} and ;& in double quotes are text"
# A comment may mention ${opts[@]}, mapfile, declare -A and sed -i.
name=Ab
lower=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
command -v git >/dev/null
echo "$#" "${#name}" "${name:1:1}" "${name: -1}" "${name:-default}" "${name:+set}"
[[ -n ${name:-} ]] && echo set
case $name in a) echo a ;; *) echo other ;; esac
echo {1..3} {a..c}
make >log 2>&1
exec 3>log
wait
sed -i.bak 's/a/b/' file && rm file.bak
sed -n 's/a/b/p' file
digest=$(if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi <file)
here=$(cd "$(dirname "$0")" && pwd -P)
grep -qE '[0-9]' file
read -r -t 5 answer
read -r -d '' text <file || true
cat <<'TEXT'
${opts[@]} mapfile |& declare -A in a quoted here-document are text
TEXT
cat <<TEXT
$name in a here-document; ;& and |& are text there
TEXT
docker_timeout=5 && echo "$docker_timeout" "$lower" "$digest" "$here" "$answer" "$text"
