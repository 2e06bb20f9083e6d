# gdb script: single-steps the guest between two user-space markers and writes each
# instruction's address (kernel and user) to $STEP_OUT, one operation after another.
# Run by stepprof.sh; environment: STEP_PORT, STEP_OUT, STEP_START, STEP_END (hex
# addresses of the program's mark_start and mark_end), STEP_OPS (how many marked spans).
import os
import gdb

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote :%s" % os.environ["STEP_PORT"])
start = int(os.environ["STEP_START"], 16)
end = int(os.environ["STEP_END"], 16)
limit = 500000
with open(os.environ["STEP_OUT"], "w") as out:
    for op in range(int(os.environ.get("STEP_OPS", "1"))):
        gdb.execute("hbreak *0x%x" % start)
        gdb.execute("continue")
        gdb.execute("delete")
        out.write("OP %d\n" % op)
        n = 0
        while n < limit:
            gdb.execute("stepi", to_string=True)
            pc = int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF
            if pc == end:
                break
            out.write("%x\n" % pc)
            n += 1
        out.write("END %d\n" % n)
gdb.execute("kill")
