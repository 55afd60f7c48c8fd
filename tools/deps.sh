#!/bin/sh
# Installs the Debian packages mlledger needs when they are missing.
# As root it runs apt-get; otherwise it prints the exact command.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "mlledger: installing:$missing"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
else
	echo "mlledger: missing Debian packages. Run as root:"
	echo "  apt-get install -y$missing"
	exit 1
fi
