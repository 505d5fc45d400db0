//! Intake screening (MIN-3): free text submitted through intake channels (notes, contact records) is
//! rejected if it contains a payment card number or another configured sensitive pattern, before anything
//! of it is stored.
//!
//! Errors say what was found and where (a byte offset), never the text itself.
//!
//! # Card numbers
//!
//! The text is split into tokens: runs of letters, digits and `_`, where a `.` or `,` between two digits
//! joins (so `1700000000.123` is one token). A card number is one token of 13 to 19 ASCII digits, or a
//! few digit-only tokens separated by a single space or a single dash (the same one throughout) in a
//! card-like grouping: 4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, 4-4-4-1..4. Digits touching letters or other
//! digits are part of a longer token and do not count. The digits must pass the Luhn check and start with
//! an issuer prefix at a length that issuer uses:
//!
//! | issuer | prefixes | lengths |
//! |---|---|---|
//! | Visa | 4 | 13, 16, 19 |
//! | Mastercard | 51–55, 2221–2720 | 16 |
//! | American Express | 34, 37 | 15 |
//! | Discover | 6011, 644–649, 65 | 16–19 |
//! | JCB | 3528–3589 | 16–19 |
//! | Diners Club | 300–305, 36, 38–39 | 14–19 |
//! | UnionPay | 62 | 16–19 |
//! | Maestro | 50, 56–58, 6 | 13–19 |
//!
//! Known look-alikes are excluded: 18-digit numbers starting with 57 or 58 are TikTok Shop order ids
//! (Maestro numbers of that shape are vanishingly rare), and digit groups that continue an IBAN
//! (`DE89 3704 0044 …`) are account numbers, not cards. Amazon (`3-7-7`) and eBay (`2-5-5`) order ids,
//! phone numbers, timestamps, dates and UUIDs do not match the groupings or prefixes.

use std::fmt;

/// Longest configured pattern name, in characters.
pub const MAX_PATTERN_NAME_CHARS: usize = 64;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 100;
/// Longest digit run a pattern may ask for.
pub const MAX_DIGIT_RUN: usize = 64;

/// What was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A payment card number.
    CardNumber,
    /// A configured [`SensitivePattern`], by name.
    Pattern(String),
}

/// One sensitive item in the text: its kind and byte range. Holds no part of the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finding {
    pub kind: FindingKind,
    /// Byte offset of the first character.
    pub start: usize,
    /// Length in bytes.
    pub len: usize,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FindingKind::CardNumber => write!(f, "a payment card number at byte {}", self.start),
            FindingKind::Pattern(name) => write!(f, "sensitive pattern `{name}` at byte {}", self.start),
        }
    }
}

/// Why text was refused. The message lists every finding and never echoes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("text contains {}", crate::id::join(.0.iter(), ", "))]
    Rejected(Vec<Finding>),
}

/// Why a sensitive pattern cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    #[error("pattern name is empty")]
    EmptyName,
    #[error("pattern name is longer than {MAX_PATTERN_NAME_CHARS} characters")]
    NameTooLong,
    #[error("pattern name contains a control character or a backtick")]
    NameBadChar,
    #[error("keyword is empty")]
    EmptyKeyword,
    #[error("keyword is longer than {MAX_KEYWORD_CHARS} characters")]
    KeywordTooLong,
    #[error("keyword must start and end with a letter or digit and contain no control characters")]
    KeywordBadChar,
    #[error("digit run must have 1 <= min <= max <= {MAX_DIGIT_RUN}, got {min} and {max}")]
    DigitRange { min: usize, max: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// Case-insensitive whole word (or phrase).
    Keyword(Vec<char>),
    /// A token of `min..=max` ASCII digits, no separators.
    DigitRun { min: usize, max: usize },
}

/// A configured sensitive pattern, beyond card numbers. Built with the validating constructors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivePattern {
    name: String,
    rule: Rule,
}

fn check_name(name: &str) -> Result<(), PatternError> {
    if name.trim().is_empty() {
        return Err(PatternError::EmptyName);
    }
    if name.chars().count() > MAX_PATTERN_NAME_CHARS {
        return Err(PatternError::NameTooLong);
    }
    if name.chars().any(|c| c.is_control() || c == '`') {
        return Err(PatternError::NameBadChar);
    }
    Ok(())
}

impl SensitivePattern {
    /// A case-insensitive whole word or phrase, e.g. `keyword("password", "password")`. The word must start
    /// and end with a letter or digit.
    pub fn keyword(name: impl Into<String>, word: &str) -> Result<Self, PatternError> {
        let name = name.into();
        check_name(&name)?;
        let chars: Vec<char> = word.chars().collect();
        let (Some(first), Some(last)) = (chars.first(), chars.last()) else {
            return Err(PatternError::EmptyKeyword);
        };
        if chars.len() > MAX_KEYWORD_CHARS {
            return Err(PatternError::KeywordTooLong);
        }
        if !first.is_alphanumeric() || !last.is_alphanumeric() || chars.iter().any(|c| c.is_control()) {
            return Err(PatternError::KeywordBadChar);
        }
        Ok(Self { name, rule: Rule::Keyword(chars) })
    }

    /// A standalone run of `min..=max` digits with no separators, e.g. a 9-digit national id.
    pub fn digit_run(name: impl Into<String>, min: usize, max: usize) -> Result<Self, PatternError> {
        let name = name.into();
        check_name(&name)?;
        if min == 0 || min > max || max > MAX_DIGIT_RUN {
            return Err(PatternError::DigitRange { min, max });
        }
        Ok(Self { name, rule: Rule::DigitRun { min, max } })
    }

    /// The name reported in findings.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Screens `text`: `Ok(())` if it holds no card number and matches none of `patterns`, else every finding
/// in order of position.
pub fn screen(text: &str, patterns: &[SensitivePattern]) -> Result<(), IntakeError> {
    let tokens = tokenize(text);
    let mut findings = card_findings(text, &tokens);
    for pattern in patterns {
        match &pattern.rule {
            Rule::Keyword(word) => keyword_findings(text, word, &pattern.name, &mut findings),
            Rule::DigitRun { min, max } => {
                for t in tokens.iter().filter(|t| t.digits_only && (*min..=*max).contains(&(t.end - t.start)))
                {
                    findings.push(Finding {
                        kind: FindingKind::Pattern(pattern.name.clone()),
                        start: t.start,
                        len: t.end - t.start,
                    });
                }
            }
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        findings.sort_by(|a, b| (a.start, a.len, &a.kind).cmp(&(b.start, b.len, &b.kind)));
        findings.dedup();
        Err(IntakeError::Rejected(findings))
    }
}

/// A run of word characters: `[start, end)` in bytes.
#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    /// Only ASCII digits (no letters, no joined `.`/`,`).
    digits_only: bool,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let byte = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        if !is_word(c) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits_only = true;
        while let Some(c) = at(i) {
            if is_word(c) {
                digits_only &= c.is_ascii_digit();
            } else if matches!(c, '.' | ',')
                && i > start
                && at(i - 1).is_some_and(|p| p.is_ascii_digit())
                && at(i + 1).is_some_and(|n| n.is_ascii_digit())
            {
                digits_only = false;
            } else {
                break;
            }
            i += 1;
        }
        tokens.push(Token { start: byte(start), end: byte(i), digits_only });
    }
    tokens
}

/// The card-like groupings, as group lengths.
fn is_card_grouping(groups: &[usize]) -> bool {
    match groups {
        [n] => (13..=19).contains(n),
        [4, 4, 4, 4, 3] | [4, 6, 5] | [4, 6, 4] => true,
        [4, 4, 4, n] => (1..=4).contains(n),
        _ => false,
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `digits` start with an issuer prefix at a length that issuer uses (see the module docs).
fn issuer_accepts(digits: &[u8]) -> bool {
    let prefix = |k: usize| digits.iter().take(k).fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    let n = digits.len();
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    let visa = p1 == 4 && matches!(n, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = matches!(p2, 34 | 37) && n == 15;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && (16..=19).contains(&n);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&n);
    let diners = ((300..=305).contains(&p3) || p2 == 36 || (38..=39).contains(&p2)) && (14..=19).contains(&n);
    let unionpay = p2 == 62 && (16..=19).contains(&n);
    let tiktok_order_id = n == 18 && matches!(p2, 57 | 58);
    let maestro =
        (p2 == 50 || (56..=58).contains(&p2) || p1 == 6) && (13..=19).contains(&n) && !tiktok_order_id;
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
}

/// Whether the token before `index` continues back to an IBAN country-and-check group (`DE89`) through
/// single-space-separated groups of four letters or digits.
fn continues_iban(text: &str, tokens: &[Token], index: usize) -> bool {
    let mut k = index;
    while k > 0 {
        let (Some(prev), Some(cur)) = (tokens.get(k - 1), tokens.get(k)) else { return false };
        if text.get(prev.end..cur.start) != Some(" ") {
            return false;
        }
        let group = text.get(prev.start..prev.end).unwrap_or_default().as_bytes();
        match group {
            [a, b, c, d]
                if a.is_ascii_alphabetic()
                    && b.is_ascii_alphabetic()
                    && c.is_ascii_digit()
                    && d.is_ascii_digit() =>
            {
                return true;
            }
            [_, _, _, _] if group.iter().all(u8::is_ascii_alphanumeric) => k -= 1,
            _ => return false,
        }
    }
    false
}

fn card_findings(text: &str, tokens: &[Token]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match card_at(text, tokens, i) {
            Some(last) => {
                let (start, end) = (tokens[i].start, tokens[last].end);
                findings.push(Finding { kind: FindingKind::CardNumber, start, len: end - start });
                i = last + 1;
            }
            None => i += 1,
        }
    }
    findings
}

/// The index of the last token of the longest card number starting at token `first`, if any.
fn card_at(text: &str, tokens: &[Token], first: usize) -> Option<usize> {
    let mut separator: Option<&str> = None;
    let mut groups = Vec::with_capacity(5);
    let mut candidates = Vec::with_capacity(5);
    for (index, token) in tokens.iter().enumerate().skip(first).take(5) {
        if !token.digits_only {
            break;
        }
        if index > first {
            let prev = tokens.get(index - 1)?;
            let gap = text.get(prev.end..token.start)?;
            if !matches!(gap, " " | "-") || separator.is_some_and(|s| s != gap) {
                break;
            }
            separator = Some(gap);
        }
        groups.push(token.end - token.start);
        if is_card_grouping(&groups) {
            candidates.push(index);
        }
    }
    let digits_of = |last: usize| -> Vec<u8> {
        tokens[first..=last]
            .iter()
            .flat_map(|t| text.get(t.start..t.end).unwrap_or_default().bytes())
            .map(|b| b - b'0')
            .collect()
    };
    let found = candidates.into_iter().rev().find(|last| {
        let digits = digits_of(*last);
        luhn(&digits) && issuer_accepts(&digits)
    })?;
    (!continues_iban(text, tokens, first)).then_some(found)
}

/// Case-insensitive whole-word matches of `word`, compared character by character so byte offsets refer
/// to the original text.
fn keyword_findings(text: &str, word: &[char], name: &str, findings: &mut Vec<Finding>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut i = 0;
    while i < chars.len() {
        let at_boundary = i == 0 || chars.get(i - 1).is_none_or(|(_, p)| !is_word(*p));
        let matched = at_boundary
            && word.len() <= chars.len() - i
            && word.iter().zip(&chars[i..]).all(|(w, (_, c))| same(*w, *c))
            && chars.get(i + word.len()).is_none_or(|(_, n)| !is_word(*n));
        if matched {
            let start = chars[i].0;
            let end = chars.get(i + word.len()).map_or(text.len(), |(b, _)| *b);
            findings.push(Finding { kind: FindingKind::Pattern(name.to_owned()), start, len: end - start });
            i += word.len();
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests;
