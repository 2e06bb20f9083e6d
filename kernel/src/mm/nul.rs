//! Finding the NUL that ends a string copied in from user space, eight bytes at a time:
//! every path system call runs it on its path (a byte loop cost a 17-byte path about 90
//! instructions in the `cargo run` build).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The index of the first zero byte of `bytes`.
pub fn first_nul(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for w in words.by_ref() {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        // The lowest byte flagged is the first zero one (a borrow only flags bytes above
        // a zero byte).
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_zero_byte_as_a_byte_loop_does() {
        let mut buf = [b'a'; 40];
        for len in 0..=buf.len() {
            for z in 0..=len {
                let s = &mut buf[..len];
                s.fill(b'x');
                if z < len {
                    s[z] = 0;
                    // Bytes after the first zero (another zero, 0x80, 0x01) do not matter.
                    for (k, b) in s[z + 1..].iter_mut().enumerate() {
                        *b = [0, 0x80, 0x01, 0xff][k % 4];
                    }
                }
                let want = s.iter().position(|&b| b == 0);
                assert_eq!(first_nul(s), want, "len {len} zero at {z}");
            }
        }
    }

    #[test]
    fn high_and_one_bytes_are_not_zero() {
        assert_eq!(
            first_nul(&[0x80, 0x01, 0xff, 0x7f, 0x81, 0x01, 0x80, 0x01]),
            None
        );
        assert_eq!(
            first_nul(&[0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00]),
            Some(7)
        );
        assert_eq!(first_nul(&[0x80; 9]), None);
    }
}
