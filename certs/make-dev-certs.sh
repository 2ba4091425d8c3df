#!/usr/bin/env bash
# Makes a CA and a serving certificate for the in-cluster webhook with openssl, and prints
# the commands that install them. For a laptop, `batchguard serve` with no --tls-cert makes
# its own (under certs/dev/); for production, prefer cert-manager (deploy/cert-manager.yaml).
#
#   certs/make-dev-certs.sh [out-dir]        # default certs/out (ignored by git: keys inside)
#
# The serving certificate covers batchguard.batchguard.svc(.cluster.local), localhost and
# 127.0.0.1, is valid 365 days, and uses ECDSA P-256.
set -euo pipefail
OUT=${1:-"$(dirname "$0")/out"}
SERVICE=${SERVICE:-batchguard}
NAMESPACE=${NAMESPACE:-batchguard}
mkdir -p "$OUT"
umask 077

openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/ca.key"
openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days 3650 \
  -subj "/CN=batchguard CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$OUT/ca.pem"

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
openssl x509 -req -in "$OUT/tls.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial \
  -days 365 -sha256 -extfile "$OUT/tls.ext" -out "$OUT/tls.crt" 2>/dev/null
rm -f "$OUT/tls.csr" "$OUT/tls.ext" "$OUT/ca.srl"
chmod 644 "$OUT/ca.pem" "$OUT/tls.crt"

cat <<MSG
Wrote $OUT/{ca.pem,ca.key,tls.crt,tls.key}.
Install:
  kubectl apply -f deploy/namespace.yaml
  kubectl -n $NAMESPACE create secret tls batchguard-tls --cert=$OUT/tls.crt --key=$OUT/tls.key
  sed "s/CA_BUNDLE_PLACEHOLDER/\$(base64 -w0 $OUT/ca.pem)/" deploy/webhooks.yaml > $OUT/webhooks.yaml
Run locally:
  batchguard serve --tls-cert $OUT/tls.crt --tls-key $OUT/tls.key --listen 127.0.0.1:8443
MSG
