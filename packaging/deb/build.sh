#!/usr/bin/env bash
# build.sh VERSION JAR OUTDIR: makes OUTDIR/ie-virsh_VERSION-1_all.deb with Debian's own dpkg-deb (mvn package runs
# it; VERSION is the upstream version, the project's, and -1 the package's revision). The man pages are made by
# help2man from the commands' own --help, the bash completion by picocli from their definitions: neither can
# drift from what the commands print.
set -euo pipefail
version=$1-1 jar=$(readlink -f "$2") out=$(readlink -f "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
for tool in dpkg-deb help2man gzip; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt install ${tool/dpkg-deb/dpkg})" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/ie-virsh
umask 022
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/ie-virsh/schemas" "$pkg/usr/share/ie-virsh/grafana" \
  "$pkg/lib/systemd/system" "$pkg/etc/ie-virsh/templates" "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man8" \
  "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/doc/ie-virsh"

install -m 644 "$jar" "$pkg/usr/share/ie-virsh/ie-virsh.jar"
install -m 755 "$repo/examples/bin/ie-virsh" "$repo/examples/bin/ie-virsh-controller" "$pkg/usr/bin/"
install -m 644 "$repo"/api-schema/src/main/resources/schemas/*.json "$pkg/usr/share/ie-virsh/schemas/"
install -m 644 "$repo/grafana/dashboard.json" "$repo/grafana/alerts.yml" "$pkg/usr/share/ie-virsh/grafana/"
install -m 644 "$repo/examples/ie-virsh-controller.service" "$pkg/lib/systemd/system/"
install -m 644 "$repo"/templates/*.xml "$pkg/etc/ie-virsh/templates/"
install -m 644 "$here/controller.yaml" "$pkg/etc/ie-virsh/controller.yaml"
install -m 644 "$here/copyright" "$pkg/usr/share/doc/ie-virsh/copyright"
# The README's examples: the fuller config, Prometheus's scrape, and what each blade needs.
install -d "$pkg/usr/share/doc/ie-virsh/examples"
install -m 644 "$repo/examples/controller.yaml" "$repo/examples/prometheus.yml" "$repo"/examples/libvirt/* "$repo"/examples/nss/* \
  "$pkg/usr/share/doc/ie-virsh/examples/"
gzip -9n < "$repo/README.md" > "$pkg/usr/share/doc/ie-virsh/README.md.gz"
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'ie-virsh (%s) unstable; urgency=medium\n\n  * Package of upstream release %s.\n\n -- ie-virsh developers <ie-virsh@example.org>  %s\n' \
  "$version" "$1" "$date" | gzip -9n > "$pkg/usr/share/doc/ie-virsh/changelog.Debian.gz"

# The man pages and the completion, from the jar's commands.
bin=$work/bin
mkdir -p "$bin"
printf '#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -jar %s "$@"\n' "$jar" > "$bin/ie-virsh"
printf '#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -jar %s controller "$@"\n' "$jar" > "$bin/ie-virsh-controller"
chmod 755 "$bin/ie-virsh" "$bin/ie-virsh-controller"
java -cp "$jar" org.ievirsh.cli.Manual > "$work/commands.h2m"
help2man --no-info --no-discard-stderr --section 1 --version-string "$1" \
  --name "students' VMs from files in their homes, reconciled by the controller" \
  --include "$work/commands.h2m" "$bin/ie-virsh" | gzip -9n > "$pkg/usr/share/man/man1/ie-virsh.1.gz"
printf '[FILES]\n.TP\n/etc/ie-virsh/controller.yaml\nthe config, read again on SIGHUP\n.TP\n/lib/systemd/system/ie-virsh-controller.service\nthe unit\n[SEE ALSO]\nie-virsh(1); /usr/share/doc/ie-virsh/README.md.gz\n' > "$work/controller.h2m"
help2man --no-info --no-discard-stderr --section 8 --version-string "$1" \
  --name "the ie-virsh controller: students' VM files become libvirt domains" \
  --include "$work/controller.h2m" "$bin/ie-virsh-controller" | gzip -9n > "$pkg/usr/share/man/man8/ie-virsh-controller.8.gz"
# From the same command line the jar runs: it holds the commands the demo's and the benchmarks' modules add.
java -cp "$jar" org.ievirsh.cli.Manual completion > "$pkg/usr/share/bash-completion/completions/ie-virsh"
# bash sources a completion: it has no #! line.
sed -i '1{/^#!/d}' "$pkg/usr/share/bash-completion/completions/ie-virsh"
chmod 644 "$pkg/usr/share/bash-completion/completions/ie-virsh"

(cd "$pkg" && find etc -type f | sort | sed 's|^|/|') > "$pkg/DEBIAN/conffiles"
install -m 755 "$here/postinst" "$here/prerm" "$here/postrm" "$pkg/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/control.in" > "$pkg/DEBIAN/control"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/ie-virsh_${version}_all.deb" >/dev/null

