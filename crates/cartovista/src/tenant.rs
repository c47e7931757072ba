//! A client bound to one tenant (and optionally one user), so that calls
//! need not repeat them. The per-call form stays on [`Client`].

use crate::{Client, Error, ResponseValue, Secret, types};

impl Client {
    /// This client bound to tenant `tenant_url_code`.
    pub fn tenant(&self, tenant_url_code: impl Into<String>) -> Tenant {
        Tenant {
            client: self.clone(),
            tenant: tenant_url_code.into(),
        }
    }
}

/// A [`Client`] bound to one tenant. Cheap to clone; clones share the
/// connection pool and the credentials.
#[derive(Debug, Clone)]
pub struct Tenant {
    client: Client,
    tenant: String,
}

impl Tenant {
    /// The tenant's URL code.
    pub fn code(&self) -> &str {
        &self.tenant
    }

    /// The same tenant, also bound to user `user_identifier`.
    pub fn user(&self, user_identifier: impl Into<String>) -> TenantUser {
        TenantUser {
            tenant: self.clone(),
            user: user_identifier.into(),
        }
    }

    /// Creates an access key for `user_identifier`.
    pub async fn create_access_key(
        &self,
        user_identifier: &str,
        body: &types::CreateApiKeyParameter,
    ) -> Result<ResponseValue<types::AccessKeyDto>, Error> {
        self.client
            .api_key_create_access_key(&self.tenant, user_identifier, body)
            .await
    }

    /// Lists the access keys of `user_identifier`.
    pub async fn get_access_keys(
        &self,
        user_identifier: &str,
    ) -> Result<ResponseValue<Vec<types::AccessKeyDto>>, Error> {
        self.client
            .api_key_get_access_keys(&self.tenant, user_identifier)
            .await
    }

    /// Changes an access key.
    pub async fn update_access_key(
        &self,
        body: &types::AccessKeyDto,
    ) -> Result<ResponseValue<()>, Error> {
        self.client
            .api_key_update_access_key(&self.tenant, body)
            .await
    }

    /// Deletes access key `id`.
    pub async fn delete_api_key(&self, id: &str) -> Result<ResponseValue<()>, Error> {
        self.client.api_key_delete_api_key(&self.tenant, id).await
    }

    /// Generates a new secret for access key `id`.
    pub async fn generate_secret_key(&self, id: &str) -> Result<ResponseValue<Secret>, Error> {
        self.client
            .api_key_generate_secret_key(&self.tenant, id)
            .await
    }
}

/// A [`Client`] bound to one tenant and one user.
#[derive(Debug, Clone)]
pub struct TenantUser {
    tenant: Tenant,
    user: String,
}

impl TenantUser {
    /// The tenant this is bound to.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// Creates an access key for the user.
    pub async fn create_access_key(
        &self,
        body: &types::CreateApiKeyParameter,
    ) -> Result<ResponseValue<types::AccessKeyDto>, Error> {
        self.tenant.create_access_key(&self.user, body).await
    }

    /// Lists the user's access keys.
    pub async fn get_access_keys(&self) -> Result<ResponseValue<Vec<types::AccessKeyDto>>, Error> {
        self.tenant.get_access_keys(&self.user).await
    }
}
