//! Crafted hostile attachments: files of a few kB or MB that claim, or
//! inflate to, gigabytes. Made at test time, in milliseconds.

use std::io::Write;

const MIB: usize = 1024 * 1024;

/// A zlib stream of `mib` MiB of zeros, in about 1 kB per MiB: the same
/// byte-aligned deflate blocks for one MiB, repeated (each copy refers only
/// to its own output), then a final empty block and the checksum.
pub fn zeros_zlib(mib: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; MIB]).unwrap();
    encoder.flush().unwrap();
    let one_mib = encoder.get_ref().clone();
    let mut out = vec![0x78, 0xDA];
    for _ in 0..mib {
        out.extend_from_slice(&one_mib);
    }
    out.extend_from_slice(&[0x03, 0x00]);
    // Adler-32 of zeros: a stays 1, b adds 1 per byte.
    let b = ((mib as u64 * MIB as u64) % 65_521) as u32;
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

/// A one-page PDF whose page content (FlateDecode) inflates to 1 GiB of
/// zeros, from about 1 MB.
pub fn pdf_bomb() -> Vec<u8> {
    let content = zeros_zlib(1024);
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, head: String, stream: Option<&[u8]>| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(head.as_bytes());
        if let Some(data) = stream {
            pdf.extend_from_slice(b"\nstream\n");
            pdf.extend_from_slice(data);
            pdf.extend_from_slice(b"\nendstream");
        }
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(&mut pdf, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>".into(), None);
    object(&mut pdf, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>".into(), None);
    object(&mut pdf, "3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>".into(), None);
    object(&mut pdf, format!("4 0 obj\n<< /Length {} /Filter /FlateDecode >>", content.len()), Some(&content));
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in &offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes());
    pdf
}

/// A PNG of a few dozen bytes declaring `width`×`height` RGBA pixels, with
/// no pixel data: decoding it would ask for width × height × 4 bytes.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
