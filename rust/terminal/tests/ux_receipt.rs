//! Receipts: exact text snapshot of a sale, ESC/POS structure, PNG size, and that no rendering
//! ever carries a full PAN.

mod ux_common;

use ux_common::{merchant, sale, temp_journal};

use smartpos_journal::{
    CardData, Completion, EntryMode, HostResponse, NewTransaction, OnlineRequest, Pan, TxnKind,
    TxnState,
};
use smartpos_terminal::prompts::Language;
use smartpos_terminal::receipt::{CodePage, Copy, CvmLine, Line, Receipt, ReceiptData, Width};

const FULL_PAN: &str = "4761739001010119";

#[test]
fn sale_customer_copy_text_snapshot_32_columns() {
    let r = Receipt::build(&sale(), Copy::Customer, Language::En);
    let expected = [
        "       SMARTPOS DEMO SHOP",
        "         CUSTOMER COPY",
        "--------------------------------",
        "MERCHANT ID      123456789012345",
        "TERMINAL ID             12345678",
        "OPERATOR                     001",
        "CARD NO.        476173******0119",
        "ENTRY MODE                  CHIP",
        "PAYMENT                     VISA",
        "APP LABEL            VISA CREDIT",
        "AID               A0000000031010",
        "SALE",
        "BATCH NO.                 000001",
        "INVOICE NO.               000012",
        "STAN                      000012",
        "DATE/TIME    2026-11-21 18:15:03",
        "AUTH CODE                 A1B2C3",
        "REF NO.             632510000012",
        "TVR                   0000008000",
        "TSI                         E800",
        "TC              1A2B3C4D5E6F7081",
        "--------------------------------",
        "TOTAL                 CNY 123.45",
        "--------------------------------",
        "MEMBER                     M0042",
        "ORDER REF                  ORD-7",
        "PIN VERIFIED",
        "",
        "       SCAN FOR E-INVOICE",
        "https://einv.example.cn/i?m=1234",
        "56789012345&t=12345678&n=000012&",
        "a=12345&d=20261121",
    ]
    .join("\n");
    assert_eq!(r.to_text(Width::Cols32), expected);
}

fn all_renderings(data: &ReceiptData) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for copy in [Copy::Merchant, Copy::Customer] {
        for lang in [Language::En, Language::ZhHans] {
            let r = Receipt::build(data, copy, lang);
            for w in [Width::Cols32, Width::Cols48] {
                out.push(r.to_text(w).into_bytes());
                for cp in [CodePage::Gbk, CodePage::Utf8] {
                    out.push(r.to_escpos(w, cp).expect("escpos"));
                }
                out.push(serde_json::to_vec(&r).expect("json"));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn full_pan_never_appears_even_if_given_unmasked() {
    let mut data = sale();
    // A caller mistakenly passes the full PAN: the receipt masks it.
    data.pan_masked = Some(FULL_PAN.into());
    for bytes in all_renderings(&data) {
        assert!(!contains(&bytes, FULL_PAN.as_bytes()));
        assert!(contains(&bytes, b"476173******0119"));
    }
}

#[test]
fn escpos_structure() {
    let r = Receipt::build(&sale(), Copy::Customer, Language::En);
    let b = r.to_escpos(Width::Cols32, CodePage::Gbk).expect("escpos");
    // ESC @ first, FS & (Chinese mode) for GBK, GS V 66 0 cut last.
    assert_eq!(&b[..4], &[0x1B, 0x40, 0x1C, 0x26]);
    assert_eq!(&b[b.len() - 4..], &[0x1D, 0x56, 0x42, 0x00]);
    // Centred, bold, double-size merchant name.
    // Centred and bold merchant name; 18 characters do not fit 16 double-size columns, so it
    // stays normal size; "SALE" (4) is printed double size.
    assert!(contains(
        &b,
        &[0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D, 0x21, 0x00]
    ));
    assert!(contains(&b, b"SMARTPOS DEMO SHOP\n"));
    assert!(contains(
        &b,
        &[0x1D, 0x21, 0x11, b'S', b'A', b'L', b'E', b'\n']
    ));
    // QR: model 2, store with pL pH = len + 3, print.
    let url = sale().e_invoice_url().expect("url");
    let len = url.len() + 3;
    let mut store = vec![
        0x1D,
        0x28,
        0x6B,
        (len % 256) as u8,
        (len / 256) as u8,
        0x31,
        0x50,
        0x30,
    ];
    store.extend_from_slice(url.as_bytes());
    assert!(contains(&b, &store));
    assert!(contains(
        &b,
        &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]
    ));
    assert!(contains(
        &b,
        &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]
    ));
    // UTF-8 selects the encoding with FS ( C.
    let u = r.to_escpos(Width::Cols48, CodePage::Utf8).expect("escpos");
    assert_eq!(
        &u[..9],
        &[0x1B, 0x40, 0x1C, 0x28, 0x43, 0x02, 0x00, 0x30, 0x02]
    );
}

#[test]
fn chinese_receipt_in_gbk_and_column_widths() {
    let mut data = sale();
    data.merchant.name = "智能收银演示店".into();
    let r = Receipt::build(&data, Copy::Merchant, Language::ZhHans);
    let b = r.to_escpos(Width::Cols32, CodePage::Gbk).expect("escpos");
    // "商户存根" in GBK (GB 2312 code points C9CC BBA7 B4E6 B8F9).
    assert!(contains(
        &b,
        &[0xC9, 0xCC, 0xBB, 0xA7, 0xB4, 0xE6, 0xB8, 0xF9]
    ));
    assert!(!contains(&b, "商户存根".as_bytes()));
    let u = r.to_escpos(Width::Cols32, CodePage::Utf8).expect("escpos");
    assert!(contains(&u, "商户存根".as_bytes()));
    // Every text line fits 32 columns, counting CJK as two.
    let text = r.to_text(Width::Cols32);
    for line in text.lines() {
        assert!(smartpos_terminal::receipt::str_width(line) <= 32, "{line}");
    }
    assert!(text.contains("交易类型") || text.contains("消费"));
    let amount_line = text.lines().find(|l| l.starts_with("总计")).expect("total");
    assert_eq!(smartpos_terminal::receipt::str_width(amount_line), 32);
}

#[test]
fn signature_line_only_on_the_merchant_copy() {
    let mut data = sale();
    data.cvm = CvmLine::Signature;
    let m = Receipt::build(&data, Copy::Merchant, Language::En).to_text(Width::Cols32);
    let c = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    assert!(m.contains("CARDHOLDER SIGNATURE:"));
    assert!(m.contains("X_______________________"));
    assert!(!c.contains("CARDHOLDER SIGNATURE:"));
    assert!(c.contains("SIGNATURE ON FILE"));
    assert!(!m.contains("PIN VERIFIED"));
    data.cvm = CvmLine::NoCvm;
    let n = Receipt::build(&data, Copy::Merchant, Language::En).to_text(Width::Cols32);
    assert!(n.contains("NO CARDHOLDER VERIFICATION"));
}

#[test]
fn wallet_qr_sale_has_no_cvm_line_but_its_order_number() {
    let mut data = sale();
    data.kind = TxnKind::QrSale;
    data.entry_mode = Some(EntryMode::Qr);
    data.pan_masked = None;
    data.scheme = Some("alipay".into());
    data.wallet_order_no = Some("12345678000003".into());
    data.cvm = CvmLine::NoCvm;
    let t = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    assert!(t.contains("QR SALE"));
    assert!(t.contains("PAYMENT                   ALIPAY"));
    assert!(t.contains("WALLET ORDER      12345678000003"));
    assert!(!t.contains("NO CARDHOLDER VERIFICATION"));
    assert!(!t.contains("CARD NO."));
    assert!(t.contains("SCAN FOR E-INVOICE"));
}

#[test]
fn reprint_marker_and_declined_receipt() {
    let mut data = sale();
    data.reprint = true;
    let t = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols48);
    assert_eq!(t.matches("*** REPRINT ***").count(), 2);
    data.reprint = false;
    data.state = TxnState::Declined;
    data.response_code = Some("51".into());
    data.auth_code = None;
    let d = Receipt::build(&data, Copy::Customer, Language::En);
    let t = d.to_text(Width::Cols48);
    assert!(t.contains("DECLINED"));
    assert!(t.contains("RESPONSE"));
    assert!(!t.contains("PIN VERIFIED"));
    // No e-invoice for a declined payment.
    assert!(!d.lines.iter().any(|l| matches!(l, Line::Qr { .. })));
}

#[test]
fn refund_amounts_are_negative_and_tip_cashback_listed() {
    let mut data = sale();
    data.kind = TxnKind::Refund;
    data.original_rrn = Some("632510000011".into());
    let t = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    assert!(t.contains("REFUND"));
    // No e-invoice for a refund (purchases only).
    let r = Receipt::build(&data, Copy::Customer, Language::En);
    assert!(!r.lines.iter().any(|l| matches!(l, Line::Qr { .. })));
    assert!(t.contains("ORIG REF NO.        632510000011"));
    assert!(t.contains("TOTAL                CNY -123.45"));
    let mut data = sale();
    data.tip = 500;
    data.cashback = 10_000;
    data.coupon_discount = 200;
    let t = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    assert!(t.contains("AMOUNT                CNY 123.45"));
    assert!(t.contains("TIP                     CNY 5.00"));
    assert!(t.contains("CASHBACK              CNY 100.00"));
    assert!(t.contains("COUPON                 CNY -2.00"));
    assert!(t.contains("TOTAL                 CNY 228.45"));
}

#[test]
fn png_decodes_with_the_expected_size_and_holds_a_scannable_qr() {
    let r = Receipt::build(&sale(), Copy::Customer, Language::En);
    let png_bytes = r.to_png(Width::Cols32).expect("png");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.clone()));
    let reader = decoder.read_info().expect("png header");
    let info = reader.info();
    // 32 columns of 12 px: the 384 dots of a 58 mm head.
    assert_eq!(info.width, 384);
    // Height: text rows of 24 px (48 for double size), feeds, and the QR at 4 px per module.
    let url = sale().e_invoice_url().expect("url");
    let qr = smartpos_qr::image::QrMatrix::encode(&url, &Default::default()).expect("qr");
    let mut rows = 0usize;
    let mut height = 0usize;
    for line in &r.lines {
        match line {
            Line::Text { text, double, .. } => {
                let w = smartpos_terminal::receipt::str_width(text);
                let scale = if *double && w <= 16 { 2 } else { 1 };
                let n = w.div_ceil(32 / scale).max(1);
                height += n * 24 * scale;
                rows += n;
            }
            Line::Pair { emphasis: true, .. } => height += 24 + 48,
            Line::Pair { .. } | Line::Rule => {
                height += 24;
                rows += 1;
            }
            Line::Feed { lines: n } => height += usize::from(*n) * 24,
            Line::Qr { .. } => height += qr.size * 4,
        }
    }
    assert!(rows > 20);
    assert_eq!(info.height as usize, height);
    // The QR in the image decodes to the e-invoice URL.
    let decoded = smartpos_qr::image::decode_png(&png_bytes).expect("decode");
    assert!(decoded.contains(&url), "{decoded:?}");
    let wide = Receipt::build(&sale(), Copy::Customer, Language::En)
        .to_png(Width::Cols48)
        .expect("png");
    let info = png::Decoder::new(std::io::Cursor::new(wide))
        .read_info()
        .expect("png")
        .info()
        .width;
    assert_eq!(info, 576);
}

/// Decode a greyscale PNG (png crate): (width, height, one byte per pixel, 0 = black).
fn decode_grey(png_bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes.to_vec()))
        .read_info()
        .expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let frame = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    buf.truncate(frame.buffer_size());
    (frame.width as usize, frame.height as usize, buf)
}

/// The dark pixels of the 24 × 24 cell pair at (x, 0) of a one-row image.
fn cell(px: &[u8], width: usize, x: usize) -> Vec<Vec<bool>> {
    (0..24)
        .map(|y| (0..24).map(|dx| px[y * width + x + dx] == 0).collect())
        .collect()
}

/// The fallback for a double-width character without a glyph at `scale`: an outlined box in
/// the (24 · scale)² cell pair, rows 3 · scale and side − 3 · scale, columns 2 and side − 3
/// (at scale 1: rows 3 and 21, columns 2 and 21).
fn fallback_box(scale: usize) -> Vec<Vec<bool>> {
    let side = 24 * scale;
    (0..side)
        .map(|y| {
            (0..side)
                .map(|x| {
                    let on_h =
                        (y == 3 * scale || y == side - 3 * scale) && (2..side - 2).contains(&x);
                    let on_v =
                        (3 * scale..=side - 3 * scale).contains(&y) && (x == 2 || x == side - 3);
                    on_h || on_v
                })
                .collect()
        })
        .collect()
}

fn one_line(text: &str) -> Receipt {
    Receipt {
        copy: Copy::Customer,
        language: Language::ZhHans,
        lines: vec![Line::Text {
            text: text.into(),
            align: smartpos_terminal::receipt::Align::Left,
            bold: false,
            double: false,
        }],
    }
}

#[cfg(feature = "cjk-png")]
#[test]
fn chinese_in_the_png_is_drawn_from_unifont_not_boxes() {
    // 中 (U+4E2D) in GNU Unifont 15.1 (unifont.hex line `4E2D:0100...`): a vertical stroke
    // through a box, so column 7 of the glyph is dark from row 0 to row 15, and the glyph is
    // not the fallback box.
    let (w, h, px) = decode_grey(&one_line("中A").to_png(Width::Cols32).expect("png"));
    assert_eq!((w, h), (384, 24));
    let zhong = cell(&px, w, 0);
    assert_ne!(zhong, fallback_box(1), "中 drawn as the fallback box");
    let expected = smartpos_terminal::receipt::wide_glyph('中').expect("unifont has 中");
    for (gy, row) in expected.iter().enumerate() {
        for gx in 0..16 {
            let dark = row & (0x8000 >> gx) != 0;
            assert_eq!(zhong[4 + gy][4 + gx], dark, "pixel ({gx}, {gy}) of 中");
        }
    }
    // The vertical stroke: glyph column 7, all 16 rows (x = 4 + 7, y = 4..20).
    assert!((4..20).all(|y| zhong[y][11]), "central stroke of 中");
    // Nothing outside the 16 x 16 glyph area.
    for (y, row) in zhong.iter().enumerate() {
        for (x, dark) in row.iter().enumerate() {
            if !(4..20).contains(&y) || !(4..20).contains(&x) {
                assert!(!dark, "stray pixel ({x}, {y})");
            }
        }
    }
    // Two different ideographs give two different bitmaps (a real font, not one shape).
    let (_, _, px2) = decode_grey(&one_line("国").to_png(Width::Cols32).expect("png"));
    assert_ne!(cell(&px2, w, 0), zhong);

    // A whole Chinese receipt decodes, holds no fallback box at any position or size, and
    // shows 卡 (of 持卡人存根, the customer copy title) as its Unifont bitmap.
    let zh = Receipt::build(&sale(), Copy::Customer, Language::ZhHans);
    assert!(zh.to_text(Width::Cols32).contains("持卡人存根"));
    let (zw, zh_h, zpx) = decode_grey(&zh.to_png(Width::Cols32).expect("png"));
    assert_eq!(zw, 384);
    assert!(zh_h > 24 * 20);
    for scale in [1, 2] {
        assert!(
            !find(&zpx, zw, zh_h, &fallback_box(scale)),
            "a fallback box at scale {scale}"
        );
    }
    let ka = glyph_cell('卡');
    assert!(
        find(&zpx, zw, zh_h, &ka) || find(&zpx, zw, zh_h, &scaled(&ka, 2)),
        "卡 drawn from its bitmap"
    );
}

/// The 24 × 24 cell pair the renderer draws for a double-width glyph (4 px padding).
#[cfg(feature = "cjk-png")]
fn glyph_cell(c: char) -> Vec<Vec<bool>> {
    let rows = smartpos_terminal::receipt::wide_glyph(c).expect("glyph");
    drawn(24, 4, (16, 16), 1, |x, y| rows[y] & (0x8000 >> x) != 0)
}

/// The expected 24-pixel-high cell `cell_w` wide of a glyph `size` (width, height) pixels whose
/// pixel (x, y) is `dark(x, y)`, drawn `pad_x` pixels in and 4 down, each glyph row
/// `y_stretch` pixels high (the renderer's layout).
fn drawn(
    cell_w: usize,
    pad_x: usize,
    size: (usize, usize),
    y_stretch: usize,
    dark: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<bool>> {
    let (gw, gh) = (size.0, size.1 * y_stretch);
    (0..24)
        .map(|y| {
            (0..cell_w)
                .map(|x| {
                    (4..4 + gh).contains(&y)
                        && (pad_x..pad_x + gw).contains(&x)
                        && dark(x - pad_x, (y - 4) / y_stretch)
                })
                .collect()
        })
        .collect()
}

/// `cell` drawn at `scale` (each pixel a scale × scale block), as double-size text is.
#[cfg(feature = "cjk-png")]
fn scaled(cell: &[Vec<bool>], scale: usize) -> Vec<Vec<bool>> {
    (0..cell.len() * scale)
        .map(|y| {
            (0..cell[0].len() * scale)
                .map(|x| cell[y / scale][x / scale])
                .collect()
        })
        .collect()
}

/// Whether `pattern` appears exactly (dark and light pixels) anywhere in the image.
fn find(px: &[u8], width: usize, height: usize, pattern: &[Vec<bool>]) -> bool {
    let (ph, pw) = (pattern.len(), pattern[0].len());
    (0..=height.saturating_sub(ph)).any(|y| {
        (0..=width.saturating_sub(pw)).any(|x| {
            pattern.iter().enumerate().all(|(dy, row)| {
                row.iter()
                    .enumerate()
                    .all(|(dx, dark)| (px[(y + dy) * width + x + dx] == 0) == *dark)
            })
        })
    })
}

#[cfg(not(feature = "cjk-png"))]
#[test]
fn without_cjk_png_chinese_is_drawn_as_boxes() {
    assert_eq!(smartpos_terminal::receipt::wide_glyph('中'), None);
    let zh = Receipt::build(&sale(), Copy::Customer, Language::ZhHans);
    let (w, h, px) = decode_grey(&zh.to_png(Width::Cols32).expect("png"));
    assert!(find(&px, w, h, &fallback_box(1)) || find(&px, w, h, &fallback_box(2)));
}

/// The 12 × 24 cell of a single-width character at column `col` of a one-row image.
fn narrow_cell(px: &[u8], width: usize, col: usize) -> Vec<Vec<bool>> {
    (0..24)
        .map(|y| {
            (0..12)
                .map(|dx| px[y * width + col * 12 + dx] == 0)
                .collect()
        })
        .collect()
}

/// What the renderer draws for an 8 × 8 `font8x8` glyph: 2 px in, 4 px down, doubled vertically.
fn font8x8_cell(g: [u8; 8]) -> Vec<Vec<bool>> {
    drawn(12, 2, (8, 8), 2, |x, y| g[y] & (1 << x) != 0)
}

#[test]
fn latin_is_drawn_from_font8x8_doubled_vertically() {
    use font8x8::UnicodeFonts;
    let (w, _, px) = decode_grey(&one_line("A?é").to_png(Width::Cols32).expect("png"));
    for (col, c) in ['A', '?', 'é'].into_iter().enumerate() {
        let g = font8x8::BASIC_FONTS
            .get(c)
            .or_else(|| font8x8::LATIN_FONTS.get(c))
            .expect("font8x8 glyph");
        assert_eq!(narrow_cell(&px, w, col), font8x8_cell(g), "{c}");
    }
}

#[cfg(feature = "cjk-png")]
#[test]
fn other_scripts_use_unifont_half_width_glyphs_not_a_question_mark() {
    use font8x8::UnicodeFonts;
    // Ж (U+0416, Cyrillic): not in font8x8, an 8 x 16 glyph in Unifont.
    let g = smartpos_terminal::receipt::narrow_unifont('Ж').expect("unifont has Ж");
    let (w, _, px) = decode_grey(&one_line("Ж").to_png(Width::Cols32).expect("png"));
    let got = narrow_cell(&px, w, 0);
    let expected = drawn(12, 2, (8, 16), 1, |x, y| g[y] & (0x80 >> x) != 0);
    assert_eq!(got, expected);
    let question = font8x8::BASIC_FONTS.get('?').expect("?");
    assert_ne!(got, font8x8_cell(question));
}

#[test]
fn a_double_width_character_without_a_glyph_is_the_fallback_box() {
    // U+20000 (CJK Extension B) is outside the BMP, which is all Unifont covers.
    assert_eq!(smartpos_terminal::receipt::wide_glyph('\u{20000}'), None);
    let (w, h, px) = decode_grey(&one_line("\u{20000}").to_png(Width::Cols32).expect("png"));
    assert_eq!((w, h), (384, 24));
    assert_eq!(cell(&px, w, 0), fallback_box(1));
}

#[test]
fn receipt_from_a_journal_record() {
    let (mut j, dir) = temp_journal("receipt", 7, 9);
    let t = j
        .begin(NewTransaction::new(TxnKind::Sale, 2_500, "156", "007"))
        .expect("begin");
    let pan = Pan::parse(FULL_PAN).expect("pan");
    let mut card = CardData::new(&pan, EntryMode::Contactless);
    card.aid = Some("A0000003330101".into());
    card.app_label = Some("UnionPay".into());
    card.scheme = Some("unionpay".into());
    card.cvm_result = Some("1F0302".into());
    j.card_read(t.id, &card).expect("card");
    j.online_pending(t.id, &OnlineRequest::mti("0200"))
        .expect("online");
    j.approve(
        t.id,
        &HostResponse {
            response_code: "00".into(),
            rrn: Some("632510000099".into()),
            auth_code: Some("654321".into()),
            host_time: None,
        },
    )
    .expect("approve");
    let rec = j.complete(t.id, &Completion::default()).expect("complete");
    let data = ReceiptData::from_record(&rec, &merchant());
    assert_eq!(data.date_time, "2026-11-21 18:15:03");
    assert_eq!(data.cvm, CvmLine::NoCvm);
    let text = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    assert!(text.contains("CARD NO.        476173******0119"));
    assert!(text.contains("ENTRY MODE           CONTACTLESS"));
    assert!(text.contains("AUTH CODE                 654321"));
    assert!(text.contains("OPERATOR                     007"));
    assert!(text.contains("TOTAL                  CNY 25.00"));
    assert!(!text.contains(FULL_PAN));
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}
