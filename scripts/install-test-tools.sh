#!/usr/bin/env bash
# Debian tools the tests use to make real speech: espeak-ng (speech) and sox (inspection).
set -euo pipefail
missing=()
for tool in espeak-ng sox; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install ${missing[*]} with your package manager: the audio tests synthesize speech with espeak-ng" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
echo "installing ${missing[*]} for the audio tests" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
