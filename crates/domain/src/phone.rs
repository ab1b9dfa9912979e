//! Cell phone numbers: parsed with libphonenumber's metadata (the
//! `phonenumber` crate) for the chosen country and stored as E.164.

/// The E.164 form of `number` dialled from `country` (ISO 3166 code such
/// as `US`), or a message saying what is wrong.
///
/// ```
/// assert_eq!(domain::phone::to_e164("US", "(201) 555-0123").unwrap(), "+12015550123");
/// assert!(domain::phone::to_e164("DE", "12").is_err());
/// ```
pub fn to_e164(country: &str, number: &str) -> Result<String, crate::Reason> {
    use crate::Reason;
    let country = country.trim().to_ascii_uppercase();
    let id: phonenumber::country::Id = country.parse().map_err(|_| Reason::PhoneCountry)?;
    if number.chars().count() > 32 || number.trim().is_empty() {
        return Err(Reason::PhoneEmpty);
    }
    let parsed =
        phonenumber::parse(Some(id), number.trim()).map_err(|_| Reason::PhoneUnreadable {
            country: country.clone(),
        })?;
    if !phonenumber::is_valid(&parsed) {
        return Err(Reason::PhoneInvalid { country });
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// The E.164 form of a number written internationally (`+1 201 555 0123`),
/// for places with no country to choose, such as the admin CLI.
///
/// ```
/// assert_eq!(domain::phone::international_to_e164("+1 (201) 555-0123").unwrap(), "+12015550123");
/// assert!(domain::phone::international_to_e164("2015550123").is_err());
/// ```
pub fn international_to_e164(number: &str) -> Result<String, String> {
    let number = number.trim();
    if !number.starts_with('+') || number.chars().count() > 32 {
        return Err("phone must be written internationally, like +12015550123".into());
    }
    let parsed = phonenumber::parse(None, number)
        .map_err(|_| "phone must be written internationally, like +12015550123".to_owned())?;
    if !phonenumber::is_valid(&parsed) {
        return Err("phone is not a valid number for its country code".into());
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164_for_their_country() {
        assert_eq!(to_e164("us", "201-555-0123").unwrap(), "+12015550123");
        assert_eq!(to_e164("GB", "020 7946 0958").unwrap(), "+442079460958");
        assert_eq!(
            to_e164("DE", "+1 201 555 0123").unwrap(),
            "+12015550123",
            "an explicit + wins"
        );
        for (country, number) in [
            ("US", "12"),
            ("US", "letters"),
            ("XX", "2015550123"),
            ("US", ""),
            ("US", &"9".repeat(40)),
        ] {
            assert!(to_e164(country, number).is_err(), "{country} {number}");
        }
        assert!(to_e164("US", "12").unwrap_err().to_string().contains("US"));
    }
}
