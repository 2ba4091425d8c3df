#!/usr/bin/env bash
# Makes a CA and a serving certificate with openssl, in the layout `batchguard certs` writes
# (ca.crt, tls.crt, tls.key), for a machine where batchguard is not built yet. Where it is,
# prefer the same thing from the binary:
#
#   batchguard certs --out-dir deploy/overlays/static/certs \
#     --hosts batchguard.batchguard.svc,batchguard.batchguard.svc.cluster.local
#
#   certs/make-dev-certs.sh [out-dir]     # default deploy/overlays/static/certs (git-ignored)
#
# The serving certificate covers batchguard.batchguard.svc(.cluster.local), localhost and
# 127.0.0.1, is valid 365 days, and uses ECDSA P-256. How the files reach the cluster (and
# its caBundle): docs/install.md, "Install: certificate files you made (static)".
set -euo pipefail
OUT=${1:-"$(dirname "$0")/../deploy/overlays/static/certs"}
SERVICE=${SERVICE:-batchguard}
NAMESPACE=${NAMESPACE:-batchguard}
mkdir -p "$OUT"
umask 077

openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/ca.key"
openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days 3650 \
  -subj "/CN=batchguard CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$OUT/ca.crt"

openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/tls.key.ec"
# rustls reads PKCS#8, SEC1 and PKCS#1 keys; PKCS#8 is the common denominator.
openssl pkcs8 -topk8 -nocrypt -in "$OUT/tls.key.ec" -out "$OUT/tls.key"
rm -f "$OUT/tls.key.ec"
openssl req -new -key "$OUT/tls.key" -subj "/CN=$SERVICE.$NAMESPACE.svc" -out "$OUT/tls.csr"
cat >"$OUT/tls.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$SERVICE.$NAMESPACE.svc,DNS:$SERVICE.$NAMESPACE.svc.cluster.local,DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in "$OUT/tls.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
  -days 365 -sha256 -extfile "$OUT/tls.ext" -out "$OUT/tls.crt" 2>/dev/null
rm -f "$OUT/tls.csr" "$OUT/tls.ext" "$OUT/ca.srl"
chmod 644 "$OUT/ca.crt" "$OUT/tls.crt"

cat <<MSG
Wrote $OUT/{ca.crt,ca.key,tls.crt,tls.key}.
In a cluster (kustomize puts ca.crt into the caBundle; see docs/install.md):
  kubectl apply -k deploy/overlays/static        # with the files in deploy/overlays/static/certs
Locally:
  batchguard serve --tls-cert $OUT/tls.crt --tls-key $OUT/tls.key --listen 127.0.0.1:8443
MSG
