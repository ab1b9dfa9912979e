//! Where accounts come from: an `otpauth://` URI, a Google Authenticator
//! export, or a QR code in a PNG/JPEG file. The argument's form decides.

use std::path::Path;

use otp::OtpAuthUri;

/// Why nothing could be added.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A malformed `otpauth://` URI.
    #[error("not a usable otpauth:// URI: {0}")]
    Uri(#[from] otp::UriError),
    /// A malformed export.
    #[error(transparent)]
    Migration(#[from] crate::migration::MigrationError),
    /// The image could not be read.
    #[error("cannot read the image {path}: {error}")]
    Image {
        /// The file.
        path: String,
        /// Why.
        error: String,
    },
    /// The image has no QR code, or none with an otpauth URI.
    #[error("no otpauth QR code found in {0}")]
    NoQrCode(String),
}

/// The accounts an argument names.
pub fn accounts_from(argument: &str) -> Result<Vec<OtpAuthUri>, SourceError> {
    let lower = argument.get(..24).unwrap_or(argument).to_ascii_lowercase();
    if lower.starts_with("otpauth-migration:") {
        return Ok(crate::migration::parse(argument)?);
    }
    if lower.starts_with("otpauth:") {
        return Ok(vec![OtpAuthUri::parse(argument)?]);
    }
    let path = Path::new(argument);
    let mut found = Vec::new();
    for text in qr_texts(path)? {
        found.extend(accounts_from_text(&text));
    }
    if found.is_empty() {
        return Err(SourceError::NoQrCode(path.display().to_string()));
    }
    Ok(found)
}

fn accounts_from_text(text: &str) -> Vec<OtpAuthUri> {
    let lower = text.get(..24).unwrap_or(text).to_ascii_lowercase();
    if lower.starts_with("otpauth-migration:") {
        crate::migration::parse(text).unwrap_or_default()
    } else {
        OtpAuthUri::parse(text).into_iter().collect()
    }
}

/// The texts of every QR code in an image file.
pub fn qr_texts(path: &Path) -> Result<Vec<String>, SourceError> {
    let image_error = |error: String| SourceError::Image {
        path: path.display().to_string(),
        error,
    };
    // Refuse huge files before decoding: a QR screenshot is well under 20 MB.
    let size = std::fs::metadata(path)
        .map_err(|e| image_error(e.to_string()))?
        .len();
    if size > 20 * 1024 * 1024 {
        return Err(image_error("larger than 20 MB".into()));
    }
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| image_error(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| image_error(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let gray = reader
        .decode()
        .map_err(|e| image_error(e.to_string()))?
        .to_luma8();
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        gray.get_pixel_checked(x as u32, y as u32)
            .map_or(255, |p| p.0[0])
    });
    Ok(prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect())
}
