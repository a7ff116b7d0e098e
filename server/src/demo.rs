//! Demo data: two organizations, users with different roles, and a few thousand realistic
//! conversations with recordings of every media type. Deterministic: the same seed gives the
//! same data, so tests and screenshots are repeatable.

use chrono::{Duration, TimeZone, Utc};
use holdfast_core::time::Instant;
use holdfast_core::{ConversationId, Direction, Media, OrgId, RecordingId, RecordingRole, UserId};
use uuid::Uuid;

use crate::auth;
use crate::store::{FillItem, NewConversation, NewOrg, NewRecording, NewUser, Store, StoreResult};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "holdfast-demo";

/// A demo login, printed at start.
pub struct DemoLogin {
    pub username: &'static str,
    pub org: &'static str,
    pub role: &'static str,
}

pub const NORTHWIND: &str = "Northwind Contact Center";
pub const CONTOSO: &str = "Contoso Support";

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin {
        username: "manager",
        org: NORTHWIND,
        role: "manager",
    },
    DemoLogin {
        username: "supervisor",
        org: NORTHWIND,
        role: "supervisor",
    },
    DemoLogin {
        username: "analyst",
        org: NORTHWIND,
        role: "analyst",
    },
    DemoLogin {
        username: "admin",
        org: NORTHWIND,
        role: "admin",
    },
    DemoLogin {
        username: "contoso.manager",
        org: CONTOSO,
        role: "manager",
    },
];

/// SplitMix64: a tiny, good-enough generator for demo data; ten lines instead of a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn uuid(&mut self) -> Uuid {
        let bytes = (u128::from(self.next()) << 64) | u128::from(self.next());
        uuid::Builder::from_random_bytes(bytes.to_le_bytes()).into_uuid()
    }
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jun", "Keira",
    "Luis", "Maya", "Nils", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Yusuf", "Zoë",
];
const LAST: &[&str] = &[
    "Alvarez", "Berg", "Chen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka",
    "Novak",
];
const QUEUES: &[&str] = &[
    "Sales",
    "Support",
    "Billing",
    "Retention",
    "Technical Support",
    "Complaints",
    "Collections",
];
const WRAP_UPS: &[&str] = &[
    "Resolved",
    "Escalated",
    "Callback scheduled",
    "Refund issued",
    "Sale closed",
    "No answer",
    "Complaint logged",
    "Transferred",
];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "corp.example.net"];

fn remote_party(rng: &mut Rng, media: Media) -> String {
    match media {
        Media::Call | Media::Screen => {
            format!(
                "+1 {} {:03} {:04}",
                200 + rng.below(700),
                rng.below(1000),
                rng.below(10000)
            )
        }
        Media::Email => format!(
            "{}.{}@{}",
            rng.pick(FIRST).to_lowercase(),
            rng.pick(LAST).to_lowercase(),
            rng.pick(DOMAINS)
        ),
        Media::Chat => format!(
            "web-chat:{}{}",
            rng.pick(FIRST).to_lowercase(),
            rng.below(1000)
        ),
        Media::Message => format!("+44 7{:03} {:06}", rng.below(1000), rng.below(1_000_000)),
    }
}

fn transcript(rng: &mut Rng, agent: &str, media: Media) -> Option<String> {
    if !media.is_text() {
        return None;
    }
    let lines = [
        "Hello, I have a question about my last invoice.",
        "Of course, could you give me your account number?",
        "It is on the letter: 4471-2290.",
        "Thank you. I can see a duplicate charge; I will refund it today.",
        "Great, thanks for your help!",
    ];
    let n = 2 + rng.below(4) as usize;
    let text: Vec<String> = lines
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, l)| format!("{}: {l}", if i % 2 == 0 { "Customer" } else { agent }))
        .collect();
    Some(text.join("\n"))
}

/// Conversations generated at a time: never more than this in memory.
const CHUNK: usize = 20_000;

/// Generates the conversations `from..to` of one organization, ending before `now`; the first
/// `protect` protectable ones are protected (`protected` counts them across calls).
fn conversations(
    rng: &mut Rng,
    (from, to): (usize, usize),
    now: Instant,
    (protect, protected): (usize, &mut usize),
    agents: &[String],
) -> Vec<NewConversation> {
    let mut out = Vec::with_capacity(to - from);
    for i in from..to {
        // Spread over the last 200 days.
        let start = now - Duration::seconds(rng.below(200 * 86_400) as i64 + 600);
        let primary = *rng.pick(&[
            Media::Call,
            Media::Call,
            Media::Call,
            Media::Chat,
            Media::Email,
            Media::Message,
        ]);
        let duration_s = match primary {
            Media::Call => 45 + rng.below(1500),
            Media::Chat | Media::Message => 120 + rng.below(2400),
            _ => 30 + rng.below(600),
        } as i64;
        let end = start + Duration::seconds(duration_s);
        let agent = rng.pick(agents).clone();
        let mut names = vec![agent.clone()];
        if rng.chance(15) {
            names.push(rng.pick(agents).clone());
            names.dedup();
        }
        let mut recordings = Vec::new();
        // About 8% have no recording; a few have only an ad hoc one.
        if !rng.chance(8) {
            let mut media = vec![primary];
            if primary == Media::Call && rng.chance(20) {
                media.push(Media::Screen);
            }
            for m in media {
                let role = if rng.chance(5) {
                    RecordingRole::Adhoc
                } else {
                    RecordingRole::Policy
                };
                // Retention: calls 180 days, screens 90, text 120; some kept forever.
                let days = match m {
                    Media::Call => 180,
                    Media::Screen => 90,
                    _ => 120,
                };
                let delete_date = (!rng.chance(10)).then(|| start + Duration::days(days));
                let past_due = delete_date.is_some_and(|d| d < now);
                recordings.push(NewRecording {
                    id: RecordingId::from_uuid(rng.uuid()),
                    media: m,
                    role,
                    created_at: end,
                    duration_ms: (!m.is_text()).then_some(duration_s as u64 * 1000),
                    size_bytes: Some(if m.is_text() {
                        2_000 + rng.below(20_000)
                    } else {
                        duration_s as u64 * 16_000
                    }),
                    // Past due and unprotected ones were mostly swept already.
                    deleted: past_due && rng.chance(60),
                    delete_date,
                    transcript: transcript(rng, &agent, m),
                    media_path: None,
                    media_sha256: None,
                    content_type: None,
                    attachments: Vec::new(),
                });
            }
        }
        let protectable = recordings
            .iter()
            .any(|r| r.role == RecordingRole::Policy && !r.deleted);
        let protected_by = (*protected < protect && protectable).then(|| {
            *protected += 1;
            (
                "manager".to_owned(),
                Some(format!("Case 2026-{:03}", 100 + i % 37)),
            )
        });
        out.push(NewConversation {
            id: ConversationId::from_uuid(rng.uuid()),
            start_time: start,
            end_time: end,
            direction: if rng.chance(70) {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            queue: rng.chance(95).then(|| rng.pick(QUEUES).to_string()),
            agents: names,
            remote_party: Some(remote_party(rng, primary)),
            wrap_up: rng.chance(90).then(|| rng.pick(WRAP_UPS).to_string()),
            recordings,
            protected_by,
        });
    }
    out
}

fn people(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..n)
        .map(|_| format!("{} {}", rng.pick(FIRST), rng.pick(LAST)))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Fills an empty store: Northwind with `size` conversations (40 of them protected), Contoso with
/// a fifth as many. Returns the number of conversations written.
pub fn seed(store: &dyn Store, size: usize, now: Instant) -> StoreResult<usize> {
    let mut demo = Demo {
        rng: Rng(0x4F1D_FA57),
        hash: auth::hash_password(DEMO_PASSWORD),
        now,
        orgs: vec![(NORTHWIND, size, 40), (CONTOSO, size / 5, 12)].into(),
        current: None,
        pending: std::collections::VecDeque::new(),
        written: 0,
    };
    store.bulk_load(true)?;
    store.fill(&mut demo)?;
    store.bulk_load(false)?;
    store.analyze()?;
    Ok(demo.written)
}

/// The organization whose conversations are being generated.
struct Current {
    org: OrgId,
    agents: Vec<String>,
    next: usize,
    count: usize,
    protect: usize,
    protected: usize,
}

/// The demo data as the items [`Store::fill`] writes, generated as it asks for them: one chunk
/// of conversations in memory at a time.
struct Demo {
    rng: Rng,
    hash: String,
    now: Instant,
    /// Organizations still to start: name, conversations, how many to protect.
    orgs: std::collections::VecDeque<(&'static str, usize, usize)>,
    current: Option<Current>,
    pending: std::collections::VecDeque<FillItem>,
    written: usize,
}

impl Demo {
    /// Queues an organization and its users, and makes it current.
    fn start(&mut self, name: &'static str, count: usize, protect: usize) {
        let org = OrgId::from_uuid(self.rng.uuid());
        self.pending.push_back(FillItem::Org(NewOrg {
            id: org,
            name: name.to_owned(),
            cap: 1000,
        }));
        for login in LOGINS.iter().filter(|l| l.org == name) {
            let display = match login.role {
                "manager" => "Maria Manager",
                "supervisor" => "Sam Supervisor",
                "analyst" => "Alex Analyst",
                _ => "Ada Admin",
            };
            self.pending.push_back(FillItem::User(NewUser {
                id: UserId::from_uuid(self.rng.uuid()),
                org_id: org,
                username: login.username.to_owned(),
                display_name: display.to_owned(),
                password_hash: self.hash.clone(),
                roles: vec![(
                    login.role.to_owned(),
                    auth::role_permissions(login.role).unwrap_or_default(),
                )],
            }));
        }
        let agents = people(&mut self.rng, 24);
        self.current = Some(Current {
            org,
            agents,
            next: 0,
            count,
            protect,
            protected: 0,
        });
    }
}

impl Iterator for Demo {
    type Item = FillItem;

    fn next(&mut self) -> Option<FillItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            match &mut self.current {
                Some(c) if c.next < c.count => {
                    let range = (c.next, (c.next + CHUNK).min(c.count));
                    let chunk = conversations(
                        &mut self.rng,
                        range,
                        self.now,
                        (c.protect, &mut c.protected),
                        &c.agents,
                    );
                    c.next = range.1;
                    self.written += chunk.len();
                    return Some(FillItem::Conversations(c.org, chunk));
                }
                _ => {
                    let (name, count, protect) = self.orgs.pop_front()?;
                    self.start(name, count, protect);
                }
            }
        }
    }
}

/// A fixed "now" for tests that want the same data every run.
pub fn fixed_now() -> Instant {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}
