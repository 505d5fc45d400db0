//! What the simulated Meta remembers: authorization codes, tokens, authorizations (user × app grants),
//! changed campaigns, async report runs, deletion answers and injected errors.

use std::collections::HashMap;

use super::insights::InsightsQuery;
use super::{DeletionAnswer, MetaGrant, Revocation, SimCampaign};
use crate::seed;

/// An authorization code from the dialog.
#[derive(Debug, Clone)]
pub(super) struct Code {
    pub(super) grant: MetaGrant,
    pub(super) redirect_uri: String,
    pub(super) expires_at: i64,
    pub(super) used: bool,
}

/// One user's authorization of the app.
#[derive(Debug, Clone)]
pub(super) struct Authorization {
    pub(super) grant: MetaGrant,
    pub(super) data_access_expires_at: i64,
    pub(super) revoked: Option<Revocation>,
}

/// An issued user token.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) auth: usize,
    pub(super) issued_at: i64,
    /// `None`: never expires.
    pub(super) expires_at: Option<i64>,
    pub(super) long_lived: bool,
}

/// An async report run.
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub(super) id: String,
    pub(super) account: usize,
    pub(super) query: InsightsQuery,
    pub(super) created_at: i64,
    pub(super) polls: u32,
    pub(super) completed_at: Option<i64>,
    pub(super) fails: bool,
}

#[derive(Debug, Default)]
pub(super) struct State {
    counter: u64,
    pub(super) codes: HashMap<String, Code>,
    pub(super) tokens: HashMap<String, Token>,
    pub(super) auths: Vec<Authorization>,
    /// Changed campaigns by (account index, campaign index).
    pub(super) campaigns: HashMap<(usize, u64), SimCampaign>,
    pub(super) runs: HashMap<String, Run>,
    pub(super) deletions: Vec<DeletionAnswer>,
    /// (code, subcode, times left).
    pub(super) injected: Vec<(i64, Option<i64>, u32)>,
    pub(super) failing_runs: u32,
    pub(super) graph_calls: u64,
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn random(&mut self, seed: u64, label: &str, len: usize) -> String {
        let n = self.next();
        seed::Stream::new(seed, &[seed::text(label), n]).token(len)
    }

    /// A trace id for an error answer (`fbtrace_id`).
    pub(super) fn trace_id(&mut self, seed: u64) -> String {
        let mut id = self.random(seed, "fbtrace", 11);
        id.replace_range(0..1, "A");
        id
    }

    pub(super) fn issue_code(
        &mut self,
        seed: u64,
        grant: MetaGrant,
        redirect_uri: &str,
        expires_at: i64,
    ) -> String {
        let code = format!("AQ{}", self.random(seed, "meta-code", 180));
        self.codes.insert(
            code.clone(),
            Code { grant, redirect_uri: redirect_uri.to_owned(), expires_at, used: false },
        );
        code
    }

    pub(super) fn authorize(&mut self, grant: MetaGrant, data_access_expires_at: i64) -> usize {
        self.auths.push(Authorization { grant, data_access_expires_at, revoked: None });
        self.auths.len() - 1
    }

    pub(super) fn issue_token(
        &mut self,
        seed: u64,
        auth: usize,
        now: i64,
        expires_at: Option<i64>,
        long_lived: bool,
    ) -> String {
        let token = format!("EAAT{}", self.random(seed, "meta-token", 160));
        self.tokens.insert(token.clone(), Token { auth, issued_at: now, expires_at, long_lived });
        token
    }

    pub(super) fn revoke_token(&mut self, token: &str, why: Revocation) -> bool {
        let Some(auth) = self.tokens.get(token).map(|t| t.auth) else {
            return false;
        };
        if let Some(auth) = self.auths.get_mut(auth) {
            auth.revoked = Some(why);
        }
        true
    }

    pub(super) fn revoke_user(&mut self, user_id: &str, why: Revocation) {
        for auth in self.auths.iter_mut().filter(|a| a.grant.user_id == user_id) {
            auth.revoked = Some(why);
        }
    }

    pub(super) fn revoke_all(&mut self, why: Revocation) {
        for auth in &mut self.auths {
            auth.revoked = Some(why);
        }
    }

    pub(super) fn set_user_accounts(&mut self, user_id: &str, accounts: &[&str]) -> usize {
        let mut changed = 0;
        for auth in self.auths.iter_mut().filter(|a| a.grant.user_id == user_id) {
            auth.grant.accounts = accounts.iter().map(|a| (*a).to_owned()).collect();
            changed += 1;
        }
        changed
    }

    pub(super) fn set_accounts(&mut self, token: &str, accounts: &[&str]) -> bool {
        let Some(auth) = self.tokens.get(token).map(|t| t.auth) else {
            return false;
        };
        match self.auths.get_mut(auth) {
            Some(auth) => {
                auth.grant.accounts = accounts.iter().map(|a| (*a).to_owned()).collect();
                true
            }
            None => false,
        }
    }

    /// A new report run id (13 digits, like the doc's samples).
    pub(super) fn run_id(&mut self, seed: u64) -> String {
        let n = self.next();
        (6_000_000_000_000 + seed::below(seed, &[seed::text("run"), n], 999_999_999) * 1000 + n % 1000)
            .to_string()
    }

    /// Takes one injected error, if any is planned.
    pub(super) fn take_injected(&mut self) -> Option<(i64, Option<i64>)> {
        let first = self.injected.first_mut()?;
        let taken = (first.0, first.1);
        first.2 = first.2.saturating_sub(1);
        if first.2 == 0 {
            self.injected.remove(0);
        }
        Some(taken)
    }
}
