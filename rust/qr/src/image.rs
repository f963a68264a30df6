//! The QR symbol for a payload (ISO/IEC 18004:2015): the module matrix the Kotlin layer draws,
//! PNG bytes, and a terminal rendering with Unicode half blocks.
//!
//! Payloads are always encoded in byte mode (ISO/IEC 18004 §7.4.5) with their UTF-8 bytes, so
//! Chinese merchant names in template 64 reach the consumer's app intact; no ECI header is
//! written (UTF-8 in byte mode is what EMVCo MPM readers expect). The smallest version that holds
//! the payload at the requested error-correction level is used.

use crate::error::QrError;
use qrcode::bits::Bits;
use qrcode::{Color, QrCode, Version};

/// Error-correction level (ISO/IEC 18004 §7.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EcLevel {
    /// About 7 % of codewords recoverable.
    L,
    /// About 15 % (the default, and EMVCo's usual choice for MPM).
    #[default]
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

impl From<EcLevel> for qrcode::EcLevel {
    fn from(level: EcLevel) -> Self {
        match level {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// How to lay out the symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QrOptions {
    /// Error-correction level (default M).
    pub ec_level: EcLevel,
    /// Light modules around the symbol on each side (ISO/IEC 18004 §6.3.8 asks for 4; default 4).
    pub quiet_zone: usize,
}

impl Default for QrOptions {
    fn default() -> Self {
        QrOptions {
            ec_level: EcLevel::M,
            quiet_zone: 4,
        }
    }
}

/// A square of modules, row-major, `true` = dark. `size` includes the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QrMatrix {
    /// Width and height in modules.
    pub size: usize,
    /// `size * size` modules, row by row.
    pub modules: Vec<bool>,
}

/// Largest scale accepted by [`QrMatrix::to_png`] (a version 40 symbol is then 7 000+ pixels).
pub const MAX_PNG_SCALE: u32 = 40;

impl QrMatrix {
    /// Encodes `payload` in byte mode with the smallest version that fits.
    pub fn encode(payload: &str, options: &QrOptions) -> Result<Self, QrError> {
        if payload.is_empty() {
            return Err(QrError::Empty);
        }
        let ec = qrcode::EcLevel::from(options.ec_level);
        let code = (1..=40)
            .find_map(|v| {
                let mut bits = Bits::new(Version::Normal(v));
                bits.push_byte_data(payload.as_bytes()).ok()?;
                bits.push_terminator(ec).ok()?;
                QrCode::with_bits(bits, ec).ok()
            })
            .ok_or_else(|| QrError::Image {
                reason: format!(
                    "{} bytes do not fit a version 40 symbol at level {:?}",
                    payload.len(),
                    options.ec_level
                ),
            })?;
        let inner = code.width();
        let q = options.quiet_zone.min(64);
        let size = inner + 2 * q;
        let colors = code.to_colors();
        let mut modules = vec![false; size * size];
        for (i, color) in colors.iter().enumerate() {
            let (y, x) = (i / inner + q, i % inner + q);
            if let Some(m) = modules.get_mut(y * size + x) {
                *m = *color == Color::Dark;
            }
        }
        Ok(QrMatrix { size, modules })
    }

    /// Whether the module at column `x`, row `y` is dark (false outside the matrix).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size
            && self
                .modules
                .get(y * self.size + x)
                .copied()
                .unwrap_or(false)
    }

    /// A 1-bit greyscale PNG, `scale` pixels per module (1..=[`MAX_PNG_SCALE`]).
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, QrError> {
        if !(1..=MAX_PNG_SCALE).contains(&scale) {
            return Err(QrError::Image {
                reason: format!("scale {scale} is outside 1..={MAX_PNG_SCALE}"),
            });
        }
        let scale = scale as usize;
        let px = self.size * scale;
        let side = u32::try_from(px).map_err(|_| QrError::Image {
            reason: "image too large".into(),
        })?;
        let row_bytes = px.div_ceil(8);
        let mut data = Vec::with_capacity(row_bytes * px);
        let mut row = vec![0u8; row_bytes];
        for my in 0..self.size {
            row.fill(0);
            for x in 0..px {
                // 1 = white in greyscale; dark modules stay 0.
                if !self.is_dark(x / scale, my) {
                    if let Some(byte) = row.get_mut(x / 8) {
                        *byte |= 0x80 >> (x % 8);
                    }
                }
            }
            for _ in 0..scale {
                data.extend_from_slice(&row);
            }
        }
        let image_err = |e: png::EncodingError| QrError::Image {
            reason: format!("PNG encoder: {e}"),
        };
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(image_err)?;
        writer.write_image_data(&data).map_err(image_err)?;
        writer.finish().map_err(image_err)?;
        Ok(out)
    }

    /// Text for a terminal, two module rows per line with '▀', '▄', '█' and ' '.
    /// With `dark_background` (most terminals) light modules are drawn as filled glyphs so the
    /// symbol reads dark-on-light to a scanner; otherwise dark modules are drawn.
    pub fn to_terminal(&self, dark_background: bool) -> String {
        let mut out = String::with_capacity((self.size + 1) * self.size.div_ceil(2) * 3);
        for y in (0..self.size).step_by(2) {
            for x in 0..self.size {
                let ink = |yy: usize| yy < self.size && (self.is_dark(x, yy) != dark_background);
                out.push(match (ink(y), ink(y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
        }
        out
    }
}

/// Largest image [`decode_greyscale`] / [`decode_png`] accept: 4096 x 4096 pixels.
pub const MAX_DECODE_PIXELS: usize = 4096 * 4096;

/// Finds and decodes the QR symbols in a greyscale image (one byte per pixel, row-major), e.g.
/// a camera frame's luminance plane; returns the text of each symbol that decodes, in the order
/// found. Uses the `rqrr` decoder (ISO/IEC 18004 reading, Reed-Solomon correction).
pub fn decode_greyscale(
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<Vec<String>, QrError> {
    let count = width
        .checked_mul(height)
        .filter(|&n| n <= MAX_DECODE_PIXELS);
    if count != Some(pixels.len()) || pixels.is_empty() {
        return Err(QrError::Image {
            reason: format!(
                "{width}x{height} image needs {} pixels (at most {MAX_DECODE_PIXELS}), got {}",
                width.saturating_mul(height),
                pixels.len()
            ),
        });
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        pixels.get(y * width + x).copied().unwrap_or(255)
    });
    let texts: Vec<String> = prepared
        .detect_grids()
        .iter()
        .filter_map(|grid| {
            let mut bytes = Vec::new();
            grid.decode_to(&mut bytes).ok()?;
            String::from_utf8(bytes).ok()
        })
        .collect();
    if texts.is_empty() {
        return Err(QrError::Image {
            reason: "no decodable QR symbol found".into(),
        });
    }
    Ok(texts)
}

/// [`decode_greyscale`] on a PNG file's bytes (any colour type; colour is reduced to grey).
pub fn decode_png(bytes: &[u8]) -> Result<Vec<String>, QrError> {
    let image_err = |e: png::DecodingError| QrError::Image {
        reason: format!("PNG decoder: {e}"),
    };
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(image_err)?;
    let (width, height) = {
        let info = reader.info();
        (info.width as usize, info.height as usize)
    };
    if width.saturating_mul(height) > MAX_DECODE_PIXELS {
        return Err(QrError::Image {
            reason: format!("{width}x{height} PNG is larger than {MAX_DECODE_PIXELS} pixels"),
        });
    }
    let size = reader.output_buffer_size().ok_or_else(|| QrError::Image {
        reason: "PNG too large".into(),
    })?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(image_err)?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(QrError::Image {
                reason: "indexed PNG was not expanded".into(),
            });
        }
    };
    let grey: Vec<u8> = buf
        .chunks(channels)
        .take(width * height)
        .map(|px| match px {
            [g] | [g, _] => *g,
            [r, g, b, ..] => ((u16::from(*r) * 3 + u16::from(*g) * 6 + u16::from(*b)) / 10) as u8,
            _ => 255,
        })
        .collect();
    decode_greyscale(width, height, &grey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_with_quiet_zone() {
        let m = QrMatrix::encode("HELLO", &QrOptions::default()).unwrap();
        assert_eq!(m.size, 21 + 8);
        assert_eq!(m.modules.len(), m.size * m.size);
        // Quiet zone is light, the finder pattern's corner is dark.
        assert!(!m.is_dark(0, 0));
        assert!(!m.is_dark(3, 3));
        assert!(m.is_dark(4, 4));
        let bare = QrMatrix::encode(
            "HELLO",
            &QrOptions {
                quiet_zone: 0,
                ..QrOptions::default()
            },
        )
        .unwrap();
        assert_eq!(bare.size, 21);
        assert!(bare.is_dark(0, 0));
    }

    #[test]
    fn too_long_and_bad_scale() {
        let long = "x".repeat(3000);
        assert!(matches!(
            QrMatrix::encode(&long, &QrOptions::default()),
            Err(QrError::Image { .. })
        ));
        let m = QrMatrix::encode("A", &QrOptions::default()).unwrap();
        assert!(m.to_png(0).is_err());
        assert!(m.to_png(MAX_PNG_SCALE + 1).is_err());
        assert!(m.to_png(1).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn terminal_uses_half_blocks() {
        let m = QrMatrix::encode("A", &QrOptions::default()).unwrap();
        let text = m.to_terminal(false);
        assert_eq!(text.lines().count(), m.size.div_ceil(2));
        assert!(text.lines().all(|l| l.chars().count() == m.size));
        // Row 4-5 at column 4 are both dark (finder pattern).
        assert_eq!(text.lines().nth(2).unwrap().chars().nth(4), Some('█'));
        let inverted = m.to_terminal(true);
        assert_eq!(inverted.lines().next().unwrap().chars().next(), Some('█'));
    }
    #[test]
    fn terminal_rendering_is_faithful_to_the_matrix() {
        let m = QrMatrix::encode("00020101021153031565802CN", &QrOptions::default()).unwrap();
        for dark_background in [false, true] {
            let text = m.to_terminal(dark_background);
            let mut modules = vec![false; m.size * m.size];
            for (row, line) in text.lines().enumerate() {
                for (x, glyph) in line.chars().enumerate() {
                    let (top, bottom) = match glyph {
                        '█' => (true, true),
                        '▀' => (true, false),
                        '▄' => (false, true),
                        ' ' => (false, false),
                        other => panic!("unexpected glyph {other:?}"),
                    };
                    for (dy, ink) in [(0, top), (1, bottom)] {
                        let y = row * 2 + dy;
                        if y < m.size {
                            modules[y * m.size + x] = ink != dark_background;
                        }
                    }
                }
            }
            assert_eq!(modules, m.modules, "dark_background = {dark_background}");
        }
    }
}
