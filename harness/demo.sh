#!/bin/bash
# Placeholder until the demo lands: "make demo" builds the kernel, then
# runs this script with PMALLOC_KERNEL, PMALLOC_BUILD and PMALLOC_TREE set.
set -euo pipefail
echo "harness/demo.sh: the demo is not written yet" >&2
exit 1
