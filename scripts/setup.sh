#!/usr/bin/env bash
# Idempotent set-up of the pet-iqa workspace on a fresh Debian machine with Node.js:
#  1. Debian packages the workspace needs, installed only when missing (Jupyter pieces that
#     execute notebooks, chromium for figure export, python3-nibabel for interoperability tests,
#     g++/make/python3-venv for native TensorFlow, wabt to check the wasm kernels against their sources);
#  2. npm ci (skipped when node_modules already matches package-lock.json);
#  3. the project-local Python virtual environment .venv/ (python3 -m venv) and JupyterLab 4 in it (pip);
#  4. native TensorFlow for tfjs: when @tensorflow/tfjs-node did not install its binding (its
#     download of libtensorflow from Google's storage is blocked), tensorflow-cpu from pip into the
#     project's Python environment .venv/ and tfjs-node built against the wheel's C API
#     (scripts/native-tf.sh); when that cannot be done the wasm backend is used;
#  5. the tslab TypeScript kernel, registered into a project-local Jupyter prefix (.jupyter/).
# Safe to run again: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

DEBIAN_PACKAGES=(
  python3-nibabel
  chromium
  python3-nbconvert
  python3-nbclient
  python3-ipykernel
  python3-ipython
  python3-jupyter-core
  python3-jupyter-client
  jupyter-notebook
  python3-venv
  g++
  make
  wabt
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# npm ci only when the lock file changed since the last install: it deletes node_modules first.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.pet-iqa-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
  say "node_modules matches package-lock.json"
else
  say "npm ci (the native @tensorflow/tfjs-node(-gpu) are optional: their failure to download libtensorflow here is expected)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# One project-local virtual environment for every Python tool of the workspace (other steps add to it).
# PIP_RETRIES=0 PIP_TIMEOUT=3: without them pip waits minutes on a package index it cannot reach.
VENV=.venv
ensure_venv() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    say "Python virtual environment $VENV present"
  else
    say "creating the Python virtual environment $VENV"
    python3 -m venv "$VENV"
  fi
}
venv_pip() { PIP_RETRIES=0 PIP_TIMEOUT=3 "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }

# JupyterLab 4 (npm run lab, and the browser test in test/notebooks), with plotly's JupyterLab renderer
# (the python package ships it) so figures from lib/figures' show() are interactive. Its settings
# overrides turn off the news fetch (no internet, and its prompt would cover the notebook).
install_jupyterlab() {
  if "$VENV/bin/python" -c 'import jupyterlab, plotly, sys; sys.exit(not jupyterlab.__version__.startswith("4."))' 2>/dev/null; then
    say "JupyterLab $("$VENV/bin/python" -c 'import jupyterlab; print(jupyterlab.__version__)') and plotly present in $VENV"
  else
    say "installing JupyterLab 4 and plotly into $VENV (pip)"
    venv_pip install -q 'jupyterlab>=4,<5' plotly 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  fi
  local settings="$VENV/share/jupyter/lab/settings"
  mkdir -p "$settings"
  printf '%s\n' '{ "@jupyterlab/apputils-extension:notification": { "fetchNews": "false", "checkForUpdates": false } }' > "$settings/overrides.json"
}

ensure_venv
install_jupyterlab

# Native TensorFlow (never fatal: without it the wasm backend runs).
bash scripts/native-tf.sh || say "native TensorFlow not built (see above); the wasm backend will be used"

if [ -f scripts/notebooks.ts ]; then
  say "registering the tslab kernel in .jupyter/"
  npx tsx scripts/notebooks.ts install-kernel
fi
say "done"
