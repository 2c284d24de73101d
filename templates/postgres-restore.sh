#!/bin/sh
# The import's restore command: postgres-restore.sh DB [DB...]
# The working directory is a dump written by postgres-dump.sh (manifest.json is ignored).
# Each database is restored beside the live one as <db>__stackc_new and its row counts checked
# against "$STACKC_EXPECTED_FACTS"; only when every database passed are they swapped in, so a
# failure leaves the standby's previous data intact and queryable.
set -eu

if [ "$#" -lt 1 ]; then
    echo "usage: $0 DB [DB...]" >&2
    exit 2
fi
case ${STACKC_FACTS:-} in
    /*) ;;
    *) echo "$0: STACKC_FACTS must be an absolute path" >&2; exit 2 ;;
esac
case ${STACKC_EXPECTED_FACTS:-} in
    /*) ;;
    *) echo "$0: STACKC_EXPECTED_FACTS must be an absolute path" >&2; exit 2 ;;
esac
if [ ! -r "$STACKC_EXPECTED_FACTS" ]; then
    echo "$0: cannot read STACKC_EXPECTED_FACTS '$STACKC_EXPECTED_FACTS'" >&2
    exit 1
fi

tab=$(printf '\t')
nl='
'
cr=$(printf '\r')

# Debian keeps initdb off PATH; use the clients of the same (newest) installation.
if [ -z "${PGBIN:-}" ]; then
    if initdb=$(command -v initdb); then
        initdb=$(readlink -f "$initdb")
        PGBIN=$(dirname "$initdb")
    else
        candidates=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
        PGBIN=${candidates%%"$nl"*}
    fi
fi
for tool in pg_restore psql; do
    if [ ! -x "$PGBIN/$tool" ]; then
        echo "$0: no $tool in '$PGBIN' (set PGBIN to PostgreSQL's bin directory)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
# Same rules as postgres-dump.sh, and "<db>__stackc_new" must fit in 63 bytes, or
# PostgreSQL would truncate it into another name.
for db in "$@"; do
    case $db in
        '' | . | .. | */* | *"$tab"* | *"$nl"* | *"$cr"*)
            echo "$0: unsupported database name: '$db'" >&2
            rm -rf "$tmp"
            exit 2 ;;
    esac
    bytes=$(printf '%s' "$db" | wc -c)
    if [ "$bytes" -gt 51 ]; then
        echo "$0: database name longer than 51 bytes: '$db'" >&2
        rm -rf "$tmp"
        exit 2
    fi
    printf '%s\n' "$db" >> "$tmp/databases"
done

# A libpq connection string naming one database: a bare --dbname containing '=' would be
# parsed as a connection string itself.
conninfo() {
    quoted=$(printf '%s' "$1" | sed -e "s/[\\\\']/\\\\&/g")
    printf "dbname='%s'" "$quoted"
}

# Administration goes through template1, so that "postgres" itself can be renamed.
admin() {
    "$PGBIN/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 -d template1 "$@"
}

# Leave only <db> (the data from before any interrupted swap) for every database. Also the
# cleanup after a failure, so it reports failures itself instead of relying on set -e
# (which a caller's `if`/`||` would disable).
recover() {
    failed=0
    while IFS= read -r db; do
        admin -v db="$db" -v old="${db}__stackc_old" -v new="${db}__stackc_new" <<'SQL' || failed=1
SET client_min_messages = warning;
SELECT EXISTS (SELECT FROM pg_database WHERE datname = :'db') AS have_db,
       EXISTS (SELECT FROM pg_database WHERE datname = :'old') AS have_old \gset
\if :have_old
\if :have_db
-- Both: the swap had completed but for dropping the previous data.
DROP DATABASE :"old" WITH (FORCE);
\else
SELECT count(pg_terminate_backend(pid)) AS terminated FROM pg_stat_activity WHERE datname = :'old' \gset
ALTER DATABASE :"old" RENAME TO :"db";
\endif
\endif
DROP DATABASE IF EXISTS :"new" WITH (FORCE);
SQL
    done < "$tmp/databases"
    return "$failed"
}

succeeded=false
cleanup() {
    if [ "$succeeded" != true ]; then
        if ! recover; then
            echo "$0: could not drop the half-restored databases; the next run will" >&2
        fi
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

recover

# Roles already on the standby (postgres at least) make CREATE ROLE fail, and the ALTER ROLE
# after it still applies the dump's attributes; tablespaces likewise on every run after the
# first. Any other error fails the restore.
status=0
"$PGBIN/psql" -X -w -q -d template1 -f globals.sql 2> "$tmp/globals.err" || status=$?
if ! LC_ALL=C awk '
        /^psql:globals\.sql:[0-9]+: ERROR:  (role|tablespace) ".*" already exists$/ { next }
        { print > "/dev/stderr" }
        /ERROR:|FATAL:|PANIC:|^psql: error/ { bad = 1 }
        END { exit bad }' "$tmp/globals.err" || [ "$status" -ne 0 ]; then
    echo "$0: applying globals.sql failed" >&2
    exit 1
fi

: > "$tmp/facts"
for db in "$@"; do
    new="${db}__stackc_new"
    admin -v new="$new" <<'SQL'
CREATE DATABASE :"new" TEMPLATE template0;
SQL
    newconn=$(conninfo "$new")
    # Owners and privileges are kept (no --no-owner): the roles came with globals.sql and
    # the restore runs as a superuser, so the standby can take over as the same database.
    "$PGBIN/pg_restore" -w --exit-on-error --jobs=2 --dbname="$newconn" "databases/$db"

    # The same tables and naming as postgres-dump.sh: ordinary tables, not members of an
    # extension, "<schema>.<table>" unquoted.
    "$PGBIN/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 -v db="$db" -d "$newconn" -o "$tmp/actual" <<'SQL'
SELECT format('SELECT %L || count(*) FROM %I.%I',
              E'rows\t' || :'db' || E'\t' || n.nspname || '.' || c.relname || E'\t',
              n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
\gexec
SQL
    LC_ALL=C sort -o "$tmp/actual.sorted" "$tmp/actual"
    DB=$db LC_ALL=C awk -F "$tab" '$1 == "rows" && $2 == ENVIRON["DB"]' "$STACKC_EXPECTED_FACTS" > "$tmp/expected"
    LC_ALL=C sort -o "$tmp/expected.sorted" "$tmp/expected"
    if ! cmp -s "$tmp/expected.sorted" "$tmp/actual.sorted"; then
        echo "$0: database '$db': the restored row counts differ from the dump's:" >&2
        diff -u --label expected --label restored "$tmp/expected.sorted" "$tmp/actual.sorted" >&2 || :
        exit 1
    fi
    cat "$tmp/actual.sorted" >> "$tmp/facts"
done

# Every database passed: swap each in. A swap interrupted here is finished or undone by
# recover() (the next run's, or this run's cleanup).
for db in "$@"; do
    admin -v db="$db" -v old="${db}__stackc_old" -v new="${db}__stackc_new" <<'SQL'
SET client_min_messages = warning;
SELECT EXISTS (SELECT FROM pg_database WHERE datname = :'db') AS have_db \gset
\if :have_db
-- RENAME waits up to 5 s for the terminated sessions to go, and fails if others came.
SELECT count(pg_terminate_backend(pid)) AS terminated FROM pg_stat_activity
WHERE datname = :'db' AND pid <> pg_backend_pid() \gset
ALTER DATABASE :"db" RENAME TO :"old";
\endif
ALTER DATABASE :"new" RENAME TO :"db";
DROP DATABASE IF EXISTS :"old" WITH (FORCE);
SQL
done
succeeded=true

cp "$tmp/facts" "$STACKC_FACTS"
