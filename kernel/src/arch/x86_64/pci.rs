//! PCI configuration space through the legacy ports 0xCF8/0xCFC (configuration
//! mechanism #1), for `virtio-drivers`' PCI bus walker.

use super::cpu::{inl, outl};
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};

const CONFIG_ADDRESS: u16 = 0xCF8;
const CONFIG_DATA: u16 = 0xCFC;

/// Port-I/O access to the configuration space of every bus. Single CPU, interrupts off
/// in the kernel: an address write and its data access are never interleaved.
pub struct PortCam;

fn address(df: DeviceFunction, offset: u8) -> u32 {
    0x8000_0000
        | (df.bus as u32) << 16
        | ((df.device as u32) & 0x1f) << 11
        | ((df.function as u32) & 0x7) << 8
        | (offset as u32 & 0xfc)
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, df: DeviceFunction, offset: u8) -> u32 {
        outl(CONFIG_ADDRESS, address(df, offset));
        inl(CONFIG_DATA)
    }

    fn write_word(&mut self, df: DeviceFunction, offset: u8, data: u32) {
        outl(CONFIG_ADDRESS, address(df, offset));
        outl(CONFIG_DATA, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}
