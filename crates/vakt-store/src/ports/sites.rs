//! Customers and their sites, with what hangs off a site: points, panel users, contacts,
//! instructions, test modes and attached transmitters.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{
    Actor, AlarmPoint, Customer, NewContact, NewCustomer, NewSite, PanelUser, SiteDetail,
    SiteSummary, StoreError, TestMode,
};
use vakt_core::Category;
use vakt_core::centre::Step;

/// Customers and their sites, with what hangs off a site: points, panel users, contacts,.
pub trait Sites: Send + Sync + 'static {
    /// Every customer, by name.
    fn customers(&self) -> impl Future<Output = Result<Vec<Customer>, StoreError>> + Send;
    /// Creates (`id` `None`) or updates a customer; returns its id.
    fn save_customer(
        &self,
        id: Option<i64>,
        customer: NewCustomer,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every site, by name.
    fn sites(&self) -> impl Future<Output = Result<Vec<SiteSummary>, StoreError>> + Send;
    /// One site with its points, users, contacts, instructions, transmitters and keys.
    fn site(&self, id: i64) -> impl Future<Output = Result<SiteDetail, StoreError>> + Send;
    /// Creates (`id` `None`) or updates a site's own fields; returns its id.
    fn save_site(
        &self,
        id: Option<i64>,
        site: NewSite,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Replaces a site's alarm points.
    fn save_points(
        &self,
        site_id: i64,
        points: Vec<AlarmPoint>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a site's panel users.
    fn save_panel_users(
        &self,
        site_id: i64,
        users: Vec<PanelUser>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a site's contacts; their order is the call order. A contact with an id
    /// keeps its password unless a new hash is given.
    fn save_contacts(
        &self,
        site_id: i64,
        contacts: Vec<NewContact>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets a site's action instruction for one category.
    fn save_instruction(
        &self,
        site_id: i64,
        category: Category,
        steps: Vec<Step>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets a site's revoking code (its hash).
    fn set_revoking_code(
        &self,
        site_id: i64,
        hash: String,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Puts a site or one point in test mode, or ends it.
    fn set_test_mode(
        &self,
        site_id: i64,
        mode: TestMode,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Attaches a transmitter to a site.
    fn attach_transmitter(
        &self,
        transmitter_id: i64,
        site_id: i64,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
