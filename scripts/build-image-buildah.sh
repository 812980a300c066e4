#!/usr/bin/env bash
# Builds the runtime stage of ./Dockerfile without a daemon or a registry: an OCI image from scratch with this
# machine's Node runtime (node + the shared libraries it links), the npm-packed kthena with its production
# dependencies, user 1000:1000 and the CLI as entrypoint. Then it unpacks the image's root filesystem and runs
# `kthena --version` and `kthena crds` inside it with chroot, proving the image is self-contained.
# Needs root and Debian's buildah. Usage: scripts/build-image-buildah.sh [OUT.tar]   (default: an oci-archive in /tmp)
set -euo pipefail
out=${1:-/tmp/kthena-image.oci.tar}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${ctr:-}" ] && buildah --storage-driver vfs rm "$ctr" >/dev/null 2>&1 || true' EXIT
export STORAGE_DRIVER=vfs
root=$work/rootfs
mkdir -p "$root/app" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
# Node and the libraries it links (the node:20-bookworm-slim base of the Dockerfile, reduced to what runs).
node=$(readlink -f "$(command -v node)")
install -D "$node" "$root/usr/bin/node"
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do install -D "$(readlink -f "$lib")" "$root$lib"; done
# CA certificates, for HTTPS to model hubs and external providers.
[ -f /etc/ssl/certs/ca-certificates.crt ] && install -D /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
echo 'kthena:x:1000:1000::/app:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'kthena:x:1000:' >"$root/etc/group"
# The package as npm publishes it (dist/, CRDs, templates) with production dependencies only.
npm pack --silent --pack-destination "$work" >/dev/null
echo '{"private":true}' >"$root/app/package.json"
npm install --silent --prefix "$root/app" --omit=dev --no-audit --no-fund --prefer-offline "$work"/kthena-*.tgz
ctr=$(buildah from scratch)
buildah copy --quiet "$ctr" "$root" / >/dev/null
buildah config --user 1000:1000 --workingdir /app --env NODE_ENV=production \
  --port 8080 --port 9090 --port 8443 \
  --entrypoint '["/usr/bin/node","/app/node_modules/kthena/dist/cli/main.js"]' --cmd '--help' "$ctr"
buildah commit --quiet --format oci "$ctr" "oci-archive:$out" >/dev/null
echo "image: $out ($(du -h "$out" | cut -f1))"
# Run it: unpack the layer and execute the entrypoint inside the image's root filesystem.
check=$work/check
mkdir -p "$check/oci" "$check/root"
tar -xf "$out" -C "$check/oci"
manifest=$(node -e 'const i=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(i.manifests[0].digest.split(":")[1])' "$check/oci/index.json")
for layer in $(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));for(const l of m.layers)console.log(l.digest.split(":")[1])' "$check/oci/blobs/sha256/$manifest"); do
  tar -xf "$check/oci/blobs/sha256/$layer" -C "$check/root"
done
v=$(chroot --userspec=1000:1000 "$check/root" /usr/bin/node /app/node_modules/kthena/dist/cli/main.js --version)
n=$(chroot --userspec=1000:1000 "$check/root" /usr/bin/node /app/node_modules/kthena/dist/cli/main.js crds | grep -c '^kind: CustomResourceDefinition')
echo "inside the image as uid 1000: kthena --version → $v; kthena crds → $n CRDs"
