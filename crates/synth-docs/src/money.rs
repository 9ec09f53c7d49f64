//! Money as integer minor units, with the currencies and number formats documents use.

use serde::{Deserialize, Serialize};

/// A currency (ISO 4217), each with two minor digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Philippine peso.
    Php,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Malaysian ringgit.
    Myr,
    /// Singapore dollar.
    Sgd,
}

impl Currency {
    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Php => "PHP",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Myr => "MYR",
            Currency::Sgd => "SGD",
        }
    }

    /// The symbol printed before amounts.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Php => "₱",
            Currency::Usd => "$",
            Currency::Eur => "€",
            Currency::Myr => "RM",
            Currency::Sgd => "S$",
        }
    }
}

/// An amount in minor units (centavos, cents, sen) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    /// Minor units; negative for discounts and refunds.
    pub minor: i64,
}

impl Money {
    /// `minor` minor units.
    pub const fn new(minor: i64) -> Self {
        Money { minor }
    }

    /// Zero.
    pub const ZERO: Money = Money { minor: 0 };

    /// `"1,250.00"`: thousands grouped with `,`, two decimals after `.` (the Philippine,
    /// US and Malaysian convention), a leading `-` when negative.
    ///
    /// ```
    /// use whet_synth_docs::Money;
    /// assert_eq!(Money::new(125_000).plain(), "1,250.00");
    /// assert_eq!(Money::new(-5).plain(), "-0.05");
    /// ```
    pub fn plain(self) -> String {
        let abs = self.minor.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!(
            "{}{grouped}.{:02}",
            if self.minor < 0 { "-" } else { "" },
            abs % 100
        )
    }

    /// With the currency's symbol: `"₱1,250.00"`.
    pub fn with_symbol(self, currency: Currency) -> String {
        let plain = self.plain();
        match plain.strip_prefix('-') {
            Some(rest) => format!("-{}{rest}", currency.symbol()),
            None => format!("{}{plain}", currency.symbol()),
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money::new(self.minor + rhs.minor)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money::new(self.minor - rhs.minor)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money::new(iter.map(|m| m.minor).sum())
    }
}

/// `a * num / den` rounded half away from zero, exactly (no floating point).
pub(crate) fn mul_div_round(a: i64, num: i64, den: i64) -> i64 {
    let p = i128::from(a) * i128::from(num);
    let d = i128::from(den);
    let q = p / d;
    let r = p % d;
    let rounded = if 2 * r.abs() >= d.abs() {
        q + p.signum() * d.signum()
    } else {
        q
    };
    rounded as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(mul_div_round(5, 1, 2), 3);
        assert_eq!(mul_div_round(-5, 1, 2), -3);
        assert_eq!(mul_div_round(112, 100, 112), 100);
        assert_eq!(mul_div_round(100, 12, 100), 12);
    }

    #[test]
    fn formats() {
        assert_eq!(Money::new(0).plain(), "0.00");
        assert_eq!(Money::new(123_456_789).plain(), "1,234,567.89");
        assert_eq!(
            Money::new(-125_000).with_symbol(Currency::Php),
            "-₱1,250.00"
        );
        assert_eq!(Money::new(999).with_symbol(Currency::Myr), "RM9.99");
    }
}
