#!/bin/sh
# Nightly backup of assure: the database (pg_dump, custom format) and the files of the data
# directory that the database refers to (uploaded attachments, the letters' spool).
#   install -m 0755 assure-backup.sh /usr/local/sbin/assure-backup
#   assure-backup.timer runs it every night (assure-backup.service, as the assure user).
# Environment: DATABASE_URL and ASSURE_DATA_DIR (from /etc/assure/env), and
#   BACKUP_DIR  where to write (default /var/backups/assure), one copy leaves the machine
#   KEEP_DAYS   how long to keep (default 35)
# Prints the files written; exits non-zero on any failure (systemd then marks the unit failed,
# which monitoring must report). docs/operations.md, "Backups", has the restore commands and
# assure-restore-drill.sh checks that a dump restores.
set -eu

: "${DATABASE_URL:?DATABASE_URL is not set (load /etc/assure/env)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/assure}
KEEP_DAYS=${KEEP_DAYS:-35}
DATA_DIR=${ASSURE_DATA_DIR:-/var/lib/assure}
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)

# The dumps hold NIRs, IBANs and health-related payments: readable by their owner only.
umask 077
mkdir -p "$BACKUP_DIR/db" "$BACKUP_DIR/files"

# --- Database: one consistent snapshot, whatever runs meanwhile ----------------------------------
dump="$BACKUP_DIR/db/assure-$stamp.dump"
pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --file="$dump.partial" --dbname="$DATABASE_URL"
# A dump that pg_restore cannot list is not a backup.
pg_restore --list "$dump.partial" >/dev/null
mv "$dump.partial" "$dump"
echo "$dump"

# --- Files: media and the outbox (certificates, attachments, letters) -----------------------------
set --
for part in media outbox signing; do
  [ -d "$DATA_DIR/$part" ] && set -- "$@" "$part"
done
if [ "$#" -gt 0 ]; then
  archive="$BACKUP_DIR/files/assure-files-$stamp.tar.gz"
  tar --create --gzip --file="$archive.partial" --directory="$DATA_DIR" "$@"
  mv "$archive.partial" "$archive"
  echo "$archive"
fi

# --- Retention ------------------------------------------------------------------------------------
find "$BACKUP_DIR/db" "$BACKUP_DIR/files" -type f -mtime +"$KEEP_DAYS" -delete
