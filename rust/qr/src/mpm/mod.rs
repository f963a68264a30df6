//! EMVCo Merchant-Presented Mode (EMV QRCPS-MPM v1.1): the merchant shows a QR code, the
//! consumer's app scans it. Typed model, builder, generator and parser.

mod data_object;
mod decode;
mod encode;
mod fields;
mod model;

pub use data_object::{DataObject, read_data_objects};
pub use decode::{is_template_id, parse, parse_unverified, read_framing};
pub use encode::MerchantPresentedQrBuilder;
pub use model::{
    AccountInfo, AdditionalData, CrcCheck, MerchantAccount, MerchantLanguage, MerchantPresentedQr,
    MpmPayload, PaymentNetwork, PointOfInitiation, Template, TipOrConvenienceFee,
};
