//! The portable export (RGT-1, RGT-3): a tenant's data as one JSON document or one CSV file, either
//! collected whole ([`Services::export`], for offboarding, whose answer carries it) or streamed page by
//! page ([`Services::export_stream`], for a download of any size: one page of records in memory at a time).
//!
//! Both read the same pages ([`Services::export_page`]). The stream reads only the sections its file is
//! made of and opens buyer PII only for a file that carries it (MIN-2), and it records each page's reads
//! in the audit trail (AUD-1: class and count) before the page leaves. A record of another tenant stops
//! the export (SEG-1).

use super::{ServiceError, Services, Subject};
use crate::authz::{Action, Actor};
use crate::data::{Campaign, ContactDetails, DataClass, ReportRow, SealContext, StockLevel, open};
use crate::ports::{DatasetQuery, KeyScope};
use crate::rights::{
    ExportBundle, ExportError, ExportFile, ExportOrder, ExportRecords, ExportSection, ExportWriter,
};
use crate::tenant::{ContactId, TenantId};

/// One page of one section, as read for an export.
enum SectionPage {
    ReportRows(Vec<ReportRow>),
    Campaigns(Vec<Campaign>),
    Orders(Vec<ExportOrder>),
    Stock(Vec<StockLevel>),
    Contacts(Vec<(ContactId, ContactDetails, String)>),
}

impl SectionPage {
    fn len(&self) -> usize {
        match self {
            SectionPage::ReportRows(r) => r.len(),
            SectionPage::Campaigns(c) => c.len(),
            SectionPage::Orders(o) => o.len(),
            SectionPage::Stock(s) => s.len(),
            SectionPage::Contacts(c) => c.len(),
        }
    }

    fn records(&self) -> ExportRecords<'_> {
        match self {
            SectionPage::ReportRows(r) => ExportRecords::ReportRows(r),
            SectionPage::Campaigns(c) => ExportRecords::Campaigns(c),
            SectionPage::Orders(o) => ExportRecords::Orders(o),
            SectionPage::Stock(s) => ExportRecords::Stock(s),
            SectionPage::Contacts(c) => ExportRecords::Contacts(c),
        }
    }

    /// The natural key of the page's last record, where the next page of its section starts
    /// ([`DatasetQuery::after`]); `None` for an empty page and for contacts (read all at once).
    fn last_key(&self) -> Option<String> {
        match self {
            SectionPage::ReportRows(r) => r.last().map(ReportRow::natural_key),
            SectionPage::Campaigns(c) => c.last().map(Campaign::natural_key),
            SectionPage::Orders(o) => o.last().map(|o| o.order.natural_key()),
            SectionPage::Stock(s) => s.last().map(StockLevel::natural_key),
            SectionPage::Contacts(_) => None,
        }
    }

    /// Records of another tenant than `tenant` (contacts are read by tenant and have no other).
    fn foreign(&self, tenant: &TenantId) -> usize {
        match self {
            SectionPage::ReportRows(r) => r.iter().filter(|r| &r.tenant != tenant).count(),
            SectionPage::Campaigns(c) => c.iter().filter(|c| &c.tenant != tenant).count(),
            SectionPage::Orders(o) => o.iter().filter(|o| &o.order.tenant != tenant).count(),
            SectionPage::Stock(s) => s.iter().filter(|s| &s.tenant != tenant).count(),
            SectionPage::Contacts(_) => 0,
        }
    }

    /// What reading the page disclosed, by data class, for the audit trail.
    fn reads(&self) -> Vec<(DataClass, usize)> {
        match self {
            SectionPage::ReportRows(r) => vec![(DataClass::ReportingDataset, r.len())],
            SectionPage::Campaigns(c) => vec![(DataClass::CampaignMetadata, c.len())],
            SectionPage::Orders(o) => vec![
                (DataClass::OrderDetail, o.len()),
                (DataClass::BuyerPii, o.iter().filter(|o| o.buyer.is_some()).count()),
            ],
            SectionPage::Stock(s) => vec![(DataClass::OrderDetail, s.len())],
            SectionPage::Contacts(c) => vec![(DataClass::BusinessContact, c.len())],
        }
    }
}

/// Where a streamed export is.
#[derive(Debug)]
enum Stage {
    /// The head is not sent yet.
    Head(ExportWriter, String),
    /// Reading `section` of the file's sections, after the record with natural key `after` (from its
    /// first record if `None`).
    Records { writer: ExportWriter, section: usize, after: Option<String> },
    /// The end was sent.
    Done,
    /// A page failed: what was sent is incomplete.
    Failed,
}

/// An export file being read and written a page at a time ([`Services::export_stream`]): each
/// [`ExportStream::next_chunk`] reads one page of records, audits it and answers it rendered, so memory
/// holds one page, never the whole export. The chunks, concatenated, are the file [`crate::rights::export_json`]
/// or [`crate::rights::export_csv`] would make of the same records.
#[derive(Debug)]
pub struct ExportStream {
    services: Services,
    actor: Actor,
    tenant: TenantId,
    file: ExportFile,
    stage: Stage,
}

impl ExportStream {
    /// The file being streamed.
    pub fn file(&self) -> ExportFile {
        self.file
    }

    /// The next piece of the file, `None` once it is complete. The first piece holds the file's head and
    /// the last its end. A piece of records is in the audit trail before it is answered (AUD-1); if that or
    /// a read fails, or a record of another tenant turns up (SEG-1), the error is answered, the export is
    /// over and what was answered so far is incomplete: every later call answers [`ServiceError::Conflict`].
    pub async fn next_chunk(&mut self) -> Result<Option<String>, ServiceError> {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::Head(writer, mut out) => {
                self.records(writer, 0, None, &mut out).await?;
                Ok(Some(out))
            }
            Stage::Records { writer, section, after } => {
                let mut out = String::new();
                self.records(writer, section, after, &mut out).await?;
                Ok(Some(out))
            }
            Stage::Done => {
                self.stage = Stage::Done;
                Ok(None)
            }
            Stage::Failed => Err(ServiceError::Conflict("the export stopped at an earlier error".into())),
        }
    }

    /// Appends the next non-empty page of `section` after the key `after` (or of the sections after it) to
    /// `out`, or the file's end if there is none, and sets the stage that follows. On error the stage stays
    /// [`Stage::Failed`].
    async fn records(
        &mut self,
        mut writer: ExportWriter,
        mut section: usize,
        mut after: Option<String>,
        out: &mut String,
    ) -> Result<(), ServiceError> {
        let limit = self.services.settings.export_page.max(1);
        let sections = self.file.sections();
        while let Some(&kind) = sections.get(section) {
            let page = self
                .services
                .export_page(&self.tenant, kind, after.take(), limit, self.file.carries_buyers())
                .await?;
            let n = page.len();
            if kind == ExportSection::Contacts || n < limit as usize {
                section += 1;
            } else {
                after = page.last_key();
            }
            if n == 0 {
                continue;
            }
            let foreign = page.foreign(&self.tenant);
            if foreign > 0 {
                return Err(ServiceError::Conflict(
                    ExportError::ForeignRecords { count: foreign }.to_string(),
                ));
            }
            for (class, count) in page.reads() {
                if count > 0 {
                    self.services.audit_read(&self.actor, &self.tenant, class, count).await?;
                }
            }
            writer.write(page.records(), out).map_err(|e| ServiceError::Conflict(e.to_string()))?;
            self.stage = Stage::Records { writer, section, after };
            return Ok(());
        }
        writer.finish(out);
        self.stage = Stage::Done;
        Ok(())
    }
}

impl Services {
    /// Everything portable of the tenant, PII opened (access and portability, RGT-1), collected whole.
    /// Step-up MFA (ACC-2); every class read is audited with its count.
    pub async fn export(&self, actor: &Actor, tenant: &TenantId) -> Result<ExportBundle, ServiceError> {
        self.authorize(actor, Action::ExportData, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let bundle = self.collect_export(tenant).await?;
        for (class, n) in [
            (DataClass::ReportingDataset, bundle.report_rows.len()),
            (DataClass::CampaignMetadata, bundle.campaigns.len()),
            (DataClass::OrderDetail, bundle.orders.len() + bundle.stock.len()),
            (DataClass::BuyerPii, bundle.orders.iter().filter(|o| o.buyer.is_some()).count()),
            (DataClass::BusinessContact, bundle.contacts.len()),
        ] {
            self.audit_read(actor, tenant, class, n).await?;
        }
        bundle.check().map_err(|e| ServiceError::Conflict(e.to_string()))?;
        Ok(bundle)
    }

    /// `file` of the tenant's export, to be read a page at a time (RGT-1; see [`ExportStream`]). The
    /// decision (`data_export`, step-up MFA, ACC-2) is taken and recorded here, before anything is read.
    pub async fn export_stream(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        file: ExportFile,
    ) -> Result<ExportStream, ServiceError> {
        self.authorize(actor, Action::ExportData, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let mut head = String::new();
        let writer = ExportWriter::start(file, tenant, self.now(), &mut head);
        Ok(ExportStream {
            services: self.clone(),
            actor: actor.clone(),
            tenant: tenant.clone(),
            file,
            stage: Stage::Head(writer, head),
        })
    }

    async fn collect_export(&self, tenant: &TenantId) -> Result<ExportBundle, ServiceError> {
        let mut bundle = ExportBundle {
            tenant: tenant.clone(),
            generated_at: self.now(),
            report_rows: Vec::new(),
            campaigns: Vec::new(),
            orders: Vec::new(),
            stock: Vec::new(),
            contacts: Vec::new(),
        };
        let limit = self.settings.export_page.max(1);
        for section in ExportSection::ALL {
            let mut after = None;
            loop {
                let page = self.export_page(tenant, section, after, limit, true).await?;
                let n = page.len();
                after = page.last_key();
                match page {
                    SectionPage::ReportRows(r) => bundle.report_rows.extend(r),
                    SectionPage::Campaigns(c) => bundle.campaigns.extend(c),
                    SectionPage::Orders(o) => bundle.orders.extend(o),
                    SectionPage::Stock(s) => bundle.stock.extend(s),
                    SectionPage::Contacts(c) => bundle.contacts.extend(c),
                }
                if section == ExportSection::Contacts || n < limit as usize {
                    break;
                }
            }
        }
        Ok(bundle)
    }

    /// Up to `limit` records of `section` after the natural key `after` (from the first if `None`), in
    /// key order: a page found by key costs the same however far into a large tenant it is. Orders with
    /// their buyer opened if `buyers` (else none is opened); contacts opened, all of them at once (a tenant
    /// has few), on the first page only.
    async fn export_page(
        &self,
        tenant: &TenantId,
        section: ExportSection,
        after: Option<String>,
        limit: u32,
        buyers: bool,
    ) -> Result<SectionPage, ServiceError> {
        let d = &self.deps.datasets;
        let first = after.is_none();
        let q = DatasetQuery { after, limit, ..DatasetQuery::everything(tenant.clone()) };
        Ok(match section {
            ExportSection::ReportRows => SectionPage::ReportRows(d.report_rows(&q).await?),
            ExportSection::Campaigns => SectionPage::Campaigns(d.campaigns(&q).await?),
            ExportSection::Orders => {
                let orders = d.orders(&q).await?;
                let mut page = Vec::with_capacity(orders.len());
                for order in orders {
                    let buyer = if buyers { self.open_buyer(&order).await? } else { None };
                    page.push(ExportOrder { order, buyer });
                }
                SectionPage::Orders(page)
            }
            ExportSection::Stock => SectionPage::Stock(d.stock(&q).await?),
            ExportSection::Contacts => {
                let contacts = if first { self.deps.tenants.contacts(tenant).await? } else { Vec::new() };
                let mut page = Vec::with_capacity(contacts.len());
                let scope = KeyScope::tenant(tenant);
                for c in contacts {
                    let key = self.deps.keys.key(&scope, c.details.key_version()).await?;
                    let ctx = SealContext::new(tenant, "contact", c.id.as_str());
                    let details: ContactDetails = open(&key, &ctx, &c.details)
                        .map_err(|e| ServiceError::Unavailable("sealed data", Box::new(e)))?;
                    page.push((c.id, details, c.role));
                }
                SectionPage::Contacts(page)
            }
        })
    }
}
