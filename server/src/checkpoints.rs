//! Signed checkpoints of the audit chains (rule 9), kept outside the database.
//!
//! Whoever can write the database can rewrite a chain from any event and recompute every later
//! hash and the head, and the chain still verifies. So the server signs each organization's
//! verified head with an Ed25519 key kept in a file outside the data directory, and appends the
//! signed checkpoint to a file of its own (one JSON line each, opened for appending only).
//! `holdfast audit verify` checks every chain against every checkpoint whose signature holds, and
//! names the first event after the last checkpoint that still matches. The file is plain text: a
//! copy kept elsewhere (a WORM bucket, a court filing) is checked the same way.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use holdfast_core::OrgId;
use holdfast_core::audit::{ChainHash, Checkpoint};
use serde::{Deserialize, Serialize};

/// One line of the checkpoint file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(flatten)]
    checkpoint: Checkpoint,
    /// The Ed25519 signature of [`Checkpoint::signed_bytes`], in hex.
    signature: String,
}

/// Why the key or the checkpoint file could not be used.
#[derive(Debug)]
pub enum CheckpointError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file does not hold 64 hex digits.
    BadKey { path: PathBuf },
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CheckpointError::BadKey { path } => write!(
                f,
                "{}: not an audit signing key (64 hex digits)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            CheckpointError::BadKey { .. } => None,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The signing key in `path`, made (32 random bytes in hex, readable by the owner only) when
/// the file does not exist.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, CheckpointError> {
    match std::fs::read_to_string(path) {
        Ok(text) => unhex::<32>(&text)
            .map(|seed| SigningKey::from_bytes(&seed))
            .ok_or(CheckpointError::BadKey {
                path: path.to_owned(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let seed: [u8; 32] = crate::auth::random_bytes();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io(path))?;
            file.write_all(format!("{}\n", hex(&seed)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io(path))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// A public key given as 64 hex digits.
pub fn public_key(text: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&unhex::<32>(text)?).ok()
}

/// The public key's hex, as printed for whoever verifies.
pub fn public_hex(key: &VerifyingKey) -> String {
    hex(key.as_bytes())
}

/// What a checkpoint file holds: the checkpoints whose signature holds, by organization, and a
/// line for each one that does not (an edited or forged checkpoint).
#[derive(Default)]
pub struct Checkpoints {
    pub by_org: HashMap<OrgId, Vec<Checkpoint>>,
    pub bad_lines: Vec<String>,
}

/// Reads a checkpoint file (none yet is an empty file) and checks each line's signature.
pub fn read(path: &Path, key: &VerifyingKey) -> Result<Checkpoints, CheckpointError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Checkpoints::default()),
        Err(e) => return Err(io(path)(e)),
    };
    let mut out = Checkpoints::default();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let checked = serde_json::from_str::<Line>(&line).ok().and_then(|l| {
            let signature = Signature::from_bytes(&unhex::<64>(&l.signature)?);
            key.verify(&l.checkpoint.signed_bytes(), &signature)
                .ok()
                .map(|()| l.checkpoint)
        });
        match checked {
            Some(c) => out.by_org.entry(c.org).or_default().push(c),
            None => out.bad_lines.push(format!(
                "line {} of {} is not a checkpoint signed by this key",
                n + 1,
                path.display()
            )),
        }
    }
    Ok(out)
}

/// Signs verified chain heads and appends them to the checkpoint file, once per new head.
pub struct Checkpointer {
    key: SigningKey,
    path: PathBuf,
    /// The last `seq` signed for each organization.
    signed: Mutex<HashMap<OrgId, u64>>,
}

impl Checkpointer {
    /// Ready to append to `path`, knowing what it already holds.
    pub fn open(key: SigningKey, path: PathBuf) -> Result<Checkpointer, CheckpointError> {
        let known = read(&path, &key.verifying_key())?;
        let signed = known
            .by_org
            .iter()
            .map(|(org, list)| (*org, list.iter().map(|c| c.seq).max().unwrap_or(0)))
            .collect();
        Ok(Checkpointer {
            key,
            path,
            signed: Mutex::new(signed),
        })
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs `(seq, hash)` of `org`'s chain, verified by the caller, when it is past the last
    /// head signed; appended and synced before it counts as signed.
    pub fn sign(
        &self,
        org: OrgId,
        seq: u64,
        hash: ChainHash,
        now: holdfast_core::time::Instant,
    ) -> Result<bool, CheckpointError> {
        let mut signed = self.signed.lock().unwrap_or_else(|p| p.into_inner());
        if seq == 0 || signed.get(&org).is_some_and(|s| *s >= seq) {
            return Ok(false);
        }
        let checkpoint = Checkpoint {
            org,
            seq,
            hash: hash.to_hex(),
            time: now,
        };
        let signature = hex(&self.key.sign(&checkpoint.signed_bytes()).to_bytes());
        let line = serde_json::to_string(&Line {
            checkpoint,
            signature,
        })
        .map_err(|e| io(&self.path)(std::io::Error::other(e)))?;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        file.write_all(format!("{line}\n").as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(io(&self.path))?;
        signed.insert(org, seq);
        Ok(true)
    }
}
