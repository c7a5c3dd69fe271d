#!/usr/bin/env bash
# Debian tools the tests use: espeak-ng (real speech), sox (inspection), chromium (the playground's browser
# test, driven by Playwright; Playwright never downloads a browser of its own) and redis-server (shared state
# across workers: the tests start their own on a loopback port).
set -euo pipefail
missing=()
for tool in espeak-ng sox chromium redis-server; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install ${missing[*]} with your package manager: the audio tests synthesize speech with espeak-ng," \
    "the playground test drives chromium, the shared-state tests start redis-server" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
echo "installing ${missing[*]} for the tests" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
