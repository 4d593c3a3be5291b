# shellcheck shell=bash
# Installs the Debian packages the project needs (as root, like CI) when a
# command they provide is missing.

modelops_system_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || missing+=(postgresql)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # The local platform's real nodes and images (left out with MODELOPS_REAL_NODES=0): the
  # container runtime, the CNI plugins, the image registry and builder.
  command -v containerd >/dev/null 2>&1 || missing+=(containerd)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "modelops: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "modelops: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
  # The packages start their own services on default ports; the project runs
  # its own instances on other ports, so stop the packaged ones.
  for svc in prometheus postgresql containerd docker-registry; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$svc"; then
      (systemctl disable --now "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
    fi
  done
}
