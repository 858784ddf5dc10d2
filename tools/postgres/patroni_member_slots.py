#!/usr/bin/python3
"""Patroni on_role_change callback: a new leader's member slots, at once.

Patroni 3.0 creates the replication slots of the other members on a new
leader only on its second loop after the promotion. Until then every
standby's walreceiver is refused ("replication slot ... does not exist"),
and in synchronous_mode_strict the new leader takes no write, as no standby
streams (the README's Failover measured has the cost). This callback
creates the slots as soon as the promotion starts; Patroni finds them made
and keeps them (they are the ones it wants).

Usage, in patroni.yml:
  postgresql:
    callbacks:
      on_role_change: /usr/bin/python3 /path/patroni_member_slots.py
        --name NODE --api http://HOST:API_PORT --host SOCKET_DIR --port PG_PORT
Patroni appends the action, the role and the scope. It never fails: a slot
it cannot make is left to Patroni, which makes it a loop later.
"""

import argparse
import json
import sys
import urllib.request

import psycopg2
from patroni.dcs import slot_name_from_member_name


def wanted_slots(cluster, me):
    # The leader's rule (patroni.dcs.Cluster.get_replication_slots): one slot
    # per other member, unless it replicates from a third one.
    names = {m["name"] for m in cluster.get("members", [])}
    slots = set()
    for m in cluster.get("members", []):
        if m["name"] == me:
            continue
        source = (m.get("tags") or {}).get("replicatefrom")
        if source is None or source == me or source not in names:
            slots.add(slot_name_from_member_name(m["name"]))
    return sorted(slots)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("action")
    parser.add_argument("role")
    parser.add_argument("scope")
    args = parser.parse_args()
    promoted = args.role in ("master", "primary")
    if args.action != "on_role_change" or not promoted:
        return 0
    try:
        with urllib.request.urlopen(args.api + "/cluster", timeout=5) as r:
            slots = wanted_slots(json.load(r), args.name)
        conn = psycopg2.connect(host=args.host, port=args.port, user=args.user,
                                dbname="postgres", connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            for slot in slots:
                # Reserved at once, so the WAL a standby needs stays.
                cur.execute(
                    "SELECT pg_create_physical_replication_slot(%s, true)"
                    " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots"
                    " WHERE slot_name = %s)", (slot, slot))
        conn.close()
        print("member slots ready: " + ", ".join(slots), file=sys.stderr)
    except Exception as e:  # Patroni makes what is missing on a later loop.
        print("member slots not made: %s" % e, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
