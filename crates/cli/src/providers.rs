//! The providers the tool offers. Each crate describes its own settings
//! and builds its own lifecycle (`PROVIDER`); a new provider is one line
//! here.

use apikeys_lifecycle::Provider;

/// Every provider, in the order `--help` lists them.
pub const PROVIDERS: &[Provider] = &[
    apikeys_sunshine_conversations::PROVIDER,
    apikeys_finbourne_identity::PROVIDER,
    apikeys_cartovista::PROVIDER,
    apikeys_finicity::PROVIDER,
];

/// The provider named `name`.
pub fn find(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}
