//! 8259 PIC (remapped to vectors 32–47) and the PIT at `HZ`.

use super::cpu::{inb, outb};

pub const HZ: u64 = 1000;
pub const IRQ_BASE: u8 = 32;
const PIT_HZ: u64 = 1_193_182;

pub fn init() {
    // ICW1..ICW4: cascade, vectors 32/40, 8086 mode
    outb(0x20, 0x11);
    outb(0xA0, 0x11);
    outb(0x21, IRQ_BASE);
    outb(0xA1, IRQ_BASE + 8);
    outb(0x21, 4);
    outb(0xA1, 2);
    outb(0x21, 1);
    outb(0xA1, 1);
    // unmask IRQ0 (timer), IRQ2 (cascade), IRQ4 (COM1)
    outb(0x21, !0b0001_0101);
    outb(0xA1, 0xff);
    let div = (PIT_HZ / HZ) as u16;
    outb(0x43, 0x34); // channel 0, lo/hi, rate generator
    outb(0x40, div as u8);
    outb(0x40, (div >> 8) as u8);
}

pub fn eoi(irq: u8) {
    if irq >= 8 {
        outb(0xA0, 0x20);
    }
    outb(0x20, 0x20);
}

/// Reads the CMOS real-time clock: seconds since the Unix epoch.
pub fn rtc_epoch_seconds() -> u64 {
    fn reg(r: u8) -> u8 {
        outb(0x70, r);
        inb(0x71)
    }
    while reg(0x0A) & 0x80 != 0 {}
    let b = reg(0x0B);
    let conv = |v: u8| {
        if b & 0x04 != 0 {
            v as u64
        } else {
            ((v >> 4) * 10 + (v & 0xf)) as u64
        }
    };
    let sec = conv(reg(0x00));
    let min = conv(reg(0x02));
    let hour_raw = reg(0x04);
    let mut hour = conv(hour_raw & 0x7f);
    if b & 0x02 == 0 && hour_raw & 0x80 != 0 {
        hour = (hour + 12) % 24;
    }
    let day = conv(reg(0x07));
    let month = conv(reg(0x08));
    let year = 2000 + conv(reg(0x09));
    days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}

fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
