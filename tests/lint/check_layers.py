#!/usr/bin/env python3
"""The rooms of src/ and what each may include (docs/architecture.md).

CMakeLists.txt declares every room with the rooms and libraries it links
and writes them to build/rooms.txt; CMake itself only enforces links, so a
header of a room that is not linked, or one whose code is inline, would
slip through. This check reads every file of every room and fails on:

  - an `#include "room/x.h"` of a room the including room does not use
    (directly or through a room it uses);
  - an `#include <lib/...>` of a library neither it nor a room it uses links;
  - in the pure rooms (core, model, sched, workload), a standard header for
    threads, files, processes or the clock;
  - anywhere in src/ but runtime/real_clock.cc, a read of the clock or a
    sleep that does not go through core/clock.h.

Usage: check_layers.py --root SRC_TREE_ROOT --rooms build/rooms.txt
       check_layers.py --self-test   (proves the check fails on violations)
"""
import argparse
import os
import re
import sys
import tempfile

# Library targets (as CMakeLists.txt names them) by the headers they bring.
LIB_HEADERS = [
    ("grpcpp/", "gRPC::grpc++"),
    ("grpc/", "gRPC::grpc++"),
    ("httplib.h", "PkgConfig::HTTPLIB"),
    ("sqlite3.h", "SQLite::SQLite3"),
    ("openssl/", "OpenSSL::Crypto"),
    ("nlohmann/", "nlohmann_json::nlohmann_json"),
    ("yaml-cpp/", "yaml-cpp"),
    ("fmt/", "fmt::fmt"),
    ("absl/", "absl::strings"),
    ("CLI/", "CLI11::CLI11"),
    ("google/protobuf/", "stargate_proto"),
    ("xgboost/", "PkgConfig::XGBOOST"),
    ("coin/", "PkgConfig::CLP"),
]
# "proto/agent.pb.h" and friends: the generated code of stargate_proto.
GENERATED = [("proto/", "stargate_proto")]

PURE_ROOMS = {"core", "model", "sched", "workload"}
IMPURE_STD = re.compile(
    r"^(thread|mutex|shared_mutex|condition_variable|future|atomic|chrono|fstream|filesystem|iostream|cstdio|"
    r"ctime|random|unistd\.h|fcntl\.h|signal\.h|csignal|sys/.*|pthread\.h)$")
# The Clock interface names the standard wait types; core never waits,
# locks or starts a thread itself.
PURE_EXEMPT = {("core/clock.h", "mutex"), ("core/clock.h", "condition_variable")}

# std::chrono's clocks however named (an alias `Clock::now()` too), timed
# waits on a condition variable, sleeps, and the C and Abseil clocks.
CLOCK_READ = re.compile(
    r"::now\s*\(|\b(system_clock|steady_clock|high_resolution_clock)::now\b|\bsleep_for\b|\bsleep_until\b|"
    r"\.wait_for\s*\(|\.wait_until\s*\(|"
    r"\b(nanosleep|usleep|gettimeofday|clock_gettime)\s*\(|\btime\s*\(\s*(nullptr|NULL|0)\s*\)|"
    r"\babsl::Now\b|\babsl::SleepFor\b|(?<![\w.>:])sleep\s*\(")
CLOCK_OWNER = "runtime/real_clock.cc"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def read_rooms(path):
    rooms = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            while len(parts) < 3:
                parts.append("")
            rooms[parts[0]] = (parts[1].split(), parts[2].split())
    return rooms


def closure(rooms, room):
    seen, todo = set(), [room]
    while todo:
        r = todo.pop()
        for d in rooms.get(r, ([], []))[0]:
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def room_of(rooms, path):
    """The room a path under src/ belongs to: the longest room folder above it."""
    best = None
    for r in rooms:
        if path.startswith(r + "/") and (best is None or len(r) > len(best)):
            best = r
    return best


def lib_of(header):
    for prefix, lib in LIB_HEADERS:
        if header == prefix or header.startswith(prefix):
            return lib
    return None


def check(root, rooms):
    problems = []
    src = os.path.join(root, "src")
    for room in sorted(rooms):
        uses = closure(rooms, room)
        libs = set(rooms[room][1])
        for u in uses:
            libs.update(rooms[u][1])
        libs_norm = {("absl::strings" if l.startswith("absl::") else l) for l in libs}
        folder = os.path.join(src, room)
        if not os.path.isdir(folder):
            problems.append(f"src/{room}: declared in CMakeLists.txt but missing")
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".h", ".cc")):
                continue
            rel = f"{room}/{name}"
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                lines = f.readlines()
            for no, line in enumerate(lines, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, header = m.groups()
                where = f"src/{rel}:{no}"
                if kind == '"' and lib_of(header) is None:
                    gen = [lib for prefix, lib in GENERATED if header.startswith(prefix)]
                    if gen:
                        if gen[0] not in libs_norm:
                            problems.append(f"{where}: includes {header}, but {room} does not link {gen[0]}")
                        continue
                    target = room_of(rooms, header)
                    if target is None:
                        problems.append(f"{where}: includes {header}, which is in no room")
                    elif target != room and target not in uses:
                        problems.append(f"{where}: includes {header} of room {target}, which {room} may not use "
                                        f"(it uses: {' '.join(sorted(uses)) or 'nothing'})")
                else:
                    lib = lib_of(header)
                    if lib is not None and lib not in libs_norm:
                        problems.append(f"{where}: includes <{header}>, but {room} does not link {lib}")
                    top = room.split("/")[0]
                    if (top in PURE_ROOMS and IMPURE_STD.match(header) and (rel, header) not in PURE_EXEMPT):
                        problems.append(f"{where}: includes <{header}>: {top}/ is pure (no threads, files, "
                                        f"processes or clock)")
    # The clock rule covers every file of src/, rooms or not (cli/).
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), src)
            if rel == CLOCK_OWNER:
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                for no, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    if CLOCK_READ.search(code):
                        problems.append(f"src/{rel}:{no}: reads the clock or sleeps directly; use a Clock "
                                        f"(core/clock.h): {line.strip()}")
    return problems


def self_test():
    """Builds a small tree with one violation of each kind; each must be found."""
    with tempfile.TemporaryDirectory() as d:
        def write(path, text):
            full = os.path.join(d, "src", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        write("core/a.h", "#include <vector>\n#include <thread>\n")
        write("control/server/s.h", '#include "core/a.h"\n')
        write("control/agent/a.cc", '#include "control/server/s.h"\n#include <sqlite3.h>\n#include "core/a.h"\n')
        write("cli/main.cc", "auto t = std::chrono::steady_clock::now();\n// sleep_for in a comment is fine\n"
                             "using C = std::chrono::system_clock;\nauto u = C::now();\n"
                             "cv.wait_until(lock, deadline);\nauto n = clock.Now();\n")
        rooms_txt = os.path.join(d, "rooms.txt")
        with open(rooms_txt, "w") as f:
            f.write("core |  | fmt::fmt\ncontrol/server | core | SQLite::SQLite3\ncontrol/agent | core | \n")
        found = check(d, read_rooms(rooms_txt))
        expect = ["src/core/a.h:2: includes <thread>",
                  "src/control/agent/a.cc:1: includes control/server/s.h of room control/server",
                  "src/control/agent/a.cc:2: includes <sqlite3.h>, but control/agent does not link",
                  "src/cli/main.cc:1: reads the clock",
                  "src/cli/main.cc:4: reads the clock",
                  "src/cli/main.cc:5: reads the clock"]
        missing = [e for e in expect if not any(p.startswith(e) for p in found)]
        if missing or len(found) != len(expect):
            print("self-test FAILED: expected\n  " + "\n  ".join(expect) + "\nfound\n  " + "\n  ".join(found))
            return 1
        print(f"self-test: all {len(expect)} planted violations found")
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root")
    ap.add_argument("--rooms")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not a.root or not a.rooms:
        ap.error("--root and --rooms are required")
    rooms = read_rooms(a.rooms)
    problems = check(a.root, rooms)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); the rules are in CMakeLists.txt (stargate_room) and "
              f"docs/architecture.md")
        return 1
    print(f"{len(rooms)} rooms checked: every include is allowed, no clock read outside {CLOCK_OWNER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
