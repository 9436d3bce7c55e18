#!/bin/sh
# Write the passwd-file from DOVECOT_USERS ("name:password,name:password"), make a self-signed
# certificate if there is none, and run Dovecot in the foreground.
set -eu

: "${DOVECOT_USERS:?set DOVECOT_USERS to name:password[,name:password...]}"

users=/etc/dovecot/users
tmp=$(mktemp /etc/dovecot/.users.XXXXXX)
old_ifs=$IFS
IFS=,
for pair in $DOVECOT_USERS; do
  name=${pair%%:*}
  password=${pair#*:}
  if [ -z "$name" ] || [ "$name" = "$pair" ]; then
    echo "DOVECOT_USERS: expected name:password, got '$pair'" >&2
    exit 1
  fi
  install -d -o 5000 -g 5000 -m 0700 "/srv/mail/$name"
  printf '%s:{PLAIN}%s:5000:5000::/srv/mail/%s::\n' "$name" "$password" "$name" >>"$tmp"
done
IFS=$old_ifs
chown root:dovecot "$tmp"
chmod 0640 "$tmp"
mv "$tmp" "$users"

if [ ! -s /etc/dovecot/tls/cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=${DOVECOT_HOSTNAME:-dovecot}" \
    -addext "subjectAltName=DNS:${DOVECOT_HOSTNAME:-dovecot},DNS:localhost,IP:127.0.0.1" \
    -keyout /etc/dovecot/tls/key.pem -out /etc/dovecot/tls/cert.pem 2>/dev/null
  chmod 0600 /etc/dovecot/tls/key.pem
fi

exec dovecot -F -c /etc/dovecot/dovecot.conf
