#!/usr/bin/env python3
"""Tallies the addresses step.py wrote: per operation, the instruction count (kernel and
user), then the kernel's and the program's instructions per function (the function the
code was compiled into) and per inlined function, and the kernel's per system call.

usage: tally.py STEPS KERNEL_ELF PROGRAM_ELF [TOP]
With STEPPROF_LINES=NAME set, also the instructions of the functions whose name contains
NAME, per source line (innermost inlined frame)."""
import collections
import os
import subprocess
import sys

KERNEL_BASE = 0xFFFF800000000000


def symbolize(elf, addrs):
    """addr -> [(function, file:line)], innermost inlined frame first (addr2line -i)."""
    addrs = sorted(set(addrs))
    if not addrs:
        return {}
    out = subprocess.run(
        ["addr2line", "-f", "-i", "-C", "-e", elf, "-a"] + ["%x" % a for a in addrs],
        capture_output=True, text=True, check=True).stdout.split("\n")
    frames, cur, fn = {}, None, None
    for line in out:
        if line.startswith("0x"):
            cur, fn = int(line, 16), None
            frames[cur] = []
        elif line:
            if fn is None:
                fn = line
            else:
                frames[cur].append((fn, line.rsplit("/", 1)[-1]))
                fn = None
    return frames


def main():
    steps, kernel, program = sys.argv[1:4]
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    ops, cur = [], None
    for line in open(steps):
        line = line.strip()
        if line.startswith("OP"):
            cur = []
            ops.append(cur)
        elif line and not line.startswith("END"):
            cur.append(int(line, 16))
    for n, op in enumerate(ops):
        kern = [a for a in op if a >= KERNEL_BASE]
        frames = symbolize(kernel, kern)
        frames.update(symbolize(program, [a for a in op if a < KERNEL_BASE]))
        outer, inner, calls = collections.Counter(), collections.Counter(), []
        lines, want = collections.Counter(), os.environ.get("STEPPROF_LINES")
        in_kernel = False
        for a in op:
            chain = frames.get(a) or [("?", "?")]
            outer[chain[-1][0][:100]] += 1
            inner[chain[0][0][:100]] += 1
            if want and want in chain[-1][0]:
                lines["%s  (%s)" % (chain[0][1], chain[0][0][:60])] += 1
            if a >= KERNEL_BASE and not in_kernel:
                calls.append(0)
            if a >= KERNEL_BASE:
                calls[-1] += 1
            in_kernel = a >= KERNEL_BASE
        print("== op %d: %d instructions, %d in the kernel (%s per kernel entry)"
              % (n, len(op), len(kern), ", ".join(map(str, calls))))
        print("-- per function")
        for name, count in outer.most_common(top):
            print("%7d  %s" % (count, name))
        print("-- per inlined function")
        for name, count in inner.most_common(top):
            print("%7d  %s" % (count, name))
        if want:
            print("-- per line in functions named *%s*" % want)
            for name, count in lines.most_common(top):
                print("%7d  %s" % (count, name))


if __name__ == "__main__":
    main()
