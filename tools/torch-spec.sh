#!/usr/bin/env sh
# Print the pip requirement to install torch with.
#
# Machines that keep a CPU build of torch in one of pip's local find-links folders (offline or
# air-gapped set-ups) get that exact build, so pip never reaches for a multi-GB CUDA build. Anywhere
# else this prints plain "torch" and pip resolves it as usual; set TORCH_SPEC to override either way.
py="${1:-python3}"
tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
dirs=$("$py" -m pip config list 2>/dev/null | sed -n "s/^[a-z:.]*find-links='\(.*\)'$/\1/p" | tr ' ' '\n')
for d in $dirs; do
  d="${d#file://}"
  [ -d "$d" ] || continue
  wheel=$(ls "$d"/torch-*+cpu-"$tag"-*.whl 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$wheel" ]; then
    version=$(basename "$wheel" | cut -d- -f2)
    echo "torch==$version"
    exit 0
  fi
done
echo "torch"
