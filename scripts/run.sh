#!/usr/bin/env bash
# One-step set-up and run for a fresh machine.
#   bash scripts/run.sh demo   install, then render the bundled sample to delvol-sample.png
#   bash scripts/run.sh test   install, then run the whole test suite
# Installs Mesa's EGL (headless OpenGL) and, for the tests, Xvfb/xauth/xdotool and the X/GL
# libraries that gmsh's wheel links, through apt when they are missing (as root, or through
# sudo), then delvol into ./.venv (for the tests with the optional fast Delaunay engines). The
# tests also try Debian's chromium and chromium-driver for the JupyterLab test, skipped without them.
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-demo}
shift || true

need_pkgs=(libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri)
[ "$task" = test ] && need_pkgs+=(xvfb xauth xdotool libglu1-mesa libxcursor1 libxft2 libxinerama1 libgomp1)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${need_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$task" = test ] && command -v apt-get >/dev/null 2>&1 && ! command -v chromedriver >/dev/null 2>&1; then
    # Optional: where the distribution has no chromium .deb (Ubuntu ships a snap), the browser test skips.
    { $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver; } \
        || echo "run.sh: no chromium from apt; the JupyterLab browser test will be skipped"
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
extra=""
[ "$task" = test ] && extra="[all,test,browser]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"

case "$task" in
    demo) exec .venv/bin/delvol render data/sample.npy -o delvol-sample.png --size 1920x1080 "$@" ;;
    test) exec .venv/bin/python -m pytest "$@" ;;
    *) echo "usage: bash scripts/run.sh demo|test" >&2; exit 2 ;;
esac
