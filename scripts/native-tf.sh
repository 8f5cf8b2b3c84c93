#!/usr/bin/env bash
# Native TensorFlow for tfjs where @tensorflow/tfjs-node could not download libtensorflow (machines
# that reach a Python package index but not Google's storage). Installs tensorflow-cpu with pip into
# the project's one Python environment .venv/, points tfjs-node's deps/ at the wheel's C API
# (libtensorflow_cc.so.2 exports the TF_/TFE_ functions the binding uses) and builds the binding
# from source. Idempotent: a stamp in the package records what was built; a binding that loads is
# left alone. Exit status 0 when the binding loads at the end, 1 (with the reason) otherwise.
# Called by scripts/setup.sh; PET_IQA_NATIVE=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] native TensorFlow: %s\n' "$*"; }
fail() { say "$*"; exit 1; }

if [ "${PET_IQA_NATIVE:-1}" = "0" ]; then say "skipped (PET_IQA_NATIVE=0)"; exit 1; fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
PKG=node_modules/@tensorflow/tfjs-node
STAMP="$PKG/.pet-iqa-native-stamp"
LOG=.cache/native-tf-build.log
binding_loads() { node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; }

tfjs_node_version=$(node -p "require('./package.json').optionalDependencies['@tensorflow/tfjs-node']")
if [ -d "$PKG" ] && binding_loads; then
  if [ -f "$STAMP" ]; then say "present ($(cat "$STAMP"))"; else say "present (@tensorflow/tfjs-node $tfjs_node_version from npm)"; fi
  exit 0
fi

# 1. The package itself: npm drops an optional dependency whose install script failed, so fetch it
#    (and its dependencies) without running that script. The GPU variant cannot work without CUDA
#    and has no binding either: leave it out.
if [ ! -f "$PKG/package.json" ]; then
  say "installing @tensorflow/tfjs-node@$tfjs_node_version without its download script"
  npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error "@tensorflow/tfjs-node@$tfjs_node_version" \
    || fail "npm could not install @tensorflow/tfjs-node@$tfjs_node_version"
  if [ -d node_modules/@tensorflow/tfjs-node-gpu ] && [ ! -d node_modules/@tensorflow/tfjs-node-gpu/lib ]; then
    rm -rf node_modules/@tensorflow/tfjs-node-gpu
  fi
fi

# 2. tensorflow-cpu in the project's Python environment.
command -v python3 >/dev/null || fail "python3 not found"
if [ ! -x .venv/bin/python ]; then
  say "creating the Python environment .venv/"
  python3 -m venv .venv || fail "python3 -m venv .venv failed (Debian: apt-get install python3-venv)"
fi
tf_dir() { .venv/bin/python - <<'PY' 2>/dev/null
import importlib.util, sys
spec = importlib.util.find_spec('tensorflow')
if spec is None or not spec.submodule_search_locations: sys.exit(1)
print(list(spec.submodule_search_locations)[0])
PY
}
if ! TF_DIR=$(tf_dir) || [ ! -f "$TF_DIR/libtensorflow_cc.so.2" ]; then
  say "installing tensorflow-cpu into .venv/ with pip (about 800 MB)"
  mkdir -p .cache
  if ! PIP_RETRIES=0 PIP_TIMEOUT=3 .venv/bin/pip install --quiet tensorflow-cpu >.cache/pip-tensorflow.log 2>&1; then
    grep -v 'is ignored: it is neither a file nor a directory' .cache/pip-tensorflow.log | tail -n 5 | sed 's/^/  /'
    fail "pip could not install tensorflow-cpu (no reachable package index? log .cache/pip-tensorflow.log)"
  fi
  TF_DIR=$(tf_dir) || fail "tensorflow-cpu installed but not importable from .venv/"
fi
[ -f "$TF_DIR/libtensorflow_cc.so.2" ] && [ -f "$TF_DIR/libtensorflow_framework.so.2" ] && [ -d "$TF_DIR/include" ] \
  || fail "$TF_DIR lacks libtensorflow_cc.so.2, libtensorflow_framework.so.2 or include/"
tf_version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('tensorflow-cpu'))" 2>/dev/null || echo unknown)
want="@tensorflow/tfjs-node $tfjs_node_version built against tensorflow-cpu $tf_version ($TF_DIR)"

# 3. deps/ -> the wheel (relative links, so the checkout can move with its .venv/).
deps="$PKG/deps"
rm -rf "$deps" && mkdir -p "$deps/lib"
rel() { realpath --relative-to="$1" "$2"; }
ln -s "$(rel "$deps" "$TF_DIR/include")" "$deps/include"
for name in libtensorflow.so libtensorflow.so.2 libtensorflow.so.2.9.1 libtensorflow_cc.so.2; do
  ln -s "$(rel "$deps/lib" "$TF_DIR/libtensorflow_cc.so.2")" "$deps/lib/$name"
done
for name in libtensorflow_framework.so libtensorflow_framework.so.2 libtensorflow_framework.so.2.9.1; do
  ln -s "$(rel "$deps/lib" "$TF_DIR/libtensorflow_framework.so.2")" "$deps/lib/$name"
done

# 4. Build the binding (Node's headers from the system when present: no download).
mkdir -p .cache
nodedir_env=()
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -f "$node_prefix/include/node/node_api.h" ]; then nodedir_env=(npm_config_nodedir="$node_prefix"); fi
say "building the tfjs-node binding against TensorFlow $tf_version (log: $LOG)"
rm -f "$STAMP"
if ! env npm_config_build_from_source=true "${nodedir_env[@]}" npm rebuild @tensorflow/tfjs-node >"$LOG" 2>&1; then
  tail -n 5 "$LOG" | sed 's/^/  /'
  fail "the build failed (needs g++, make and Node's headers; full log $LOG)"
fi
binding_loads || fail "built, but the binding does not load: $(node -e "require('@tensorflow/tfjs-node')" 2>&1 | grep -m1 -i error)"
echo "$want" > "$STAMP"
say "ready: $want"
