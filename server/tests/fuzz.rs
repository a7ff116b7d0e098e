//! Fuzzing every parser of untrusted input: the view and audit queries, the app's wire JSON, the
//! `Range` header, base64, instants and ids, the ingest body and the Genesys bodies.
//!
//! Each target mutates a few valid inputs (bit flips, inserted and deleted bytes, splices,
//! repeats, bytes that parsers care about) and feeds them to the parser; a panic fails the test
//! and prints the input. Where a parser promises more than not panicking, the target checks
//! that too (a view state round-trips through its query; a range lies inside the file). `cargo
//! test` runs each target for a moment; `cargo xtask fuzz` runs them for as long as
//! `HOLDFAST_FUZZ_SECONDS` says (per target). The random seed is printed, and
//! `HOLDFAST_FUZZ_SEED` replays it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use holdfast_core::api::{ConversationDetails, ConversationPage, IngestConversation, Me};
use holdfast_core::api::{ProtectResponse, SummaryResponse};
use holdfast_core::audit::AuditQuery;
use holdfast_core::genesys::{
    AuditQueryRequest, ConversationDeletionProtectionQuery, RecordingUpdate,
};
use holdfast_core::view::{Filters, ViewState};

/// xorshift64*: enough randomness for mutations, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes parsers of these formats treat specially.
const INTERESTING: &[&[u8]] = &[
    b"%",
    b"%FF",
    b"%00",
    b"%2",
    b"&",
    b"=",
    b"==",
    b"+",
    b"-",
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"true",
    b"1e309",
    b"-0",
    b"18446744073709551616",
    b"9223372036854775808",
    b"bytes=",
    b"0-",
    b"-1",
    b"T",
    b"Z",
    b"+99:99",
    b"\xff",
    b"\xc3",
    b"\x00",
    b" ",
    b"\n",
    b"\r\n",
    b"\xf0\x9f\x98\x80",
    b"\xe2\x80\xae",
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let bytes = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, bytes.iter().copied());
            }
            3 => {
                let other = seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let to = (from + rng.below(32)).min(other.len());
                out.splice(at..at, other[from..to].iter().copied());
            }
            4 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                let piece = out[at.min(end)..end].to_vec();
                for _ in 0..rng.below(64) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5 => out.insert(at, rng.next() as u8),
            _ => out.truncate(at),
        }
    }
    out.truncate(64 * 1024);
    out
}

/// How long each target runs.
fn budget() -> Duration {
    let seconds: f64 = std::env::var("HOLDFAST_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.3);
    Duration::from_secs_f64(seconds)
}

/// Runs `check` on mutations of `seeds` for the budget; fails on the first panic.
fn fuzz(name: &str, seeds: &[&str], check: impl Fn(&[u8])) {
    let seed = std::env::var("HOLDFAST_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            nanos | 1
        });
    let mut rng = Rng(seed);
    let seeds: Vec<&[u8]> = seeds.iter().map(|s| s.as_bytes()).collect();
    let started = Instant::now();
    let mut runs = 0u64;
    let mut input: Vec<u8> = seeds[0].to_vec();
    while started.elapsed() < budget() || runs < 200 {
        // Mostly mutate the last input further; now and then start again from a seed.
        if rng.below(8) == 0 {
            input = seeds[rng.below(seeds.len())].to_vec();
        }
        input = mutate(&mut rng, &input, &seeds);
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        if outcome.is_err() {
            panic!(
                "fuzz target {name} panicked (HOLDFAST_FUZZ_SEED={seed}) on {:?}",
                String::from_utf8_lossy(&input)
            );
        }
        runs += 1;
    }
    eprintln!("fuzz {name}: {runs} inputs, 0 crashes (seed {seed})");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn view_queries_parse_or_are_refused_and_round_trip() {
    fuzz(
        "view query",
        &[
            "protected=yes&sort=-duration&page=2&size=50",
            "from=2026-10-01T00:00:00Z&to=2026-10-15T00:00:00Z&media=chat,call&queue=Billing%20EU",
            "agent=Chen&remote=%2B1%20555&recorded=no&deletedBefore=2027-01-01T00:00:00.000Z&columns=queue,agent",
            "direction=outbound&sort=deletion",
        ],
        |input| {
            let query = text(input);
            if let Ok(view) = ViewState::from_query(&query) {
                assert_eq!(
                    ViewState::from_query(&view.to_query()).as_ref(),
                    Ok(&view),
                    "{query}"
                );
            }
            let _ = Filters::from_query(&query);
        },
    );
}

#[test]
fn audit_queries_parse_or_are_refused() {
    fuzz(
        "audit query",
        &[
            "action=RevokeProtection&user=Maria%20M&from=2026-11-01T00:00:00.000Z&page=2&size=10",
            "conversation=6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11&to=2027-01-01T00:00:00Z",
        ],
        |input| {
            if let Ok(q) = AuditQuery::from_query(&text(input)) {
                let _ = AuditQuery::from_query(&q.filters_query()).expect("its own filters parse");
            }
        },
    );
}

#[test]
fn the_apps_wire_json_decodes_or_is_refused() {
    fuzz(
        "wire json",
        &[
            r#"{"entities":[{"id":"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","startTime":"2026-11-20T10:00:00.000Z","endTime":"2026-11-20T10:05:00.000Z","durationMs":300000,"direction":"inbound","queue":"Billing","agents":["Ana"],"remoteParty":null,"wrapUp":null,"media":["call"],"recordingCount":1,"protected":false,"deletionDate":null}],"total":1,"totalExact":true,"page":1,"pageSize":25}"#,
            r#"{"summary":{"protected":1,"protectable":{"exact":2},"withoutRecording":{"moreThan":10000},"pastDueRecordings":0},"org":{"protected":40,"cap":1000}}"#,
            r#"{"changed":3,"unchanged":{"moreThan":7},"outcomes":[],"org":{"protected":43,"cap":1000}}"#,
            r#"{"userId":"00000000-0000-4000-8000-0000000000aa","username":"m","displayName":"M","orgId":"00000000-0000-4000-8000-000000000001","orgName":"N","permissions":["recording:recording:view"]}"#,
            r#"[1, -2.5e10, "\u00e9\ud83d\ude00", true, null, {"a": [[]]}]"#,
        ],
        |input| {
            let json = text(input);
            let _ = holdfast_core::wire::Json::parse(&json);
            let _ = holdfast_core::wire::decode::<ConversationPage>(&json);
            let _ = holdfast_core::wire::decode::<SummaryResponse>(&json);
            let _ = holdfast_core::wire::decode::<ProtectResponse>(&json);
            let _ = holdfast_core::wire::decode::<ConversationDetails>(&json);
            let _ = holdfast_core::wire::decode::<Me>(&json);
        },
    );
}

#[test]
fn ranges_are_inside_the_file_or_refused() {
    fuzz(
        "range",
        &[
            "bytes=0-99",
            "bytes=5-",
            "bytes=-500",
            "bytes=0-0,5-9",
            "bytes=18446744073709551615-",
        ],
        |input| {
            let header = text(input);
            for size in [0u64, 1, 100, 1 << 40] {
                if let Some((start, end)) = holdfast_server::media::parse_range(&header, size) {
                    assert!(
                        start <= end && end < size,
                        "{header} of {size}: {start}-{end}"
                    );
                }
            }
        },
    );
}

#[test]
fn base64_instants_and_ids_parse_or_are_refused() {
    fuzz(
        "base64, instants, ids",
        &[
            "UklGRi1wcmV0ZW5kLWF1ZGlv",
            "YWJj==",
            "2026-12-01T19:49:24.695272+00:00",
            "2026-11-20T10:00:00Z",
            "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11",
        ],
        |input| {
            let t = text(input);
            let _ = holdfast_server::auth::base64_decode(&t);
            let _ = holdfast_server::auth::basic_credentials(&format!("Basic {t}"));
            let _ = holdfast_core::time::parse(&t);
            let _ = holdfast_core::ConversationId::parse(&t);
            let _ = holdfast_core::content::inert(&t);
        },
    );
}

#[test]
fn ingest_and_genesys_bodies_parse_or_are_refused() {
    fuzz(
        "request bodies",
        &[
            r#"{"id":"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","startTime":"2026-11-20T10:00:00Z","endTime":"2026-11-20T10:05:00Z","direction":"inbound","queue":"Legal","agents":["Ana Berg"],"remoteParty":"+1 555 0100","recordings":[{"id":"7a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","media":"call","role":"policy","durationMs":300000,"mediaBase64":"UklGRg==","contentType":"audio/wav","attachments":[{"name":"a.pdf","contentType":"application/pdf","dataBase64":"JVBERg=="}]}]}"#,
            r#"{"conversationIds":["6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","x"]}"#,
            r#"{"deleteDate":"2026-12-01T19:49:24.695272+00:00","archiveDate":null,"exportDate":null}"#,
            r#"{"interval":"2026-01-01T00:00:00Z/2027-01-01T00:00:00Z","serviceName":"Quality","filters":[{"property":"Action","value":"ApplyProtection"}]}"#,
        ],
        |input| {
            if let Ok(c) = serde_json::from_slice::<IngestConversation>(input) {
                for r in &c.recordings {
                    if let Some(b) = &r.media_base64 {
                        let _ = holdfast_server::auth::base64_decode(&b.0);
                    }
                }
            }
            if let Ok(q) = serde_json::from_slice::<ConversationDeletionProtectionQuery>(input) {
                let _ = q.ids();
            }
            if let Ok(u) = serde_json::from_slice::<RecordingUpdate>(input) {
                let _ = u.delete_date_change(None);
                let _ = u.delete_date_change(holdfast_core::time::parse("2026-12-01T00:00:00Z"));
            }
            let _ = serde_json::from_slice::<AuditQueryRequest>(input);
        },
    );
}
