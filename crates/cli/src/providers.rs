//! Each provider's lifecycle, configured from the environment (the same
//! sources the provider crates read), so that no secret is ever typed on
//! a command line.

use apikeys_lifecycle::KeyLifecycle;

/// The providers the tool knows, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Sunshine Conversations custom integration keys.
    Sunshine,
    /// FINBOURNE personal access tokens.
    Finbourne,
    /// CartoVista user access keys.
    Cartovista,
    /// Finicity third-party access keys.
    Finicity,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Self::Sunshine,
        Self::Finbourne,
        Self::Cartovista,
        Self::Finicity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sunshine => "sunshine",
            Self::Finbourne => "finbourne",
            Self::Cartovista => "cartovista",
            Self::Finicity => "finicity",
        }
    }

    /// The variables that must be set for the provider to count as
    /// configured (FINBOURNE also reads `secrets.json`).
    fn required(self) -> &'static [&'static str] {
        match self {
            Self::Sunshine => &[
                "SUNSHINE_KEY_ID",
                "SUNSHINE_KEY_SECRET",
                "SUNSHINE_APP_ID",
                "SUNSHINE_INTEGRATION_ID",
            ],
            Self::Finbourne => &[],
            Self::Cartovista => &["CARTOVISTA_API_KEY", "CARTOVISTA_TENANT", "CARTOVISTA_USER"],
            Self::Finicity => &[
                "FINICITY_APP_KEY",
                "FINICITY_PARTNER_ID",
                "FINICITY_PARTNER_SECRET",
            ],
        }
    }

    /// Whether the environment configures this provider.
    pub fn configured(self) -> bool {
        match self {
            Self::Finbourne => apikeys_finbourne_identity::Configuration::new()
                .client_builder()
                .is_ok(),
            _ => self
                .required()
                .iter()
                .all(|v| std::env::var_os(v).is_some()),
        }
    }

    /// The provider's lifecycle, from the environment.
    pub fn lifecycle(self) -> Result<Box<dyn KeyLifecycle>, String> {
        let missing = self
            .required()
            .iter()
            .filter(|v| std::env::var_os(v).is_none())
            .copied()
            .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(format!(
                "{} is not configured: set {}",
                self.name(),
                missing.join(", ")
            ));
        }
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let base =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        let bad = |e: &dyn std::fmt::Display| format!("{}: {e}", self.name());
        Ok(match self {
            Self::Sunshine => {
                use apikeys_sunshine_conversations as p;
                let client = p::Client::builder()
                    .base_url(base("SUNSHINE_BASE_URL", p::US))
                    .auth(
                        p::basic_auth(&var("SUNSHINE_KEY_ID"), var("SUNSHINE_KEY_SECRET"))
                            .map_err(|e| bad(&e))?,
                    )
                    .build()
                    .map_err(|e| bad(&e))?;
                Box::new(p::Keys::new(
                    client,
                    var("SUNSHINE_APP_ID"),
                    var("SUNSHINE_INTEGRATION_ID"),
                ))
            }
            Self::Finbourne => {
                use apikeys_finbourne_identity as p;
                let client = p::Configuration::new().build().map_err(|e| bad(&e))?;
                Box::new(p::Keys::new(client))
            }
            Self::Cartovista => {
                use apikeys_cartovista as p;
                let secret = std::env::var("CARTOVISTA_SECRET_KEY")
                    .ok()
                    .map(p::Secret::new);
                let client = p::Client::builder()
                    .base_url(base("CARTOVISTA_BASE_URL", "https://cloud.cartovista.com"))
                    .auth(p::credentials(var("CARTOVISTA_API_KEY"), secret).map_err(|e| bad(&e))?)
                    .build()
                    .map_err(|e| bad(&e))?;
                Box::new(p::Keys::new(
                    client,
                    var("CARTOVISTA_TENANT"),
                    var("CARTOVISTA_USER"),
                ))
            }
            Self::Finicity => {
                use apikeys_finicity as p;
                let auth = p::FinicityAuth::partner(
                    var("FINICITY_APP_KEY"),
                    var("FINICITY_PARTNER_ID"),
                    var("FINICITY_PARTNER_SECRET"),
                )
                .map_err(|e| bad(&e))?;
                let client = p::Client::builder()
                    .base_url(base("FINICITY_BASE_URL", "https://api.finicity.com"))
                    .auth(auth)
                    .build()
                    .map_err(|e| bad(&e))?;
                // What a new key grants: customer, partners and products.
                let template = match std::env::var_os("FINICITY_GRANT_FILE") {
                    Some(path) => {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| format!("FINICITY_GRANT_FILE: {e}"))?;
                        serde_json::from_str(&text)
                            .map_err(|e| format!("FINICITY_GRANT_FILE is not a grant: {e}"))?
                    }
                    None => serde_json::from_value(serde_json::json!({
                        "customerId": var("FINICITY_CUSTOMER_ID"),
                        "partnerId": var("FINICITY_PARTNER_ID"),
                        "thirdPartyPartnerId": var("FINICITY_THIRD_PARTY_PARTNER_ID"),
                        "products": []
                    }))
                    .map_err(|e| bad(&e))?,
                };
                Box::new(p::Keys::new(client, template))
            }
        })
    }
}
