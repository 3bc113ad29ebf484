#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment in .venv and installs the pinned
# OpenMMLab stack. Idempotent: a stamp file records what was installed, so a second run
# only re-checks that mmcv's compiled ops import.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ECHOSEG_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
# v2: mmdet added (NCM-Net's pixel decoder); an environment stamped v1 re-runs the install
# steps (each skips what is already there: no mmcv rebuild) and gets mmdet
STAMP="$VENV/.echoseg-setup-v2"

TORCH_SPEC="torch==2.13.0"
MMENGINE_SPEC="mmengine==0.10.7"
MMCV_SPEC="mmcv==2.1.0"
MMSEG_SPEC="mmsegmentation==1.2.2"
# pure-Python; accepts mmcv 2.1 (>=2.0.0rc4,<2.2.0) and mmengine 0.10; mmseg's Mask2Former
# configs and NCM-Net's MSDeformAttnPixelDecoder come from it
MMDET_SPEC="mmdet==3.3.0"
OTHER_SPECS=(
  "setuptools<82"          # mmcv's setup.py and mmengine's config loader import pkg_resources
  "wheel"
  "numpy>=2,<3"
  "opencv-python-headless>=4.8"
  "scipy>=1.11"
  "SimpleITK>=2.3"
  "matplotlib>=3.7"
  "pytest>=7"
  "ftfy" "regex"           # imported by mmseg's text-model utilities
)

# the web viewer (tools/serve.py) and its browser test; kept out of the stamp so that
# adding them does not redo the whole set-up
WEB_SPECS=("fastapi>=0.110" "uvicorn>=0.29" "selenium>=4.11")

log() { printf '[echoseg setup] %s\n' "$*"; }

ensure_web_viewer() {
  if ! "$VENV/bin/python" -c "import fastapi, uvicorn, selenium" 2>/dev/null; then
    log "installing the web viewer's packages: ${WEB_SPECS[*]}"
    "$VENV/bin/pip" install --disable-pip-version-check -q "${WEB_SPECS[@]}" || \
      log "warning: could not install ${WEB_SPECS[*]} (tools/serve.py and its tests say so)"
  fi
  # Debian's Chromium and its driver for the browser test (skipped without them);
  # ECHOSEG_NO_APT=1 leaves system packages alone
  if { command -v chromium || command -v chromium-browser; } >/dev/null && \
     command -v chromedriver >/dev/null; then
    return 0
  fi
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="no"; fi
  fi
  if [[ -n "${ECHOSEG_NO_APT:-}" || "$sudo" == "no" ]] || ! command -v apt-get >/dev/null; then
    log "chromium/chromium-driver not installed and not installable here: the browser test" \
        "of the web viewer will be skipped (apt-get install chromium chromium-driver)"
    return 0
  fi
  log "installing chromium and chromium-driver (apt-get) for the web viewer's browser test"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver \
       >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver \
      >/dev/null 2>&1 || log "apt-get could not install chromium: the browser test will be skipped"
  fi
}

# Optional inputs (import name = pip spec): installed when missing, on every run (not part
# of the stamp); a failed install (offline) only warns, the features say what is missing.
OPTIONAL_SPECS=(
  "pydicom=pydicom>=2.4"   # DICOM cine input (echoseg.io.dicom)
  "einops=einops>=0.6"     # the authors' files read by tools/analysis/check_against_reference.py
)
install_optional() {
  local entry name spec
  for entry in "${OPTIONAL_SPECS[@]}"; do
    name="${entry%%=*}"; spec="${entry#*=}"
    if ! "$VENV/bin/python" -c "import $name" 2>/dev/null; then
      log "installing optional $spec"
      "$VENV/bin/pip" install --disable-pip-version-check -q "$spec" || \
        log "warning: could not install $spec (features that need it report it)"
    fi
  done
}

check_ops() {
  "$VENV/bin/python" - <<'PY'
import sys
try:
    import mmcv
    from mmcv.ops import nms  # noqa: F401  compiled op, absent in an mmcv built without ops
    import mmcv._ext  # noqa: F401
except Exception as exc:  # pragma: no cover - reported to the user
    print(f"mmcv.ops does not import ({type(exc).__name__}: {exc}).\n"
          "mmcv was installed without its compiled ops. Remove it with\n"
          "  .venv/bin/pip uninstall -y mmcv\n"
          "and run tools/setup_env.sh again; the build needs torch importable\n"
          "(--no-build-isolation) and setuptools<82.", file=sys.stderr)
    sys.exit(3)
print(f"mmcv {mmcv.__version__} with compiled ops: ok")
try:
    import mmdet
    from mmdet.models.layers import MSDeformAttnPixelDecoder  # noqa: F401
except Exception as exc:  # pragma: no cover - reported to the user
    print(f"mmdet does not import ({type(exc).__name__}: {exc}); NCM-Net's pixel decoder "
          "needs mmdet==3.3.0: run tools/setup_env.sh again", file=sys.stderr)
    sys.exit(3)
print(f"mmdet {mmdet.__version__}: ok")
PY
}

want="$TORCH_SPEC $MMENGINE_SPEC $MMCV_SPEC $MMSEG_SPEC $MMDET_SPEC ${OTHER_SPECS[*]}"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  # fast path: already set up; reinstall echoseg (editable, no deps) only when it points
  # elsewhere or setup.py changed (new entry points)
  setup_hash="$(sha1sum "$ROOT/setup.py" | cut -d' ' -f1)"
  if [[ "$(cat "$VENV/.echoseg-setup-py" 2>/dev/null)" != "$setup_hash" ]] || \
     ! "$VENV/bin/python" -c "import echoseg, os, sys; sys.exit(0 if os.path.realpath(echoseg.__file__).startswith(os.path.realpath('$ROOT')) else 1)" 2>/dev/null; then
    "$VENV/bin/pip" install --no-build-isolation --no-deps -e "$ROOT" -q
    echo "$setup_hash" > "$VENV/.echoseg-setup-py"
  fi
  ensure_web_viewer
  install_optional
  check_ops
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtual environment in $VENV"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/pip" install --disable-pip-version-check -q)

log "installing $TORCH_SPEC and build requirements"
"${PIP[@]}" "$TORCH_SPEC" "${OTHER_SPECS[@]}"
log "installing $MMENGINE_SPEC"
"${PIP[@]}" "$MMENGINE_SPEC"

if ! "$VENV/bin/python" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  log "installing $MMCV_SPEC with compiled ops (first build takes ~20 min on 2 cores; pip caches the wheel)"
  "$VENV/bin/pip" uninstall -y -q mmcv mmcv-lite 2>/dev/null || true
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" "${PIP[@]}" --no-build-isolation "$MMCV_SPEC"
fi
log "installing $MMSEG_SPEC"
"${PIP[@]}" "$MMSEG_SPEC"
log "installing $MMDET_SPEC"
"${PIP[@]}" "$MMDET_SPEC"
log "installing echoseg (editable)"
"${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"
ensure_web_viewer
install_optional

check_ops
sha1sum "$ROOT/setup.py" | cut -d' ' -f1 > "$VENV/.echoseg-setup-py"
echo "$want" > "$STAMP"
log "environment ready: $VENV"
