//! The vDSO seen by a musl static program (`tests/c/vdso.c` as init): musl finds it through
//! `AT_SYSINFO_EHDR`, its clock reads make no system call (the process's `Syscalls:`
//! count), agree with the system call, and follow the TIME container (a child created into
//! one, `setns` into one, `execve` entering `time_for_children`).

mod common;

use common::boot_musl;

#[test]
fn musl_uses_the_vdso_and_time_containers_shift_it() {
    let run = boot_musl("vdso", &[], &[], 120);
    let lines: Vec<&str> = run.lines().filter(|l| l.starts_with("vdso: ")).collect();
    let expected = [
        "vdso: PASS auxv_points_at_an_elf_image",
        "vdso: PASS clock_reads_make_no_system_call",
        "vdso: PASS values_lie_between_system_call_readings",
        "vdso: PASS time_container_offsets_apply_without_a_system_call",
        "vdso: PASS child_in_time_container_exits_zero",
        "vdso: PASS exec_enters_the_time_container",
        "vdso: done",
    ];
    assert_eq!(lines, expected, "vdso's cases\n{}", run.describe());
    assert_eq!(
        run.status,
        Some(0),
        "vdso's exit status\n{}",
        run.describe()
    );
}
