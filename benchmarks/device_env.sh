# Sourced by the gpu_*_session.sh scripts on a CUDA machine: unbuffered Python, $OUT, the
# carried wheels (.whl: rsatoolbox, plyfile) installed to /tmp/site, and the checkout on PYTHONPATH.
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/${1:-gpu_session}}; mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
