//! CRC-16/ARC, the checksum of every DC-09 frame.
//!
//! Polynomial 0x8005 reflected, initial value 0, no final xor; check value `BB3D` for
//! `123456789`. It covers the same bytes the length field counts: from the opening quote of
//! the token to the last byte before CR.

const ARC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_ARC);

/// The CRC of `bytes`.
#[must_use]
pub fn crc16(bytes: &[u8]) -> u16 {
    ARC.checksum(bytes)
}

/// The CRC of `bytes` followed by CR, as the Eldes dialect computes it.
#[must_use]
pub fn crc16_with_cr(bytes: &[u8]) -> u16 {
    let mut digest = ARC.digest();
    digest.update(bytes);
    digest.update(b"\r");
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values_of_the_catalogue() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(b""), 0x0000);
        assert_eq!(crc16(b"A"), 0x30C0);
    }

    #[test]
    fn crc_of_a_real_frame() {
        // An Ajax frame quoted in the protocol notes; its CRC field says B40B.
        let body = br#""SIA-DCS"0004L0#AAA[#AAA|Nri0/RP0000]_09:10:30,02-20-2023"#;
        assert_eq!(crc16(body), 0xB40B);
        assert_eq!(body.len(), 0x39);
    }
}
