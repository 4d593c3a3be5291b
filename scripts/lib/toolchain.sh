# shellcheck shell=bash
# Sourced by the project's scripts. Provides the pinned Node 22 and Yarn 4 that
# Backstage 1.55 needs, installed from the npm registry into a cache outside the
# work tree, and puts them first on PATH. Native addons are then compiled
# against the same Node that runs them.

MODELOPS_NODE_VERSION=22.23.3
MODELOPS_YARN_VERSION=4.18.1
MODELOPS_CACHE=${MODELOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelops}
export MODELOPS_CACHE

modelops_toolchain() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "modelops: unsupported CPU architecture $(uname -m)" >&2; return 1 ;;
  esac
  local dir="$MODELOPS_CACHE/toolchain/node-$MODELOPS_NODE_VERSION-yarn-$MODELOPS_YARN_VERSION"
  local nodepkg="$dir/node_modules/node-linux-$arch"
  if [ ! -x "$nodepkg/bin/node" ] || [ ! -x "$dir/node_modules/.bin/yarn" ]; then
    echo "modelops: installing Node $MODELOPS_NODE_VERSION and Yarn $MODELOPS_YARN_VERSION into $dir" >&2
    mkdir -p "$dir"
    (cd "$dir" && echo '{"private":true}' > package.json && npm install --no-save --no-package-lock --no-audit --no-fund \
      "node-linux-$arch@$MODELOPS_NODE_VERSION" "@yarnpkg/cli-dist@$MODELOPS_YARN_VERSION" >&2) || {
      echo "modelops: could not install the toolchain from the npm registry (see the npm output above)" >&2
      return 1
    }
  fi
  export PATH="$nodepkg/bin:$dir/node_modules/.bin:$PATH"
  # node-gyp must build against these headers, not the system Node's.
  export npm_config_nodedir="$nodepkg"
  export YARN_ENABLE_TELEMETRY=0
  # No tool the project runs reports usage anywhere.
  export SCARF_ANALYTICS=false DO_NOT_TRACK=1
  export YARN_ENABLE_GLOBAL_CACHE=1
}
