//! Locales: the language of the text, the tax rules, the tax id format and the content
//! (stores, people, streets, products) documents are filled with.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// A document locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    /// English, Philippines.
    #[serde(rename = "en_PH")]
    EnPh,
    /// Filipino (Tagalog, and the Taglish of real receipts), Philippines.
    #[serde(rename = "fil_PH")]
    FilPh,
    /// English, United States.
    #[serde(rename = "en_US")]
    EnUs,
    /// Malay, Malaysia.
    #[serde(rename = "ms_MY")]
    MsMy,
}

/// How tax is charged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaxRule {
    /// Rate as a fraction: `rate_num / rate_den` (12/100 for Philippine VAT).
    pub rate_num: i64,
    /// Denominator of the rate.
    pub rate_den: i64,
    /// Whether shelf prices include the tax (Philippine receipts: yes; US: no).
    pub inclusive: bool,
    /// The tax's printed name (`VAT`, `Sales Tax`, `SST`).
    pub name: &'static str,
}

impl Locale {
    /// All supported locales.
    pub const ALL: [Locale; 4] = [Locale::EnPh, Locale::FilPh, Locale::EnUs, Locale::MsMy];

    /// The BCP-47-like code (`en_PH`).
    pub fn code(self) -> &'static str {
        match self {
            Locale::EnPh => "en_PH",
            Locale::FilPh => "fil_PH",
            Locale::EnUs => "en_US",
            Locale::MsMy => "ms_MY",
        }
    }

    /// The currency documents of this locale are in.
    pub fn currency(self) -> Currency {
        match self {
            Locale::EnPh | Locale::FilPh => Currency::Php,
            Locale::EnUs => Currency::Usd,
            Locale::MsMy => Currency::Myr,
        }
    }

    /// The tax rule: 12% VAT included in Philippine prices; a 7.25% state sales tax added
    /// in the US (California's base rate, as one concrete choice); Malaysia's 8% service
    /// tax added.
    pub fn tax(self) -> TaxRule {
        match self {
            Locale::EnPh | Locale::FilPh => TaxRule {
                rate_num: 12,
                rate_den: 100,
                inclusive: true,
                name: "VAT",
            },
            Locale::EnUs => TaxRule {
                rate_num: 725,
                rate_den: 10_000,
                inclusive: false,
                name: "Sales Tax",
            },
            Locale::MsMy => TaxRule {
                rate_num: 8,
                rate_den: 100,
                inclusive: false,
                name: "SST",
            },
        }
    }

    /// A tax id in the locale's printed form: Philippine TIN `XXX-XXX-XXX-XXX` (the last
    /// group the branch code, `000` for a head office), US EIN `XX-XXXXXXX`, Malaysian SST
    /// registration `W10-XXXX-XXXXXXXX`.
    pub fn tax_id(self, rng: &mut impl Rng) -> String {
        let digits = |rng: &mut dyn rand::RngCore, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect()
        };
        match self {
            Locale::EnPh | Locale::FilPh => {
                let branch = if rng.random_bool(0.7) {
                    "000".to_owned()
                } else {
                    format!("{:03}", rng.random_range(1..40))
                };
                format!(
                    "{}-{}-{}-{branch}",
                    digits(rng, 3),
                    digits(rng, 3),
                    digits(rng, 3)
                )
            }
            Locale::EnUs => format!("{}-{}", digits(rng, 2), digits(rng, 7)),
            Locale::MsMy => format!("W10-{}-{}", digits(rng, 4), digits(rng, 8)),
        }
    }

    /// The label printed before the tax id.
    pub fn tax_id_label(self) -> &'static str {
        match self {
            Locale::EnPh => "VAT REG TIN",
            Locale::FilPh => "TIN",
            Locale::EnUs => "EIN",
            Locale::MsMy => "SST No",
        }
    }

    pub(crate) fn content(self) -> &'static Content {
        match self {
            Locale::EnPh => &EN_PH,
            Locale::FilPh => &FIL_PH,
            Locale::EnUs => &EN_US,
            Locale::MsMy => &MS_MY,
        }
    }
}

/// A product with a typical unit price range (minor units) and whether it is VAT-exempt
/// where the locale distinguishes (basic food in the Philippines).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    pub name: &'static str,
    pub price: (i64, i64),
    pub exempt: bool,
}

const fn p(name: &'static str, lo: i64, hi: i64, exempt: bool) -> Product {
    Product {
        name,
        price: (lo, hi),
        exempt,
    }
}

pub(crate) struct Content {
    pub stores: &'static [&'static str],
    pub first_names: &'static [&'static str],
    pub last_names: &'static [&'static str],
    pub streets: &'static [&'static str],
    pub cities: &'static [&'static str],
    pub products: &'static [Product],
    pub payments: &'static [&'static str],
}

impl Content {
    pub fn pick<'a>(&self, list: &'a [&'static str], rng: &mut impl Rng) -> &'a str {
        list.choose(rng).copied().unwrap_or("")
    }
}

static EN_PH: Content = Content {
    stores: &[
        "Golden Harvest Grocery",
        "Metro Fresh Mart",
        "Sunrise Pharmacy",
        "Cebu Hardware Depot",
        "Bayview Bakeshop",
        "Northpoint Convenience Store",
        "Island Brew Coffee",
        "Davao Fruit Stand",
    ],
    first_names: &[
        "Maria", "Jose", "Ana", "Juan", "Cristina", "Mark", "Angelica", "Paolo", "Jasmine", "Rodel",
    ],
    last_names: &[
        "Santos",
        "Reyes",
        "Cruz",
        "Bautista",
        "Garcia",
        "Mendoza",
        "Villanueva",
        "Ramos",
        "Aquino",
        "Dela Cruz",
    ],
    streets: &[
        "Rizal Ave.",
        "Mabini St.",
        "Ayala Ave.",
        "Osmeña Blvd.",
        "Quezon Ave.",
        "Bonifacio Dr.",
        "Katipunan Ave.",
    ],
    cities: &[
        "Makati City",
        "Quezon City",
        "Cebu City",
        "Davao City",
        "Pasig City",
        "Iloilo City",
        "Baguio City",
    ],
    products: &[
        p("Rice 5kg", 25_000, 38_000, true),
        p("Instant Coffee 3-in-1", 800, 1_500, false),
        p("Bread Loaf", 5_500, 9_000, true),
        p("Canned Sardines", 2_200, 3_500, false),
        p("Cooking Oil 1L", 9_000, 15_000, false),
        p("Laundry Soap", 1_800, 4_000, false),
        p("Paracetamol 500mg", 400, 900, false),
        p("Bottled Water 500ml", 1_500, 2_500, false),
        p("Eggs (dozen)", 9_000, 12_000, true),
        p("Iced Coffee Grande", 14_000, 19_500, false),
        p("Banana Cake Slice", 4_500, 7_500, false),
        p("Hammer 16oz", 25_000, 45_000, false),
    ],
    payments: &["CASH", "GCASH", "MAYA", "CREDIT CARD", "DEBIT CARD"],
};

static FIL_PH: Content = Content {
    stores: &[
        "Tindahan ni Aling Nena",
        "Sari-Sari ni Mang Jose",
        "Kainan sa Kanto",
        "Panaderia de Manila",
        "Botika ng Bayan",
        "Karinderya ni Lola",
        "Palengke Fresh",
    ],
    first_names: &[
        "Nena",
        "Jose",
        "Lorna",
        "Danilo",
        "Rosalinda",
        "Ernesto",
        "Marites",
        "Bong",
    ],
    last_names: &[
        "Dimaculangan",
        "Macaraeg",
        "Pascual",
        "Salonga",
        "Tolentino",
        "Manalo",
        "Lacson",
    ],
    streets: &[
        "Kalye Mabini",
        "Daang Hari",
        "Kalye Rizal",
        "Purok 3",
        "Barangay San Isidro",
    ],
    cities: &[
        "Lungsod Quezon",
        "Maynila",
        "Lungsod ng Batangas",
        "Malolos",
        "Lungsod ng Lipa",
    ],
    products: &[
        p("Bigas (1 kilo)", 4_800, 6_500, true),
        p("Kape 3-in-1 (sachet)", 900, 1_200, false),
        p("Pandesal (10 piraso)", 2_000, 3_500, true),
        p("Pancit Canton", 1_500, 2_200, false),
        p("Sabon panlaba", 1_800, 3_200, false),
        p("Itlog (isang dosena)", 9_000, 11_500, true),
        p("Tinapay na may palaman", 2_500, 4_000, false),
        p("Softdrinks 1.5L", 7_500, 9_500, false),
        p("Adobong manok (order)", 9_500, 14_000, false),
        p("Halo-halo special", 8_000, 13_000, false),
        p("Gamot sa ubo", 700, 1_500, false),
        p("Yelo (supot)", 500, 1_000, true),
    ],
    payments: &["CASH", "GCASH", "UTANG", "MAYA"],
};

static EN_US: Content = Content {
    stores: &[
        "Maple Street Market",
        "Bay Area Hardware",
        "Sunset Diner",
        "Corner Pharmacy",
        "Greenfield Office Supply",
        "Harbor Coffee Co.",
    ],
    first_names: &[
        "James", "Emily", "Michael", "Olivia", "Daniel", "Sophia", "Ethan", "Ava",
    ],
    last_names: &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
    ],
    streets: &[
        "Main St",
        "Oak Ave",
        "Market St",
        "2nd Ave",
        "Elm St",
        "Sunset Blvd",
    ],
    cities: &[
        "San Francisco, CA",
        "Oakland, CA",
        "San Jose, CA",
        "Los Angeles, CA",
        "Sacramento, CA",
    ],
    products: &[
        p("Whole Milk 1gal", 399, 599, false),
        p("Sourdough Bread", 499, 799, false),
        p("Printer Paper 500ct", 899, 1_499, false),
        p("AA Batteries 8pk", 799, 1_299, false),
        p("Latte 16oz", 450, 650, false),
        p("Cheeseburger", 899, 1_499, false),
        p("Ibuprofen 200mg", 699, 1_199, false),
        p("Paint Roller", 599, 1_299, false),
    ],
    payments: &["VISA", "MASTERCARD", "CASH", "AMEX", "APPLE PAY"],
};

static MS_MY: Content = Content {
    stores: &[
        "Kedai Runcit Pak Ali",
        "Restoran Selera Kampung",
        "Farmasi Sejahtera",
        "Kedai Kopi Ah Seng",
        "Pasar Mini Bestari",
    ],
    first_names: &[
        "Ahmad", "Siti", "Mohd", "Nurul", "Lim", "Tan", "Rajesh", "Aisyah",
    ],
    last_names: &[
        "Abdullah", "Ismail", "Hassan", "Wong", "Kumar", "Rahman", "Chong",
    ],
    streets: &[
        "Jalan Ampang",
        "Jalan Tun Razak",
        "Jalan Bukit Bintang",
        "Lorong Melur 3",
    ],
    cities: &[
        "Kuala Lumpur",
        "Petaling Jaya",
        "Shah Alam",
        "Johor Bahru",
        "George Town",
    ],
    products: &[
        p("Nasi Lemak", 450, 900, false),
        p("Teh Tarik", 200, 350, false),
        p("Roti Canai", 150, 300, false),
        p("Mee Goreng", 650, 1_100, false),
        p("Beras 5kg", 1_600, 2_800, false),
        p("Minyak Masak 1kg", 650, 900, false),
        p("Panadol", 850, 1_500, false),
        p("Air Mineral 1.5L", 180, 350, false),
    ],
    payments: &["TUNAI", "KAD KREDIT", "TOUCH 'N GO", "GRABPAY"],
};
