#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (an X server, X tools, Chromium).
# Idempotent: does nothing when everything is already there. Needs root (or sudo) and Debian's apt.
set -euo pipefail

# strace: the durability test watches the gateway's fsyncs; e2fsprogs: mkfs.ext4 and chattr for the failing-disk tests.
# coturn: the TURN relay (`npm run turn`, tests/relay); iptables, iproute2: the relay tests' network namespaces; openssl: its certificates.
# libnss3-tools: certutil, so the relay tests' Chromium trusts the throwaway CA of coturn's TLS certificate.
# wine, wine64, gcc-mingw-w64-x86-64: the Windows build's tests under Wine (tests/helpers/wine.ts builds two forwarding DLLs);
# osslsigncode: build:sos --sign-cert signs Windows executables; xterm: the scrolling workload of bench:agent and bench:relay.
# x11-xkb-utils (setxkbmap, xkbcomp) and xkb-data: the keyboard-layout tests switch Xvfb's layout (only recommended by xvfb).
# python3-prometheus-client: the Prometheus project's own text-format parser, which the /metrics test reads the scrape with.
# nginx: the reverse proxy of deploy/nginx/sos-gateway.conf, run by tests/gateway/nginx-proxy.test.ts as its own process
# (the tests never use the system service; openssl makes their throwaway CA, certutil trusts it in Chromium).
# systemd: systemd-analyze checks deploy/systemd/sos-gateway.service (verify, security --offline); nothing is started.
# python3-aiortc, python3-aiohttp: the Python technician client of docs/console-client.md (examples/python-console),
# run end to end by tests/console/python-client.test.ts with /usr/bin/python3.
# ffmpeg: the FFmpeg encoder adapter's tests and bench:win-encoder (its ffmpeg drives the adapter, its ffprobe decodes the output).
# x11vnc: the baseline of bench:latency and bench:vs-vnc.
# postgresql: the PostgreSQL store's tests and `npm run postgres` (a cluster of their own, never the system one).
# firefox-esr: tests/agent/e2e-firefox.test.ts opens the console in headless Firefox (puppeteer-core, WebDriver BiDi)
# and checks it decodes the agent's default stream (Debian's Firefox has no H.264: VP8).
packages=(
  xvfb
  xdotool
  x11-utils
  chromium
  strace
  e2fsprogs
  coturn
  iptables
  iproute2
  openssl
  libnss3-tools
  wine
  wine64
  gcc-mingw-w64-x86-64
  osslsigncode
  xterm
  x11-xkb-utils
  xkb-data
  python3-prometheus-client
  nginx
  systemd
  ffmpeg
  x11vnc
  postgresql
  python3-aiortc
  python3-aiohttp
  firefox-esr
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "setup-system: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-system: done" >&2
