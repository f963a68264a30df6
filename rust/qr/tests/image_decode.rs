//! Every rendered PNG is decoded back with a real QR decoder (rqrr) and must give the payload.

use smartpos_qr::image::{EcLevel, QrMatrix, QrOptions};

fn decode_png(png_bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR symbol");
    let mut out = Vec::new();
    grids[0].decode_to(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

// id: qr-mpm-emvco-sample (source: EMVCo QRCPS-MPM specification sample payload, see published.md)
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

#[test]
fn png_round_trips_through_a_real_decoder_including_chinese() {
    for payload in [
        SAMPLE,
        "6212345678901234567",
        "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=",
    ] {
        let matrix = QrMatrix::encode(payload, &QrOptions::default()).unwrap();
        for scale in [3, 6] {
            let png_bytes = matrix.to_png(scale).unwrap();
            assert_eq!(decode_png(&png_bytes), payload, "scale {scale}");
        }
    }
}

#[test]
fn every_error_correction_level_decodes() {
    for ec_level in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
        let matrix = QrMatrix::encode(
            SAMPLE,
            &QrOptions {
                ec_level,
                quiet_zone: 4,
            },
        )
        .unwrap();
        assert_eq!(
            decode_png(&matrix.to_png(4).unwrap()),
            SAMPLE,
            "{ec_level:?}"
        );
    }
}

#[test]
fn higher_levels_need_bigger_symbols() {
    let m = QrMatrix::encode(
        SAMPLE,
        &QrOptions {
            ec_level: EcLevel::M,
            quiet_zone: 0,
        },
    )
    .unwrap();
    let h = QrMatrix::encode(
        SAMPLE,
        &QrOptions {
            ec_level: EcLevel::H,
            quiet_zone: 0,
        },
    )
    .unwrap();
    assert!(h.size > m.size);
    // Byte mode, 260 UTF-8 bytes at level M: version 11-M holds 251 bytes, 12-M holds 287
    // (ISO/IEC 18004:2015 Table 7), so version 12 = 17 + 4 * 12 = 65 modules.
    assert_eq!(SAMPLE.len(), 260);
    assert_eq!(m.size, 65);
}

#[test]
fn library_decoder_reads_rendered_pngs() {
    let matrix = QrMatrix::encode(SAMPLE, &QrOptions::default()).unwrap();
    let png_bytes = matrix.to_png(4).unwrap();
    assert_eq!(
        smartpos_qr::image::decode_png(&png_bytes).unwrap(),
        vec![SAMPLE.to_owned()]
    );
    // A blank image has no symbol; garbage is not a PNG; a size mismatch is caught.
    assert!(smartpos_qr::image::decode_greyscale(50, 50, &[255; 2500]).is_err());
    assert!(smartpos_qr::image::decode_png(b"not a png").is_err());
    assert!(smartpos_qr::image::decode_greyscale(10, 10, &[0; 99]).is_err());
}
