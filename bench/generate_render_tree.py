#!/usr/bin/env python3
"""Writes the same layered configuration twice: as a stackc profile tree and as a zc.buildout .cfg tree.

files: layered files in one extends chain; each sets options, appends to a list and substitutes.
count: replicate() count, so 2*count-1 instances. Buildout has no replicate(), so its tree writes
the replicated sections out, each a macro of the leader/backup section with substitutions.
"""
import os
import sys


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(root, files, count):
    # --- stackc ---
    write(f"{root}/stackc/stack/stack.yaml", """stack:
  software-types:
    bench-export: {profile: instance.yaml, role: export, parameters: {port: integer, host: string}}
    bench-import: {profile: instance.yaml, role: import, parameters: {port: integer, host: string}}
    pull-backup: {profile: pbs.yaml, role: pull-backup}
""")
    write(f"{root}/stackc/stack/instance.yaml", """instance-config:
  dsn: ${instance:host}:${instance:port}/${instance:name}
  role-name: ${instance:role}-${instance:software-type}
""")
    write(f"{root}/stackc/stack/pbs.yaml", """pbs-config:
  from: ${instance:pull-from}
  to: ${instance:push-to}
""")
    for i in range(files):
        extends = f"layer_{i + 1}.yaml" if i + 1 < files else "stack/stack.yaml"
        write(f"{root}/stackc/layer_{i}.yaml", f"""stack:
  extends: [{extends}]
common:
  base: b{i}
  opt_{i}: value_${{common:base}}_{i}
  items +=: [item{i}]
leader:
  host: host{i}
  port: {5000 + i}
backup:
  <=: leader
  port: {6000 + i}
""")
    write(f"{root}/stackc/main.yaml", f"""stack:
  extends: [layer_0.yaml]
  instances:
    - replicate(db, {count}, bench-export, bench-import, leader, backup)
""")

    # --- buildout ---
    for i in range(files):
        extends = f"extends = layer_{i + 1}.cfg\n" if i + 1 < files else ""
        write(f"{root}/buildout/layer_{i}.cfg", f"""[buildout]
{extends}parts =
offline = true

[common]
base = b{i}
opt_{i} = value_${{common:base}}_{i}
items += item{i}

[leader]
host = host{i}
port = {5000 + i}

[backup]
<= leader
port = {6000 + i}
""")
    sections = []
    instance = "dsn = ${{:host}}:${{:port}}/${{:name}}\nrole-name = ${{:role}}-${{:software-type}}\n"
    sections.append(f"[db0]\n<= leader\nname = db0\nrole = export\nsoftware-type = bench-export\n" + instance.format())
    for i in range(1, count):
        sections.append(f"[db{i}]\n<= backup\nname = db{i}\nrole = import\nsoftware-type = bench-import\n" + instance.format())
        sections.append(f"[pbs-db-{i}]\nname = pbs-db-{i}\nrole = pull-backup\nfrom = ${{db0:name}}\nto = ${{db{i}:name}}\n")
    write(f"{root}/buildout/buildout.cfg", "[buildout]\nextends = layer_0.cfg\n\n" + "\n".join(sections))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
