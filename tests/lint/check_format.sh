#!/usr/bin/env bash
# Every C++ file of src/, tests/ and bench/ is as clang-format (the
# project's .clang-format, clang-format 14 from Debian) would write it.
# Usage: check_format.sh SOURCE_ROOT. Fix with:
#   git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc' | xargs clang-format -i
set -uo pipefail
root="${1:?usage: check_format.sh SOURCE_ROOT}"
cd "$root"
command -v clang-format > /dev/null || { echo "clang-format is missing (scripts/install-deps.sh installs it)"; exit 1; }
mapfile -t files < <(find src tests bench \( -name '*.h' -o -name '*.cc' \) -type f | sort)
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "${#bad[@]} of ${#files[@]} files differ from clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1); run clang-format -i on them"
  clang-format --dry-run "${bad[0]}" 2>&1 | head -20
  exit 1
fi
echo "${#files[@]} files formatted as .clang-format says"
