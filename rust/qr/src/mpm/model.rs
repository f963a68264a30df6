//! The typed Merchant-Presented Mode payload (EMV QRCPS-MPM v1.1 §4 and §5).

use super::data_object::DataObject;

/// Point of Initiation Method, ID "01" (EMV QRCPS-MPM v1.1 §4, data object ID allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointOfInitiation {
    /// "11": the same code is shown for more than one transaction.
    Static,
    /// "12": a new code is shown for each transaction (normally carries an amount).
    Dynamic,
}

impl PointOfInitiation {
    /// The two-digit value written in the payload.
    pub fn code(self) -> &'static str {
        match self {
            PointOfInitiation::Static => "11",
            PointOfInitiation::Dynamic => "12",
        }
    }
}

/// Which payment network a Merchant Account Information ID belongs to
/// (EMV QRCPS-MPM v1.1 §4, data object ID allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentNetwork {
    /// IDs 02-03.
    Visa,
    /// IDs 04-05.
    Mastercard,
    /// IDs 06-08 and 17-25, reserved by EMVCo.
    EmvcoReserved,
    /// IDs 09-10.
    Discover,
    /// IDs 11-12.
    Amex,
    /// IDs 13-14.
    Jcb,
    /// IDs 15-16.
    UnionPay,
    /// IDs 26-51: a template identified by its Globally Unique Identifier (sub-ID 00).
    Template,
}

impl PaymentNetwork {
    /// The network that owns Merchant Account Information ID `id` (02-51), None outside that range.
    pub fn for_id(id: u8) -> Option<Self> {
        Some(match id {
            2..=3 => PaymentNetwork::Visa,
            4..=5 => PaymentNetwork::Mastercard,
            6..=8 | 17..=25 => PaymentNetwork::EmvcoReserved,
            9..=10 => PaymentNetwork::Discover,
            11..=12 => PaymentNetwork::Amex,
            13..=14 => PaymentNetwork::Jcb,
            15..=16 => PaymentNetwork::UnionPay,
            26..=51 => PaymentNetwork::Template,
            _ => return None,
        })
    }
}

/// A template led by a Globally Unique Identifier in sub-ID "00": Merchant Account Information
/// 26-51 (EMV QRCPS-MPM §4) and Unreserved Templates 80-99 (§4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    /// Root ID of the template.
    pub id: u8,
    /// Sub-ID "00": an AID, a reverse domain name or a UUID (ans, up to 32 characters).
    pub guid: String,
    /// Sub-IDs 01-99 in payload order (their meaning is defined by the owner of the GUID).
    pub fields: Vec<DataObject>,
}

impl Template {
    /// A template with the given root ID and GUID and no other fields yet.
    pub fn new(id: u8, guid: impl Into<String>) -> Self {
        Template {
            id,
            guid: guid.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a sub-field (builder style).
    pub fn with_field(mut self, sub_id: u8, value: impl Into<String>) -> Self {
        self.fields.push(DataObject::new(sub_id, value));
        self
    }

    /// The value of sub-field `sub_id`, if present.
    pub fn field(&self, sub_id: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.id == sub_id)
            .map(|f| f.value.as_str())
    }
}

/// The value of a Merchant Account Information data object (IDs 02-51).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountInfo {
    /// IDs 02-25: a primitive value whose format the payment network defines (ans).
    Primitive(String),
    /// IDs 26-51: a template led by a GUID.
    Template(Template),
}

/// One Merchant Account Information data object (EMV QRCPS-MPM v1.1 §4, data object ID allocation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerchantAccount {
    /// Root ID, 02-51.
    pub id: u8,
    /// Its value.
    pub info: AccountInfo,
}

impl MerchantAccount {
    /// A network-specific primitive account (IDs 02-25), e.g. UnionPay's merchant ID in ID 15.
    pub fn primitive(id: u8, value: impl Into<String>) -> Self {
        MerchantAccount {
            id,
            info: AccountInfo::Primitive(value.into()),
        }
    }

    /// A template account (IDs 26-51).
    pub fn template(template: Template) -> Self {
        MerchantAccount {
            id: template.id,
            info: AccountInfo::Template(template),
        }
    }

    /// The payment network the ID is allocated to.
    pub fn network(&self) -> Option<PaymentNetwork> {
        PaymentNetwork::for_id(self.id)
    }
}

/// Tip or Convenience Indicator, ID "55", with its fee (IDs "56"/"57"), EMV QRCPS-MPM §4.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TipOrConvenienceFee {
    /// "01": the mobile application prompts the consumer for a tip.
    PromptConsumer,
    /// "02": a fixed convenience fee (ID 56, same currency as ID 53).
    FixedFee(String),
    /// "03": a percentage convenience fee (ID 57, "00.01" to "99.99").
    PercentageFee(String),
}

impl TipOrConvenienceFee {
    /// The value of ID 55.
    pub fn indicator(&self) -> &'static str {
        match self {
            TipOrConvenienceFee::PromptConsumer => "01",
            TipOrConvenienceFee::FixedFee(_) => "02",
            TipOrConvenienceFee::PercentageFee(_) => "03",
        }
    }
}

/// Additional Data Field Template, ID "62" (EMV QRCPS-MPM v1.1 §4, data object ID allocation).
///
/// A value of "***" in 01-08 asks the mobile application to prompt the consumer for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AdditionalData {
    /// 01 Bill Number.
    pub bill_number: Option<String>,
    /// 02 Mobile Number.
    pub mobile_number: Option<String>,
    /// 03 Store Label.
    pub store_label: Option<String>,
    /// 04 Loyalty Number.
    pub loyalty_number: Option<String>,
    /// 05 Reference Label.
    pub reference_label: Option<String>,
    /// 06 Customer Label.
    pub customer_label: Option<String>,
    /// 07 Terminal Label.
    pub terminal_label: Option<String>,
    /// 08 Purpose of Transaction.
    pub purpose_of_transaction: Option<String>,
    /// 09 Additional Consumer Data Request: any of "A" (address), "M" (mobile), "E" (email).
    pub consumer_data_request: Option<String>,
    /// 10-49 RFU for EMVCo, kept as found.
    pub rfu: Vec<DataObject>,
    /// 50-99 Payment System specific templates, kept as found.
    pub payment_system_templates: Vec<DataObject>,
}

impl AdditionalData {
    /// True when no sub-field is set (the template is then left out of the payload).
    pub fn is_empty(&self) -> bool {
        *self == AdditionalData::default()
    }

    pub(crate) fn named(&self) -> [(u8, &Option<String>); 9] {
        [
            (1, &self.bill_number),
            (2, &self.mobile_number),
            (3, &self.store_label),
            (4, &self.loyalty_number),
            (5, &self.reference_label),
            (6, &self.customer_label),
            (7, &self.terminal_label),
            (8, &self.purpose_of_transaction),
            (9, &self.consumer_data_request),
        ]
    }

    pub(crate) fn named_mut(&mut self, sub: u8) -> Option<&mut Option<String>> {
        Some(match sub {
            1 => &mut self.bill_number,
            2 => &mut self.mobile_number,
            3 => &mut self.store_label,
            4 => &mut self.loyalty_number,
            5 => &mut self.reference_label,
            6 => &mut self.customer_label,
            7 => &mut self.terminal_label,
            8 => &mut self.purpose_of_transaction,
            9 => &mut self.consumer_data_request,
            _ => return None,
        })
    }
}

/// Merchant Information — Language Template, ID "64" (EMV QRCPS-MPM §4): the
/// merchant's name and city in a local language and script (any Unicode).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerchantLanguage {
    /// 00 Language Preference, ISO 639-1 two letters (e.g. "ZH").
    pub language_preference: String,
    /// 01 Merchant Name — Alternate Language (up to 25 characters).
    pub merchant_name: String,
    /// 02 Merchant City — Alternate Language (up to 15 characters).
    pub merchant_city: Option<String>,
    /// 03-99 RFU for EMVCo, kept as found.
    pub rfu: Vec<DataObject>,
}

/// A Merchant-Presented Mode QR code: everything but the Payload Format Indicator ("01", always)
/// and the CRC, which are added when the payload is generated (EMV QRCPS-MPM v1.1 §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerchantPresentedQr {
    /// 01 Point of Initiation Method (optional).
    pub point_of_initiation: Option<PointOfInitiation>,
    /// 02-51 Merchant Account Information, at least one, in payload order.
    pub merchant_accounts: Vec<MerchantAccount>,
    /// 52 Merchant Category Code (ISO 18245, 4 digits).
    pub merchant_category_code: String,
    /// 53 Transaction Currency (ISO 4217 numeric, 3 digits).
    pub transaction_currency: String,
    /// 54 Transaction Amount (decimal, "." as the decimal mark, up to 13 characters).
    pub transaction_amount: Option<String>,
    /// 55 Tip or Convenience Indicator with 56/57.
    pub tip: Option<TipOrConvenienceFee>,
    /// 58 Country Code (ISO 3166-1 alpha-2).
    pub country_code: String,
    /// 59 Merchant Name (up to 25 characters).
    pub merchant_name: String,
    /// 60 Merchant City (up to 15 characters).
    pub merchant_city: String,
    /// 61 Postal Code (up to 10 characters).
    pub postal_code: Option<String>,
    /// 62 Additional Data Field Template.
    pub additional_data: Option<AdditionalData>,
    /// 64 Merchant Information — Language Template.
    pub language: Option<MerchantLanguage>,
    /// 65-79 RFU for EMVCo, kept as found so a scanned code can be re-generated. A code created
    /// for a merchant should leave it empty: RFU data objects are not to be put in a QR code.
    pub rfu: Vec<DataObject>,
    /// 80-99 Unreserved Templates.
    pub unreserved_templates: Vec<Template>,
}

/// A parsed MPM payload: the typed model, the root data objects in payload order (templates
/// still as text), and the CRC the payload carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpmPayload {
    /// The typed content.
    pub qr: MerchantPresentedQr,
    /// Root data objects exactly as they appeared, including 00 and 63.
    pub data_objects: Vec<DataObject>,
    /// The CRC (ID 63) the payload carried.
    pub crc: u16,
}

/// The CRC found in a payload and the one computed over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrcCheck {
    /// Value of ID 63.
    pub found: u16,
    /// CRC-16/CCITT-FALSE over the payload up to and including "6304".
    pub computed: u16,
}

impl CrcCheck {
    /// True when the payload's CRC is correct.
    pub fn is_ok(&self) -> bool {
        self.found == self.computed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_allocation() {
        let expect = [
            (1, None),
            (2, Some(PaymentNetwork::Visa)),
            (3, Some(PaymentNetwork::Visa)),
            (4, Some(PaymentNetwork::Mastercard)),
            (5, Some(PaymentNetwork::Mastercard)),
            (6, Some(PaymentNetwork::EmvcoReserved)),
            (8, Some(PaymentNetwork::EmvcoReserved)),
            (9, Some(PaymentNetwork::Discover)),
            (10, Some(PaymentNetwork::Discover)),
            (11, Some(PaymentNetwork::Amex)),
            (12, Some(PaymentNetwork::Amex)),
            (13, Some(PaymentNetwork::Jcb)),
            (14, Some(PaymentNetwork::Jcb)),
            (15, Some(PaymentNetwork::UnionPay)),
            (16, Some(PaymentNetwork::UnionPay)),
            (17, Some(PaymentNetwork::EmvcoReserved)),
            (25, Some(PaymentNetwork::EmvcoReserved)),
            (26, Some(PaymentNetwork::Template)),
            (51, Some(PaymentNetwork::Template)),
            (52, None),
        ];
        for (id, network) in expect {
            assert_eq!(PaymentNetwork::for_id(id), network, "{id}");
        }
    }
}
