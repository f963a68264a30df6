//! Generating an MPM payload from the typed model, and the builder (EMV QRCPS-MPM v1.1 §4: IDs
//! written in ascending order, "00" first and "63" last; CRC-16/CCITT-FALSE over the UTF-8 payload
//! up to and including "6304").

use super::data_object::{DataObject, write_data_object};
use super::decode::{model_from_objects, read_framing};
use super::model::{
    AccountInfo, AdditionalData, MerchantAccount, MerchantLanguage, MerchantPresentedQr,
    PointOfInitiation, Template, TipOrConvenienceFee,
};
use crate::crc::crc16_ccitt_false;
use crate::error::{FieldId, QrError};

fn write_template(out: &mut String, id: u8, template: &Template) -> Result<(), QrError> {
    let mut inner = String::new();
    write_data_object(&mut inner, FieldId::sub(id, 0), &template.guid)?;
    write_objects(&mut inner, Some(id), &template.fields)?;
    write_data_object(out, FieldId::root(id), &inner)
}

fn write_objects(
    out: &mut String,
    parent: Option<u8>,
    objects: &[DataObject],
) -> Result<(), QrError> {
    for object in objects {
        if object.id > 99 {
            return Err(QrError::invalid(
                FieldId::root(object.id),
                "an ID has two digits (00-99)",
            ));
        }
        let field = match parent {
            Some(p) => FieldId::sub(p, object.id),
            None => FieldId::root(object.id),
        };
        write_data_object(out, field, &object.value)?;
    }
    Ok(())
}

fn write_account(out: &mut String, account: &MerchantAccount) -> Result<(), QrError> {
    let field = FieldId::root(account.id);
    match (&account.info, account.id) {
        (AccountInfo::Primitive(value), 2..=25) => write_data_object(out, field, value),
        (AccountInfo::Template(template), 26..=51) => {
            if template.id != account.id {
                return Err(QrError::invalid(
                    field,
                    format!(
                        "template carries ID {:02}, account says {:02}",
                        template.id, account.id
                    ),
                ));
            }
            write_template(out, account.id, template)
        }
        (AccountInfo::Primitive(_), 26..=51) => Err(QrError::invalid(
            field,
            "IDs 26-51 are templates led by a GUID, not primitive values",
        )),
        (AccountInfo::Template(_), 2..=25) => Err(QrError::invalid(
            field,
            "IDs 02-25 are primitive values defined by their payment network",
        )),
        _ => Err(QrError::invalid(
            field,
            "merchant account information uses IDs 02-51",
        )),
    }
}

fn write_additional(out: &mut String, data: &AdditionalData) -> Result<(), QrError> {
    let mut inner = String::new();
    for (sub, value) in data.named() {
        if let Some(value) = value {
            write_data_object(&mut inner, FieldId::sub(62, sub), value)?;
        }
    }
    for object in &data.rfu {
        if !(object.id == 0 || (10..=49).contains(&object.id)) {
            return Err(QrError::invalid(
                FieldId::sub(62, object.id),
                "additional data RFU objects use sub-IDs 10-49",
            ));
        }
    }
    for object in &data.payment_system_templates {
        if !(50..=99).contains(&object.id) {
            return Err(QrError::invalid(
                FieldId::sub(62, object.id),
                "payment system specific templates use sub-IDs 50-99",
            ));
        }
    }
    write_objects(&mut inner, Some(62), &data.rfu)?;
    write_objects(&mut inner, Some(62), &data.payment_system_templates)?;
    write_data_object(out, FieldId::root(62), &inner)
}

fn write_language(out: &mut String, lang: &MerchantLanguage) -> Result<(), QrError> {
    let mut inner = String::new();
    write_data_object(&mut inner, FieldId::sub(64, 0), &lang.language_preference)?;
    write_data_object(&mut inner, FieldId::sub(64, 1), &lang.merchant_name)?;
    if let Some(city) = &lang.merchant_city {
        write_data_object(&mut inner, FieldId::sub(64, 2), city)?;
    }
    for object in &lang.rfu {
        if object.id < 3 {
            return Err(QrError::invalid(
                FieldId::sub(64, object.id),
                "language template RFU objects use sub-IDs 03-99",
            ));
        }
    }
    write_objects(&mut inner, Some(64), &lang.rfu)?;
    write_data_object(out, FieldId::root(64), &inner)
}

impl MerchantPresentedQr {
    /// Starts a builder.
    pub fn builder() -> MerchantPresentedQrBuilder {
        MerchantPresentedQrBuilder::default()
    }

    /// The payload text to put in the QR code, CRC included. Every field is validated by parsing
    /// the result back, so an invalid model yields the same error a scanner would report.
    pub fn to_payload(&self) -> Result<String, QrError> {
        let mut out = String::from("000201");
        if let Some(poi) = self.point_of_initiation {
            write_data_object(&mut out, FieldId::root(1), poi.code())?;
        }
        for account in &self.merchant_accounts {
            write_account(&mut out, account)?;
        }
        write_data_object(&mut out, FieldId::root(52), &self.merchant_category_code)?;
        write_data_object(&mut out, FieldId::root(53), &self.transaction_currency)?;
        if let Some(amount) = &self.transaction_amount {
            write_data_object(&mut out, FieldId::root(54), amount)?;
        }
        if let Some(tip) = &self.tip {
            write_data_object(&mut out, FieldId::root(55), tip.indicator())?;
            match tip {
                TipOrConvenienceFee::PromptConsumer => {}
                TipOrConvenienceFee::FixedFee(fee) => {
                    write_data_object(&mut out, FieldId::root(56), fee)?
                }
                TipOrConvenienceFee::PercentageFee(pct) => {
                    write_data_object(&mut out, FieldId::root(57), pct)?
                }
            }
        }
        write_data_object(&mut out, FieldId::root(58), &self.country_code)?;
        write_data_object(&mut out, FieldId::root(59), &self.merchant_name)?;
        write_data_object(&mut out, FieldId::root(60), &self.merchant_city)?;
        if let Some(postal) = &self.postal_code {
            write_data_object(&mut out, FieldId::root(61), postal)?;
        }
        if let Some(data) = self.additional_data.as_ref().filter(|d| !d.is_empty()) {
            write_additional(&mut out, data)?;
        }
        if let Some(lang) = &self.language {
            write_language(&mut out, lang)?;
        }
        for object in &self.rfu {
            if !(65..=79).contains(&object.id) {
                return Err(QrError::invalid(
                    FieldId::root(object.id),
                    "root RFU objects use IDs 65-79",
                ));
            }
        }
        write_objects(&mut out, None, &self.rfu)?;
        for template in &self.unreserved_templates {
            if !(80..=99).contains(&template.id) {
                return Err(QrError::invalid(
                    FieldId::root(template.id),
                    "unreserved templates use IDs 80-99",
                ));
            }
            write_template(&mut out, template.id, template)?;
        }
        out.push_str("6304");
        let crc = crc16_ccitt_false(out.as_bytes());
        out.push_str(&format!("{crc:04X}"));

        // Validate with the parser: same rules, same errors, for generated and scanned codes.
        let (objects, _) = read_framing(&out)?;
        model_from_objects(&objects)?;
        Ok(out)
    }
}

/// Builds a [`MerchantPresentedQr`]; `build` checks every field (EMV QRCPS-MPM v1.1 §4).
///
/// ```
/// use smartpos_qr::mpm::{MerchantPresentedQr, MerchantAccount};
/// let qr = MerchantPresentedQr::builder()
///     .merchant_account(MerchantAccount::primitive(15, "123456789012345"))
///     .merchant_category_code("5812")
///     .transaction_currency("156")
///     .country_code("CN")
///     .merchant_name("NOODLE BAR")
///     .merchant_city("SHANGHAI")
///     .dynamic_amount("35.00")
///     .build()
///     .unwrap();
/// let payload = qr.to_payload().unwrap();
/// assert_eq!(smartpos_qr::mpm::parse(&payload).unwrap().qr, qr);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MerchantPresentedQrBuilder {
    point_of_initiation: Option<PointOfInitiation>,
    merchant_accounts: Vec<MerchantAccount>,
    merchant_category_code: Option<String>,
    transaction_currency: Option<String>,
    transaction_amount: Option<String>,
    tip: Option<TipOrConvenienceFee>,
    country_code: Option<String>,
    merchant_name: Option<String>,
    merchant_city: Option<String>,
    postal_code: Option<String>,
    additional_data: AdditionalData,
    language: Option<MerchantLanguage>,
    rfu: Vec<DataObject>,
    unreserved_templates: Vec<Template>,
}

impl MerchantPresentedQrBuilder {
    /// 01: static ("11") or dynamic ("12").
    pub fn point_of_initiation(mut self, poi: PointOfInitiation) -> Self {
        self.point_of_initiation = Some(poi);
        self
    }

    /// Adds a Merchant Account Information object (02-51).
    pub fn merchant_account(mut self, account: MerchantAccount) -> Self {
        self.merchant_accounts.push(account);
        self
    }

    /// Adds a Merchant Account Information template (26-51).
    pub fn merchant_account_template(self, template: Template) -> Self {
        self.merchant_account(MerchantAccount::template(template))
    }

    /// 52: Merchant Category Code.
    pub fn merchant_category_code(mut self, mcc: impl Into<String>) -> Self {
        self.merchant_category_code = Some(mcc.into());
        self
    }

    /// 53: ISO 4217 numeric currency.
    pub fn transaction_currency(mut self, currency: impl Into<String>) -> Self {
        self.transaction_currency = Some(currency.into());
        self
    }

    /// 54: Transaction Amount.
    pub fn transaction_amount(mut self, amount: impl Into<String>) -> Self {
        self.transaction_amount = Some(amount.into());
        self
    }

    /// 54 plus 01 = "12": a one-time code for this amount.
    pub fn dynamic_amount(self, amount: impl Into<String>) -> Self {
        self.transaction_amount(amount)
            .point_of_initiation(PointOfInitiation::Dynamic)
    }

    /// 55-57: tip or convenience fee.
    pub fn tip(mut self, tip: TipOrConvenienceFee) -> Self {
        self.tip = Some(tip);
        self
    }

    /// 58: ISO 3166-1 alpha-2 country.
    pub fn country_code(mut self, country: impl Into<String>) -> Self {
        self.country_code = Some(country.into());
        self
    }

    /// 59: Merchant Name.
    pub fn merchant_name(mut self, name: impl Into<String>) -> Self {
        self.merchant_name = Some(name.into());
        self
    }

    /// 60: Merchant City.
    pub fn merchant_city(mut self, city: impl Into<String>) -> Self {
        self.merchant_city = Some(city.into());
        self
    }

    /// 61: Postal Code.
    pub fn postal_code(mut self, postal: impl Into<String>) -> Self {
        self.postal_code = Some(postal.into());
        self
    }

    /// 62: the whole Additional Data Field Template.
    pub fn additional_data(mut self, data: AdditionalData) -> Self {
        self.additional_data = data;
        self
    }

    /// 62.01 Bill Number.
    pub fn bill_number(mut self, value: impl Into<String>) -> Self {
        self.additional_data.bill_number = Some(value.into());
        self
    }

    /// 62.05 Reference Label.
    pub fn reference_label(mut self, value: impl Into<String>) -> Self {
        self.additional_data.reference_label = Some(value.into());
        self
    }

    /// 62.07 Terminal Label.
    pub fn terminal_label(mut self, value: impl Into<String>) -> Self {
        self.additional_data.terminal_label = Some(value.into());
        self
    }

    /// 64: Merchant Information — Language Template.
    pub fn language(mut self, lang: MerchantLanguage) -> Self {
        self.language = Some(lang);
        self
    }

    /// 65-79: an RFU data object (kept for forward compatibility).
    pub fn rfu(mut self, object: DataObject) -> Self {
        self.rfu.push(object);
        self
    }

    /// 80-99: an Unreserved Template.
    pub fn unreserved_template(mut self, template: Template) -> Self {
        self.unreserved_templates.push(template);
        self
    }

    /// Checks mandatory fields and every format; the error names the first bad field.
    pub fn build(self) -> Result<MerchantPresentedQr, QrError> {
        let missing = |id: u8, name: &'static str| QrError::MissingField {
            field: FieldId::root(id),
            name,
        };
        let qr = MerchantPresentedQr {
            point_of_initiation: self.point_of_initiation,
            merchant_accounts: self.merchant_accounts,
            merchant_category_code: self
                .merchant_category_code
                .ok_or_else(|| missing(52, "Merchant Category Code"))?,
            transaction_currency: self
                .transaction_currency
                .ok_or_else(|| missing(53, "Transaction Currency"))?,
            transaction_amount: self.transaction_amount,
            tip: self.tip,
            country_code: self
                .country_code
                .ok_or_else(|| missing(58, "Country Code"))?,
            merchant_name: self
                .merchant_name
                .ok_or_else(|| missing(59, "Merchant Name"))?,
            merchant_city: self
                .merchant_city
                .ok_or_else(|| missing(60, "Merchant City"))?,
            postal_code: self.postal_code,
            additional_data: Some(self.additional_data).filter(|d| !d.is_empty()),
            language: self.language,
            rfu: self.rfu,
            unreserved_templates: self.unreserved_templates,
        };
        qr.to_payload()?;
        Ok(qr)
    }
}
