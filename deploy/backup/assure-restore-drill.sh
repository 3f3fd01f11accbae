#!/bin/sh
# Restore drill: restores a dump into a scratch database next to the real one, checks it with
# assure's own commands, prints what it holds, and drops it. Run it every quarter (and after any
# change to the backups): a backup never restored is a hope.
#   assure-restore-drill [DUMP]          (default: the newest dump in $BACKUP_DIR/db)
# Environment: DATABASE_URL (the live database: only used to reach the server, never written),
#   BACKUP_DIR (default /var/backups/assure), DRILL_DB (default assure_restore_drill),
#   ASSURE (the assure command, default /opt/assure/venv/bin/assure), and the rest of
#   /etc/assure/env for the checks. The role needs CREATEDB.
# Exit status 0 when the dump restored and passed the checks.
set -eu

: "${DATABASE_URL:?DATABASE_URL is not set (load /etc/assure/env)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/assure}
DRILL_DB=${DRILL_DB:-assure_restore_drill}
ASSURE=${ASSURE:-/opt/assure/venv/bin/assure}

dump=${1:-$(ls -1t "$BACKUP_DIR"/db/*.dump 2>/dev/null | head -n 1)}
[ -n "$dump" ] && [ -f "$dump" ] || { echo "no dump found in $BACKUP_DIR/db" >&2; exit 2; }
case "$DATABASE_URL" in *\?*) echo "DATABASE_URL with a query string: set DRILL_URL" >&2; exit 2;; esac
# The same server and credentials, another database name.
DRILL_URL=${DRILL_URL:-${DATABASE_URL%/*}/$DRILL_DB}

drop() { psql --quiet --dbname="$DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$DRILL_DB\" WITH (FORCE)"; }
drop
psql --quiet --dbname="$DATABASE_URL" -c "CREATE DATABASE \"$DRILL_DB\""
trap drop EXIT

started=$(date +%s)
echo "restoring $dump into $DRILL_DB"
pg_restore --no-owner --no-privileges --exit-on-error --jobs=2 --dbname="$DRILL_URL" "$dump"
echo "restored in $(( $(date +%s) - started )) s"

# The schema is the one this release expects: no migration missing, none unknown.
DATABASE_URL=$DRILL_URL "$ASSURE" migrate --check --verbosity 0
echo "migrations: complete"
# The audit trail's hash chain holds in the copy (tampering or a truncated restore shows here).
DATABASE_URL=$DRILL_URL "$ASSURE" audit verify
# What the copy holds, to compare with the live figures of the same night.
for table in members_member identity_account notifications_outboxmessage core_auditevent; do
  printf '%s: %s\n' "$table" \
    "$(psql --tuples-only --no-align --dbname="$DRILL_URL" -c "SELECT count(*) FROM $table")"
done
echo "restore drill passed"
