#!/bin/sh
# axle runs this as `run.sh <socket> [--log-level=L]`. It runs the module
# with $PYTHON (a Python that has viam-sdk 0.85.1), else the python3 on PATH.
exec "${PYTHON:-python3}" "$(dirname "$0")/thermometer.py" "$@"
