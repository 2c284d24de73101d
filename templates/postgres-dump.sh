#!/bin/sh
# The export's backup command: postgres-dump.sh DB [DB...]
# The working directory is a fresh, empty staging directory that becomes the dump:
#   globals.sql        roles and tablespaces (pg_dumpall --globals-only)
#   databases/<db>/    each database in directory format, uncompressed: a content-defined
#                      chunking archive then dedups unchanged tables across dumps, and
#                      pg_restore can restore it in parallel (-j).
# Facts go to "$STACKC_FACTS" (outside the dump), tab-separated:
#   data-time  <ISO-8601 UTC>
#   rows       <db>  <schema>.<table>  <rows in the dump>
set -eu

if [ "$#" -lt 1 ]; then
    echo "usage: $0 DB [DB...]" >&2
    exit 2
fi
case ${STACKC_FACTS:-} in
    /*) ;;
    *) echo "$0: STACKC_FACTS must be an absolute path" >&2; exit 2 ;;
esac

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
for tool in pg_dump pg_dumpall pg_restore psql; do
    if [ ! -x "$PGBIN/$tool" ]; then
        echo "$0: no $tool in '$PGBIN' (set PGBIN to PostgreSQL's bin directory)" >&2
        exit 1
    fi
done

# A name becomes a directory and a field of a tab-separated line: refuse what would break either.
for db in "$@"; do
    case $db in
        '' | . | .. | */* | *"$tab"* | *"$nl"* | *"$cr"*)
            echo "$0: unsupported database name: '$db'" >&2
            exit 2 ;;
    esac
done

# A libpq connection string naming one database: a bare --dbname containing '=' would be
# parsed as a connection string itself.
conninfo() {
    quoted=$(printf '%s' "$1" | sed -e "s/[\\\\']/\\\\&/g")
    printf "dbname='%s'" "$quoted"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

"$PGBIN/pg_dumpall" -w --globals-only --file=globals.sql

# The server's clock just before the first pg_dump: every pg_dump takes its snapshot after
# this, so it is a conservative lower bound of the data's time (databases are not dumped
# from one common snapshot).
data_time=$("$PGBIN/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 -d template1 <<'SQL'
SELECT to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
SQL
)
printf 'data-time\t%s\n' "$data_time" > "$tmp/facts"

mkdir databases
for db in "$@"; do
    dbconn=$(conninfo "$db")
    "$PGBIN/pg_dump" -w --format=directory --compress=0 --file="databases/$db" --dbname="$dbconn"

    # pg_restore --list prints "<dumpId>; 0 <table oid> TABLE DATA <schema> <table> <owner>"
    # with names unquoted, so a name with spaces is ambiguous there: map the oid through the
    # catalog instead, and insist the listed text matches it (fails if a table was renamed
    # or dropped meanwhile). "counted" must match postgres-restore.sh's choice of tables:
    # ordinary tables, not members of an extension.
    "$PGBIN/pg_restore" --list "databases/$db" > "$tmp/list"
    "$PGBIN/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 -d "$dbconn" -o "$tmp/catalog" <<'SQL'
SELECT concat_ws(E'\t', c.oid,
       c.relkind = 'r' AND NOT EXISTS (SELECT FROM pg_depend d
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'),
       (n.nspname || c.relname || pg_get_userbyid(c.relowner)) ~ E'[\t\n\r]',
       translate(n.nspname || '.' || c.relname, E'\t\n\r', '   '),
       translate(n.nspname || ' ' || c.relname || ' ' || pg_get_userbyid(c.relowner), E'\t\n\r', '   '))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'm');
SQL
    LC_ALL=C awk -F "$tab" '
        FNR == NR { counted[$1] = $2; bad[$1] = $3; name[$1] = $4; listed[$1] = $5; next }
        /^[0-9]+; [0-9]+ [0-9]+ TABLE DATA / {
            id = $0; sub(/;.*/, "", id)
            split($0, word, " "); oid = word[3]
            text = $0; sub(/^[0-9]+; [0-9]+ [0-9]+ TABLE DATA /, "", text)
            if (!(oid in name)) { print "table data " id " (" text "): no table with oid " oid " any more" > "/dev/stderr"; exit 1 }
            if (bad[oid] == "t") { print "table " name[oid] ": a tab, newline or CR in its name, schema or owner is not supported" > "/dev/stderr"; exit 1 }
            if (listed[oid] != text) { print "table data " id ": listed as \"" text "\" but the table is now \"" listed[oid] "\"" > "/dev/stderr"; exit 1 }
            if (counted[oid] == "t") print id "\t" name[oid]
        }' "$tmp/catalog" "$tmp/list" > "$tmp/tables"

    # A .dat file is the table's COPY text output: one line per row (embedded newlines and
    # tabs are escaped as \n, \t), then a "\." line, then empty lines (pg_dump 15 writes
    # "\.\n\n\n"). A row is never exactly "\." (a lone backslash is written "\\"), but it can
    # be empty (one empty text column, or no column), so count up to the terminator.
    while IFS="$tab" read -r id table; do
        count=$(LC_ALL=C awk '
            ended { if ($0 != "") { bad = 1; exit }; next }
            $0 == "\\." { ended = 1; next }
            { n++ }
            END { if (bad || !ended) exit 1; print n + 0 }' "databases/$db/$id.dat") || {
            echo "$0: databases/$db/$id.dat ($table) is not a complete COPY text file" >&2
            exit 1
        }
        printf 'rows\t%s\t%s\t%s\n' "$db" "$table" "$count" >> "$tmp/facts"
    done < "$tmp/tables"
done

cp "$tmp/facts" "$STACKC_FACTS"
