//! The kernel heap's big blocks and last resort, in boots of their own
//! (`kernel/src/mm/heapcheck.rs`): a vector growing past a page and shrinking again in
//! the vmalloc area keeps its bytes and gives its frames back; with every ordinary frame taken, an infallible allocation is served from the
//! emergency reserve, which refills once the frames come back; with the reserve used up
//! too, the kernel panics naming heap exhaustion and the sizes.

mod common;

use common::bulkhead;
use std::time::Duration;

#[test]
fn big_blocks_resize_and_the_emergency_reserve_serves_and_refills() {
    let run = bulkhead(
        &[
            "--timeout",
            "180",
            "--append",
            "test_heap_reserve=1",
            "--init",
            "/init",
            "t_procmem",
        ],
        Duration::from_secs(240),
    );
    let text = run.describe();
    for line in [
        "heap vmalloc test: passed, a vector grew to 256 KiB and shrank to 20 KiB keeping its bytes",
        "memory: out of frames, the kernel heap is using its emergency reserve (63 of 64 frames left)",
        "heap reserve test: 65536 bytes served from the emergency reserve with ",
        "memory: the kernel heap's emergency reserve is refilled (64 frames)",
        "heap reserve test: passed, reserve refilled (64 frames), ",
    ] {
        assert!(text.contains(line), "{line:?} logged\n{text}");
    }
    assert_eq!(run.status, Some(0), "the boot went on\n{text}");
}

#[test]
fn heap_exhaustion_panics_naming_the_heap_and_the_sizes() {
    let run = bulkhead(
        &["--timeout", "120", "--append", "test_heap_exhaust=1"],
        Duration::from_secs(180),
    );
    let text = run.describe();
    assert_eq!(run.status, Some(127), "a kernel panic\n{text}");
    assert!(
        text.contains("KERNEL PANIC: ") && text.contains("memory allocation of 16384 bytes failed"),
        "Rust's allocation error\n{text}"
    );
    assert!(
        text.contains(
            "kernel heap exhausted: a block of 16384 bytes (align 1) could not be served, no \
             frame left and the emergency reserve (256 KiB) used up; heap in use "
        ),
        "the heap's report\n{text}"
    );
}
