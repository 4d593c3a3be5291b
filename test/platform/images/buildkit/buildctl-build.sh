#!/bin/sh
# The BuildKit image's entrypoint: upstream's buildctl-daemonless.sh (starts
# buildkitd with $BUILDKITD_FLAGS, waits for it, runs buildctl "$@"), with two
# changes for build Jobs:
# - --metadata-file=PATH is written in place. buildctl replaces the file by a
#   rename, which fails (EBUSY) on a file the kubelet bind-mounts, such as
#   /dev/termination-log; so buildctl writes a temporary file and this script
#   copies it into PATH once buildctl has exited.
# - buildkitd gets up to about 30 s to answer (BUILDCTL_CONNECT_RETRIES_MAX=50)
#   instead of upstream's 2 s, which a loaded node does not always make.
set -eu
: "${BUILDCTL_CONNECT_RETRIES_MAX:=50}"
export BUILDCTL_CONNECT_RETRIES_MAX
: "${BUILDCTL_DAEMONLESS:=/usr/bin/buildctl-daemonless.sh}"

meta=
tmpmeta=$(mktemp /tmp/buildctl-metadata.XXXXXX)
# Rotate the arguments once, replacing the metadata file's path.
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  a=$1
  shift
  i=$((i + 1))
  case $a in
    --metadata-file=*)
      meta=${a#--metadata-file=}
      set -- "$@" "--metadata-file=$tmpmeta"
      ;;
    --metadata-file)
      meta=$1
      shift
      i=$((i + 1))
      set -- "$@" "--metadata-file=$tmpmeta"
      ;;
    *) set -- "$@" "$a" ;;
  esac
done

rc=0
"$BUILDCTL_DAEMONLESS" "$@" || rc=$?
if [ -n "$meta" ] && [ -s "$tmpmeta" ]; then
  cat "$tmpmeta" >"$meta"
fi
rm -f "$tmpmeta"
exit "$rc"
