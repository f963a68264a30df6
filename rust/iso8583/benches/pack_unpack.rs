//! Pack + unpack of a cups-pos sale 0200 with a 250-byte field 55 (goal: ≤ 2 µs median for both).

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
use std::hint::black_box;

fn icc_250() -> Vec<u8> {
    // 9F26 (11 bytes) + DF7F with a 235-byte value (4 + 235) = 250 bytes of BER-TLV.
    let mut v = vec![
        0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0xDF, 0x7F, 0x81, 235,
    ];
    v.extend((0..235u32).map(|i| (i * 7) as u8));
    assert_eq!(v.len(), 250);
    v
}

fn sale() -> Frame {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(2, "6222021234567890123").unwrap();
    m.set_text(3, "000000").unwrap();
    m.set_amount(4, 1234).unwrap();
    m.set_numeric(11, 123, 6).unwrap();
    m.set_text(14, "2512").unwrap();
    m.set_text(22, "051").unwrap();
    m.set_text(23, "001").unwrap();
    m.set_text(25, "00").unwrap();
    m.set_text(26, "12").unwrap();
    m.set_text(35, "6222021234567890123=25122200000").unwrap();
    m.set_text(41, "10000001").unwrap();
    m.set_text(42, "898310048990001").unwrap();
    m.set_text(49, "156").unwrap();
    m.set_binary(52, &[0x11; 8]).unwrap();
    m.set_text(53, "2600000000000000").unwrap();
    m.set_binary(55, &icc_250()).unwrap();
    m.set_subfields(p, 60, &["22", "000001", "000", "5", "0"])
        .unwrap();
    m.set_binary(64, &[0xA1; 8]).unwrap();
    Frame::new(Tpdu::new(3, 0), &[0x60, 0x31, 0x00, 0x31, 0x00, 0x00], m)
}

fn bench(c: &mut Criterion) {
    let p = Profile::cups_pos();
    let frame = sale();
    let bytes = p.pack_frame(&frame).unwrap();
    let mut g = c.benchmark_group("cups_pos_0200_icc250");
    g.bench_function("pack+unpack", |b| {
        b.iter(|| {
            let bytes = p.pack_frame(black_box(&frame)).unwrap();
            p.unpack_frame(black_box(&bytes)).unwrap()
        })
    });
    g.bench_function("pack", |b| {
        b.iter(|| p.pack_frame(black_box(&frame)).unwrap())
    });
    let mut buf = Vec::with_capacity(512);
    g.bench_function("pack_into (reused buffer)", |b| {
        b.iter(|| {
            buf.clear();
            p.pack_frame_into(black_box(&frame), &mut buf).unwrap();
            buf.len()
        })
    });
    g.bench_function("unpack", |b| {
        b.iter(|| p.unpack_frame(black_box(&bytes)).unwrap())
    });
    g.finish();

    let iso = Profile::iso87_ascii();
    let iso_bytes = iso.pack(&frame.message).unwrap();
    c.bench_function("iso87_ascii_0200_icc250/pack+unpack", |b| {
        b.iter(|| {
            iso.unpack(&iso.pack(black_box(&frame.message)).unwrap())
                .unwrap()
        })
    });
    let _ = iso_bytes;
}

criterion_group!(benches, bench);
criterion_main!(benches);
