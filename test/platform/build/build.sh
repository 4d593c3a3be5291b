#!/usr/bin/env bash
# Builds the local platform's binaries from the Go module proxy at the versions
# pinned by the wrapper modules beside this script, into
#   ${MODELOPS_CACHE:-$HOME/.cache/modelops}/bin/<component>-<version>/<component>
# A binary already there is not rebuilt. GOMODCACHE/GOCACHE stay at Go's
# defaults (under $HOME) so later builds reuse them.
#
# usage: build.sh [component...]   (default: all)
#   components: etcd kwok kubectl kube-scheduler kube-controller-manager kube-apiserver kubelet prometheus promtool
#               buildkitd buildctl gitea
# env:  MODELOPS_BUILD_P (go build -p, default 2)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MODELOPS_CACHE:-$HOME/.cache/modelops}"
logdir="$cache/build-logs"
mkdir -p "$cache/bin" "$logdir"
par="${MODELOPS_BUILD_P:-2}"

# Versions come from the pinned wrapper modules (single source of truth).
modver() { # <go.mod> <module path>
  awk -v m="$2" '$1==m && $2 ~ /^v/ {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$1"
}
K8S_VERSION="$(modver "$here/kubernetes/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(modver "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(modver "$here/kwok/go.mod" sigs.k8s.io/kwok)"
# Prometheus 3.N.P is published as Go module v0.(300+N).P.
PROM_MODULE_VERSION="$(modver "$here/prometheus/go.mod" github.com/prometheus/prometheus)"
prom_minor="${PROM_MODULE_VERSION#v0.}"; prom_minor="${prom_minor%%.*}"
PROM_VERSION="v3.$((prom_minor - 300)).${PROM_MODULE_VERSION##*.}"
BUILDKIT_VERSION="$(modver "$here/buildkit/go.mod" github.com/moby/buildkit)"
GITEA_VERSION="$(modver "$here/gitea/go.mod" code.gitea.io/gitea)"

version_of() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    prometheus|promtool) echo "$PROM_VERSION" ;;
    buildkitd|buildctl) echo "$BUILDKIT_VERSION" ;;
    gitea) echo "$GITEA_VERSION" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet) echo "$K8S_VERSION" ;;
    *) echo "unknown component: $1" >&2; return 1 ;;
  esac
}

if [[ "${1:-}" == "--print-versions" ]]; then
  for c in etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet prometheus promtool buildkitd buildctl gitea; do
    echo "$c $(version_of "$c")"
  done
  exit 0
fi

# What a component needs beside its binary, from the pinned module's source.
copy_files() { # <component> <wrapper module dir> <bin dir>
  local src
  case "$1" in
    buildctl)
      # The image's entrypoint: starts buildkitd, waits for it, runs buildctl.
      src="$(cd "$2" && go list -m -f '{{.Dir}}' github.com/moby/buildkit)"
      install -m 0755 "$src/examples/buildctl-daemonless/buildctl-daemonless.sh" "$3/" ;;
    gitea)
      src="$(cd "$2" && go list -m -f '{{.Dir}}' code.gitea.io/gitea)"
      rm -rf "$3/templates" "$3/options" "$3/public"
      cp -r "$src/templates" "$src/options" "$src/public" "$3/"
      chmod -R u+w "$3/templates" "$3/options" "$3/public" ;;
  esac
}

build_one() {
  local comp="$1" ver dir out pkg moddir ldflags tags="" cgo=0
  ver="$(version_of "$comp")"
  dir="$cache/bin/$comp-$ver"
  out="$dir/$comp"
  if [[ -x "$out" ]]; then
    echo "[build] $comp $ver: cached ($out)"
    return 0
  fi
  mkdir -p "$dir"
  case "$comp" in
    etcd)
      moddir="$here/etcd"; pkg="go.etcd.io/etcd/server/v3"
      ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ver}" ;;
    prometheus)
      # Debian's build leaves out Kubernetes service discovery; the web UI's assets are not
      # in the module (no builtinassets tag): the API and /metrics work, the UI pages do not.
      # Only Kubernetes service discovery is compiled in (Prometheus' own build tags): the
      # cloud providers' SDKs that the other discoveries pull in were most of the build time.
      moddir="$here/prometheus"; pkg="github.com/prometheus/prometheus/cmd/prometheus"
      tags="-tags=remove_all_sd,enable_kubernetes_sd"
      local pv="github.com/prometheus/common/version"
      ldflags="-s -w -X $pv.Version=${ver#v} -X $pv.Revision=${PROM_MODULE_VERSION} -X $pv.Branch=release -X $pv.BuildUser=modelops -X $pv.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" ;;
    promtool)
      # The same module and tags as prometheus, so `test rules` and `tsdb create-blocks-from`
      # evaluate and write exactly what the platform's Prometheus reads.
      moddir="$here/prometheus"; pkg="github.com/prometheus/prometheus/cmd/promtool"
      tags="-tags=remove_all_sd,enable_kubernetes_sd"
      local pv="github.com/prometheus/common/version"
      ldflags="-s -w -X $pv.Version=${ver#v} -X $pv.Revision=${PROM_MODULE_VERSION} -X $pv.Branch=release -X $pv.BuildUser=modelops" ;;
    buildkitd|buildctl)
      # Upstream's flags (buildkit's Dockerfile); buildkit's go.mod has exclude directives, which
      # `go install ...@version` refuses: the wrapper module repeats them.
      moddir="$here/buildkit"; pkg="github.com/moby/buildkit/cmd/$comp"
      tags="-tags=osusergo,netgo,static_build,seccomp"
      local bv="github.com/moby/buildkit/version"
      ldflags="-s -w -X $bv.Version=$ver -X $bv.Revision=$ver -X $bv.Package=github.com/moby/buildkit"
      [[ "$comp" == buildkitd ]] && ldflags+=" -extldflags -static" ;;
    gitea)
      # SQLite needs cgo. The binary has no embedded assets: templates/, options/ and public/
      # from the module source are copied next to it (app.ini's STATIC_ROOT_PATH points there).
      moddir="$here/gitea"; pkg="code.gitea.io/gitea"; cgo=1
      tags="-tags=sqlite,sqlite_unlock_notify"
      ldflags="-s -w -X main.Version=${ver#v}" ;;
    kwok)
      moddir="$here/kwok"; pkg="sigs.k8s.io/kwok/cmd/kwok"
      ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${ver#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}" ;;
    *)
      moddir="$here/kubernetes"; pkg="k8s.io/kubernetes/cmd/$comp"
      tags="-tags=selinux,notest,grpcnotrace"
      local major minor rest
      major="${ver#v}"; major="${major%%.*}"
      rest="${ver#v*.}"; minor="${rest%%.*}"
      ldflags="-s -w"
      local p
      for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        ldflags+=" -X $p.gitVersion=$ver -X $p.gitMajor=$major -X $p.gitMinor=$minor"
        ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      done ;;
  esac
  local log="$logdir/$comp-$ver.log"
  echo "[build] $comp $ver: building $pkg (log: $log) ..."
  local start=$SECONDS
  # Build into a temp name and rename, so an interrupted build leaves no binary.
  if ! ( cd "$moddir" && CGO_ENABLED=$cgo /usr/bin/time -v -o "$log.time" \
      go build -p "$par" -trimpath $tags -ldflags "$ldflags" -o "$out.tmp" "$pkg" ) >"$log" 2>&1 ||
    ! copy_files "$comp" "$moddir" "$dir" >>"$log" 2>&1; then
    rm -f "$out.tmp"
    echo "[build] $comp $ver: FAILED after $((SECONDS-start))s; see $log" >&2
    tail -20 "$log" >&2
    return 1
  fi
  mv "$out.tmp" "$out"
  local rss wall
  rss="$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$log.time")"
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log.time")"
  echo "$comp $ver wall=$wall peak_rss_kb=$rss built=$(date -u +%FT%TZ)" >> "$logdir/build-times.txt"
  echo "[build] $comp $ver: done in $((SECONDS-start))s (wall $wall, peak RSS $((rss/1024)) MiB)"
}

comps=("$@")
if [[ ${#comps[@]} -eq 0 ]]; then
  comps=(etcd kwok kubectl kube-scheduler kube-controller-manager kube-apiserver)
fi
for c in "${comps[@]}"; do
  build_one "$c"
done
