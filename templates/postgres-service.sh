#!/bin/sh
# The long-running service of one instance's own PostgreSQL cluster:
#   postgres-service.sh DATADIR SOCKETDIR ADDRESS PORT
# Creates the cluster on first start, then becomes the postmaster (exec), so the
# supervisor's signals reach it and postmaster.pid keeps a second server off DATADIR.
set -eu

if [ "$#" -ne 4 ]; then
    echo "usage: $0 DATADIR SOCKETDIR ADDRESS PORT" >&2
    exit 2
fi
datadir=$1
socketdir=$2
address=$3
port=$4
case $datadir in /*) ;; *) echo "$0: DATADIR must be absolute: $datadir" >&2; exit 2 ;; esac
case $socketdir in /*) ;; *) echo "$0: SOCKETDIR must be absolute: $socketdir" >&2; exit 2 ;; esac

# Debian keeps initdb and postgres off PATH (only the pg_wrapper clients are on it).
if [ -z "${PGBIN:-}" ]; then
    if initdb=$(command -v initdb); then
        # Resolve a symlink (e.g. /usr/local/bin/initdb) to the real bin directory.
        initdb=$(readlink -f "$initdb")
        PGBIN=$(dirname "$initdb")
    else
        nl='
'
        candidates=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
        PGBIN=${candidates%%"$nl"*}
    fi
fi
if [ ! -x "$PGBIN/postgres" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "$0: no initdb/postgres in '$PGBIN' (set PGBIN to PostgreSQL's bin directory)" >&2
    exit 1
fi

for dir in "$datadir" "$socketdir"; do
    if [ ! -d "$dir" ]; then
        mkdir -p "$(dirname "$dir")"
        mkdir -m 0700 "$dir"
    fi
done
# The socket directory is the only local way in (pg_hba trusts local connections).
chmod 0700 "$socketdir"

if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root. setpriv execs in place (no fork, unlike
    # su/runuser), so the postmaster is still the supervised process.
    chown postgres:postgres "$datadir" "$socketdir"
    set -- setpriv --reuid=postgres --regid=postgres --init-groups --
    # root's working directory may be closed to postgres.
    cd /
else
    set --
fi

# PG_VERSION marks an existing cluster: never initialize over it. initdb refuses a
# non-empty directory (a half-written one fails loudly) and sets the mode to 0700.
if [ ! -f "$datadir/PG_VERSION" ]; then
    "$@" "$PGBIN/initdb" -D "$datadir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --no-instructions
fi

exec "$@" "$PGBIN/postgres" -D "$datadir" -k "$socketdir" -h "$address" -p "$port"
