#!/bin/sh
# The secured profile's one-shot (docker-compose.yml, `--profile secured`): into /secured, a CA,
# the broker's certificate (mTLS between listeners, `User:broker`), the admin's client
# certificate (`User:admin`, which applies the topics and ACLs over mTLS, so no SCRAM user has to
# exist first) and a random SCRAM password per principal, as one file each and as the
# `user=password` lines `conveyor acls apply --password-file` reads.
# Kept across runs (the `secured` volume); `docker compose down -v` renews everything.
set -eu
PRINCIPALS="gateway operator welcome-email analytics crm-sync payments inventory fulfillment order-email"

command -v openssl >/dev/null || apk add --no-cache openssl >/dev/null
cd "${SECURED_DIR:-/secured}"

if [ ! -f ca.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 \
        -subj "/CN=conveyor compose CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# issue NAME EXTENDED_KEY_USAGE [SUBJECT_ALT_NAME]: NAME.key, NAME.pem and NAME.keystore.pem
# (key then certificate: Kafka's PEM key store)
issue() {
    [ -f "$1.pem" ] && return 0
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$2"
        [ -z "${3:-}" ] || echo "subjectAltName=$3"
    } > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
        -extfile "$1.ext" -out "$1.pem"
    cat "$1.key" "$1.pem" > "$1.keystore.pem"
    rm "$1.csr" "$1.ext"
}
issue broker serverAuth,clientAuth DNS:kafka-secured,DNS:localhost
issue admin clientAuth

: > users.properties
for user in $PRINCIPALS; do
    [ -f "$user.password" ] || openssl rand -hex 24 > "$user.password"
    printf '%s=%s\n' "$user" "$(cat "$user.password")" >> users.properties
done

# The broker (uid 1000) and conveyor (uid 10001) read these from a volume only this profile
# mounts; the CA's key is needed by nobody else.
chmod 0444 ./*.pem ./*.key ./*.password users.properties
chmod 0400 ca.key
echo "secured-init: CA, certificates and SCRAM passwords in /secured"
