//! Decode and build speed of the BER-TLV codec on ISO 8583 field 55 (ICC data) payloads.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_tlv::dol::Dol;
use smartpos_tlv::{Tag, TlvBuilder, TlvNode, TlvReader, find};
use std::hint::black_box;

/// The 19 data objects of a typical online-authorisation field 55 (ARQC from a Visa card).
const FIELD55_19: &[(u32, &str)] = &[
    (0x9F26, "7A3C1E5B9D0F2468"),
    (0x9F27, "80"),
    (0x9F10, "06010A03A0B800"),
    (0x9F37, "1F2E3D4C"),
    (0x9F36, "0042"),
    (0x95, "0080048000"),
    (0x9A, "261121"),
    (0x9C, "00"),
    (0x9F02, "000000012550"),
    (0x5F2A, "0156"),
    (0x82, "3900"),
    (0x9F1A, "0156"),
    (0x9F03, "000000000000"),
    (0x9F33, "E0F8C8"),
    (0x9F34, "420300"),
    (0x9F35, "22"),
    (0x9F1E, "3132333435363738"),
    (0x84, "A0000000031010"),
    (0x9F09, "008C"),
];

/// Further objects a contactless field 55 carries, to make a ~300-byte payload.
const FIELD55_EXTRA: &[(u32, &str)] = &[
    (0x9F10, "0110A04003220000000000000000000000FF"),
    (0x9F6E, "20700000"),
    (0x9F66, "36A04000"),
    (0x9F6C, "1600"),
    (0x5F34, "01"),
    (0x9F41, "00001234"),
    (0x9F53, "52"),
    (0x9F21, "101530"),
    (
        0x9F7C,
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        0x9F4E,
        "534D415254504F532044454D4F2053484F50202020204245494A494E47202020202020202020202043",
    ),
    (0x9F5D, "000000010000"),
    (0x9F63, "30303030303030303030303030303030"),
    (0xDF8129, "F0000000F0000000"),
];

fn build(objects: &[(u32, &str)]) -> Vec<u8> {
    let mut b = TlvBuilder::with_capacity(512);
    for &(tag, value) in objects {
        b.push(Tag(tag), &hex::decode(value).expect("bench data is hex"));
    }
    b.finish()
}

/// Walk every object, touching tag and value so nothing is optimised away.
fn walk(data: &[u8]) -> usize {
    let mut acc = 0usize;
    for tlv in TlvReader::new(data) {
        match tlv {
            Ok(t) => acc = acc.wrapping_add(t.tag.0 as usize ^ t.value.len()),
            Err(_) => return usize::MAX,
        }
    }
    acc
}

fn benches(c: &mut Criterion) {
    let f55 = build(FIELD55_19);
    let mut objects_300 = FIELD55_19.to_vec();
    objects_300.extend_from_slice(FIELD55_EXTRA);
    let f55_300 = build(&objects_300);
    assert_eq!(TlvReader::new(&f55).count(), 19);
    eprintln!(
        "field 55: {} bytes / 19 TLVs; large: {} bytes / {} TLVs",
        f55.len(),
        f55_300.len(),
        objects_300.len()
    );

    c.bench_function("decode_field55_19tlv", |b| b.iter(|| walk(black_box(&f55))));
    c.bench_function("decode_field55_300b", |b| {
        b.iter(|| walk(black_box(&f55_300)))
    });
    c.bench_function("find_9F09_field55", |b| {
        b.iter(|| {
            find(black_box(&f55), Tag(0x9F09))
                .ok()
                .flatten()
                .map(|t| t.value.len())
        })
    });
    c.bench_function("tree_field55_19tlv", |b| {
        b.iter(|| TlvNode::parse_all(black_box(&f55)).map(|n| n.len()))
    });
    let values: Vec<(Tag, Vec<u8>)> = objects_300
        .iter()
        .map(|&(t, v)| (Tag(t), hex::decode(v).expect("bench data is hex")))
        .collect();
    c.bench_function("build_field55_19tlv", |b| {
        b.iter(|| {
            let mut builder = TlvBuilder::with_capacity(160);
            for (tag, value) in &values[..19] {
                builder.push(*tag, value);
            }
            builder.finish()
        })
    });
    let pdol =
        Dol::parse(&hex::decode("9F66049F02069F03069F1A0295055F2A029A039C019F3704").expect("hex"))
            .expect("valid PDOL");
    let terminal = |tag: Tag| {
        values
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    };
    c.bench_function("dol_build_visa_pdol", |b| {
        b.iter(|| black_box(&pdol).build(terminal))
    });
}

criterion_group!(tlv, benches);
criterion_main!(tlv);
